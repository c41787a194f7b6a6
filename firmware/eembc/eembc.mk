# MLPerf Tiny (EEMBC) protocol images: our engine behind the th_* API with one model compiled in
# (docs/eembc.md). Included from the Makefile after boards.mk; reuses CORE_SRCS, the board's
# objects and flags.
#   make -C firmware eembc BOARD=mps2-an386 MODEL=../shared/models/mlperf_tiny/kws_ref_model.tflite
#        [EE_MODEL=kws01] [EE_INPUT=int8|uint8|float32] [EE_RESULTS=trunc3|round3|int8|score] [EE_OUT=dir]
#   -> $(EE_OUT)/eembc.elf, default EE_OUT = build/<board>/eembc-<EE_MODEL>. EE_MODEL is what
#   `profile` announces (kws01, vww01, ic01, ad01 or any lowercase [a-z0-9] name); EE_INPUT and
#   EE_RESULTS default to that model's reference conventions (ee_api.h).
#   make -C firmware eembc-native [SAN=1] -> $(NATIVE_DIR)/eembc (stdio; model file as argument).
# MODEL reaches the recipe through the environment ("$$MODEL"), so no shell sees its characters.

EE_DIR := eembc
EE_SRCS := $(EE_DIR)/ee_serial.c $(EE_DIR)/ee_print.c $(EE_DIR)/th_engine.c
EE_HDRS := $(EE_DIR)/ee_api.h
EE_MODEL ?= kws01
EE_INPUT ?= default
EE_RESULTS ?= default
export MODEL

EE_INPUT_default := 255
EE_INPUT_int8 := 0
EE_INPUT_uint8 := 1
EE_INPUT_float32 := 2
EE_RESULTS_default := 255
EE_RESULTS_trunc3 := 0
EE_RESULTS_round3 := 1
EE_RESULTS_int8 := 2
EE_RESULTS_score := 3

# $(call ee_only,VALUE,CHARS): what is left of VALUE after removing every character in CHARS.
ee_only = $(if $(2),$(call ee_only,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,999,$(2))),$(1))
EE_LOWER := a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9
EE_PATHCH := $(EE_LOWER) A B C D E F G H I J K L M N O P Q R S T U V W X Y Z . _ - /

.PHONY: eembc eembc-native
eembc-native: $(NATIVE_DIR)/eembc
$(NATIVE_DIR)/eembc: $(EE_DIR)/ee_native.c tools/native_target.c $(EE_SRCS) $(EE_HDRS) $(CORE_SRCS) $(CORE_HDRS)
	@mkdir -p $(NATIVE_DIR)
	$(CC) $(CORE_CFLAGS) $(SAN_FLAGS) -I$(EE_DIR) -o $@ $(EE_DIR)/ee_native.c $(EE_SRCS) $(CORE_SRCS)

ifneq ($(filter eembc,$(MAKECMDGOALS)),)
ifndef BOARD
$(error make eembc needs BOARD=<board> (e.g. mps2-an386) and MODEL=<file.tflite>)
endif
ifneq ($(words $(EE_MODEL))$(call ee_only,$(EE_MODEL),$(EE_LOWER)),1)
$(error EE_MODEL=$(EE_MODEL): one name of lowercase letters and digits, e.g. kws01)
endif
ifeq ($(EE_INPUT_$(EE_INPUT)),)
$(error EE_INPUT=$(EE_INPUT): use int8, uint8, float32 or leave it unset)
endif
ifeq ($(EE_RESULTS_$(EE_RESULTS)),)
$(error EE_RESULTS=$(EE_RESULTS): use trunc3, round3, int8, score or leave it unset)
endif
EE_OUT ?= $(BOARD_DIR)/eembc-$(EE_MODEL)
ifneq ($(words $(EE_OUT))$(call ee_only,$(EE_OUT),$(EE_PATHCH)),1)
$(error EE_OUT=$(EE_OUT): a folder name of letters, digits, '.', '_', '-' and '/' only)
endif
endif

ifdef BOARD
EE_OBJS := $(patsubst %.c,$(BOARD_DIR)/obj/%.o,$(CORE_SRCS) $(EE_SRCS) $(EE_DIR)/ee_board.c \
  $(wildcard port/$(BOARD)/*.c) $(filter-out port/common/main.c,$(PORT_SRCS_$(BOARD))))

eembc: $(EE_OUT)/eembc.elf

$(BOARD_DIR)/obj/$(EE_DIR)/%.o: $(EE_DIR)/%.c $(EE_HDRS) $(CORE_HDRS) $(wildcard port/$(BOARD)/*.h)
	@mkdir -p $(dir $@)
	$(ARM_CC) $(BOARD_CFLAGS) -c $< -o $@

$(EE_OUT)/eembc.elf: $(EE_OBJS) $(EE_OUT)/model.o $(LDSCRIPT)
	$(ARM_CC) $(subst $(BOARD_DIR)/harness.map,$(EE_OUT)/eembc.map,$(BOARD_LDFLAGS)) -o $@ $(EE_OBJS) \
	  $(EE_OUT)/model.o -lc -lgcc
	@arm-none-eabi-size $@ | tail -1

$(EE_OUT)/model.o: $(EE_DIR)/model.S $(EE_OUT)/model.tflite $(EE_OUT)/config.txt
	$(ARM_CC) $(CPU_$(BOARD)) -DEE_MODEL_NAME='"$(EE_MODEL)"' -DEE_INPUT=$(EE_INPUT_$(EE_INPUT)) \
	  -DEE_RESULTS=$(EE_RESULTS_$(EE_RESULTS)) -Wa,-I,$(EE_OUT) -c $< -o $@

# Rewritten only when the content changes, so an unchanged model relinks nothing.
$(EE_OUT)/model.tflite: FORCE
	@mkdir -p $(EE_OUT)
	@test -n "$$MODEL" || { echo "make eembc: give MODEL=<file.tflite> (the model to compile in)" >&2; exit 2; }
	@test -f "$$MODEL" || { echo "make eembc: MODEL: no such file: $$MODEL" >&2; exit 2; }
	@cmp -s -- "$$MODEL" $@ || cp -- "$$MODEL" $@

$(EE_OUT)/config.txt: FORCE
	@mkdir -p $(EE_OUT)
	@echo "$(EE_MODEL) $(EE_INPUT) $(EE_RESULTS)" > $@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

.PHONY: FORCE
FORCE:
endif
