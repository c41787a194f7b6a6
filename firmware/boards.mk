# Board builds: `make -C firmware BOARD=mps2-an386` -> build/<board>/harness.elf.
# Included from the Makefile; reuses CORE_SRCS / CORE_HDRS / CORE_CFLAGS from there.
# A board is a folder port/<board>/ with its C files and a link.ld (docs/protocol.md, port.h).

LINK_SRCS := $(CORE_DIR)/link.c $(CORE_DIR)/commands.c $(CORE_DIR)/cmd_model.c $(CORE_DIR)/sha256.c
BOARDS := $(notdir $(wildcard port/*))

# Per-board CPU flags (arm-none-eabi-gcc 12).
CPU_mps2-an386 := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16

# The link/command layer + engine as a stdio process for tests (SAN=1 adds ASan/UBSan).
.PHONY: native-target
native-target: $(NATIVE_DIR)/hbtarget
$(NATIVE_DIR)/hbtarget: tools/native_target.c $(CORE_SRCS) $(LINK_SRCS) $(CORE_HDRS) boards.mk
	@mkdir -p $(NATIVE_DIR)
	$(CC) $(CORE_CFLAGS) $(SAN_FLAGS) -o $@ tools/native_target.c $(CORE_SRCS) $(LINK_SRCS)

ifdef BOARD
ifeq ($(wildcard port/$(BOARD)/link.ld),)
$(error BOARD=$(BOARD): no port/$(BOARD)/link.ld; boards: $(BOARDS))
endif
.DEFAULT_GOAL := board
BOARD_DIR := build/$(BOARD)
BOARD_SRCS := $(CORE_SRCS) $(LINK_SRCS) $(wildcard port/$(BOARD)/*.c)
BOARD_OBJS := $(patsubst %.c,$(BOARD_DIR)/obj/%.o,$(BOARD_SRCS))
BOARD_CFLAGS := $(filter-out -O2,$(CORE_CFLAGS)) -O2 $(CPU_$(BOARD)) -ffunction-sections -fdata-sections \
  -Iport/$(BOARD)
BOARD_LDFLAGS := $(CPU_$(BOARD)) -nostartfiles --specs=nano.specs -Wl,--gc-sections \
  -Wl,-T,port/$(BOARD)/link.ld -Wl,-Map,$(BOARD_DIR)/harness.map

.PHONY: board
board: $(BOARD_DIR)/harness.elf

$(BOARD_DIR)/obj/%.o: %.c $(CORE_HDRS) $(wildcard port/$(BOARD)/*.h) boards.mk
	@mkdir -p $(dir $@)
	$(ARM_CC) $(BOARD_CFLAGS) -c $< -o $@

$(BOARD_DIR)/harness.elf: $(BOARD_OBJS) port/$(BOARD)/link.ld
	$(ARM_CC) $(BOARD_LDFLAGS) -o $@ $(BOARD_OBJS) -lc -lgcc
	@arm-none-eabi-size $@ | tail -1
endif
