# Board builds: `make -C firmware BOARD=mps2-an386` -> build/<board>/harness.elf.
# Included from the Makefile; reuses CORE_SRCS / CORE_HDRS / CORE_CFLAGS from there.
# A board is a folder port/<board>/ with its C files and a link.ld (docs/protocol.md, port.h);
# a board may instead borrow files: PORT_SRCS_<board> adds C files from other port folders
# (port/common/ holds the shared ones), LDSCRIPT_<board> names another board's link.ld.

LINK_SRCS := $(SERVE_DIR)/link.c $(SERVE_DIR)/commands.c $(SERVE_DIR)/cmd_model.c $(SERVE_DIR)/sha256.c
BOARDS := $(filter-out common,$(notdir $(wildcard port/*)))

# Per-board CPU flags (arm-none-eabi-gcc 12).
# The QEMU MPS boards share the CMSDK UART/SysTick/startup/main files, parameterised by board.h.
QEMU_PORT_SRCS := port/common/main.c port/common/cmsdk.c port/common/startup.c
CPU_mps2-an386 := -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
PORT_SRCS_mps2-an386 := $(QEMU_PORT_SRCS)
# mps2-an500: the an386 memory map (its link.ld).
CPU_mps2-an500 := -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16
PORT_SRCS_mps2-an500 := $(QEMU_PORT_SRCS)
LDSCRIPT_mps2-an500 := port/mps2-an386/link.ld
# mps3-an547: CMSDK UART0 at another base and IRQ, its own memory map.
CPU_mps3-an547 := -mcpu=cortex-m55 -mthumb -mfloat-abi=hard
PORT_SRCS_mps3-an547 := $(QEMU_PORT_SRCS)
# stm32f746g-disco: its own USART1/DWT board.c, the common startup and main.
CPU_stm32f746g-disco := -mcpu=cortex-m7 -mthumb -mfloat-abi=hard -mfpu=fpv5-d16
PORT_SRCS_stm32f746g-disco := port/common/main.c port/common/startup.c

# The link/command layer + engine as a stdio process for tests (SAN=1 adds ASan/UBSan).
.PHONY: native-target
native-target: $(NATIVE_DIR)/hbtarget
$(NATIVE_DIR)/hbtarget: tools/native_target.c $(CORE_SRCS) $(LINK_SRCS) $(CORE_HDRS) $(SERVE_HDRS) boards.mk
	@mkdir -p $(NATIVE_DIR)
	$(CC) $(CORE_CFLAGS) -I$(SERVE_DIR) $(SAN_FLAGS) -o $@ tools/native_target.c $(CORE_SRCS) $(LINK_SRCS)

ifdef BOARD
LDSCRIPT := $(or $(LDSCRIPT_$(BOARD)),port/$(BOARD)/link.ld)
ifeq ($(filter $(BOARD),$(BOARDS)),)
$(error BOARD=$(BOARD): no folder port/$(BOARD); boards: $(BOARDS))
endif
ifeq ($(wildcard $(LDSCRIPT)),)
$(error BOARD=$(BOARD): no linker script $(LDSCRIPT); boards: $(BOARDS))
endif
.DEFAULT_GOAL := board
BOARD_DIR := build/$(BOARD)
BOARD_SRCS := $(CORE_SRCS) $(LINK_SRCS) $(wildcard port/$(BOARD)/*.c) $(PORT_SRCS_$(BOARD))
BOARD_OBJS := $(patsubst %.c,$(BOARD_DIR)/obj/%.o,$(BOARD_SRCS))
BOARD_CFLAGS := $(filter-out -O2,$(CORE_CFLAGS)) -O2 $(CPU_$(BOARD)) -ffunction-sections -fdata-sections \
  -I$(SERVE_DIR) -Iport/$(BOARD) -I$(BOARD_DIR)
BOARD_LDFLAGS := $(CPU_$(BOARD)) -nostartfiles --specs=nano.specs -Wl,--gc-sections \
  -Wl,-T,$(LDSCRIPT) -Wl,-Map,$(BOARD_DIR)/harness.map

.PHONY: board FORCE
board: $(BOARD_DIR)/harness.elf

# Build id: a hash of all that makes the image (sources, headers, linker script, flags, compiler).
# HELLO reports it; the labgrid driver flashes a board whose id differs (docs/lab.md).
# build_id.h is rewritten only when the id changes, so an unchanged tree rebuilds nothing.
BUILD_ID := $(shell (cat $(BOARD_SRCS) $(CORE_HDRS) $(SERVE_HDRS) $(wildcard port/$(BOARD)/*.h port/common/*.h) $(LDSCRIPT); \
  echo '$(BOARD_CFLAGS) $(BOARD_LDFLAGS)'; $(ARM_CC) --version | head -1) | sha256sum | cut -c1-16)
$(BOARD_DIR)/build_id.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define HB_BUILD_ID "%s"\n' '$(BUILD_ID)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BOARD_DIR)/obj/$(SERVE_DIR)/commands.o: $(BOARD_DIR)/build_id.h

$(BOARD_DIR)/obj/%.o: %.c $(CORE_HDRS) $(SERVE_HDRS) $(wildcard port/$(BOARD)/*.h port/common/*.h) boards.mk
	@mkdir -p $(dir $@)
	$(ARM_CC) $(BOARD_CFLAGS) -c $< -o $@

$(BOARD_DIR)/harness.elf: $(BOARD_OBJS) $(LDSCRIPT)
	$(ARM_CC) $(BOARD_LDFLAGS) -o $@ $(BOARD_OBJS) -lc -lgcc
	@arm-none-eabi-size $@ | tail -1

# batch.elf (QEMU MPS boards only): the engine without link or commands, running a blob of
# cases that QEMU's loader puts in RAM, outputs on UART0 (tools/batch_main.c; the bulk proofs
# of tests/firmware/test_qemu_proof.py). `make BOARD=mps2-an386 KERNELS=dsp batch`.
BATCH_SRCS := $(CORE_SRCS) port/common/cmsdk.c port/common/startup.c tools/batch_main.c
# Where QEMU's loader puts the blob: PSRAM on mps2 (the default), DDR on mps3-an547 (its SRAM2 is the arena).
BATCH_ADDR_mps3-an547 := 0x60000000u
$(BOARD_DIR)/obj/tools/batch_main.o: BOARD_CFLAGS += $(if $(BATCH_ADDR_$(BOARD)),-DHB_BATCH_ADDR=$(BATCH_ADDR_$(BOARD)))
BATCH_OBJS := $(patsubst %.c,$(BOARD_DIR)/obj/%.o,$(BATCH_SRCS))
.PHONY: batch
batch: $(BOARD_DIR)/batch.elf
$(BOARD_DIR)/batch.elf: $(BATCH_OBJS) $(LDSCRIPT)
	$(ARM_CC) $(CPU_$(BOARD)) -nostartfiles --specs=nano.specs -Wl,--gc-sections -Wl,-T,$(LDSCRIPT) \
	  -o $@ $(BATCH_OBJS) -lc -lgcc
	@arm-none-eabi-size $@ | tail -1

# A raw image for flashers that take one (st-flash, pyOCD): `make BOARD=... bin`.
.PHONY: bin
bin: $(BOARD_DIR)/harness.bin
$(BOARD_DIR)/harness.bin: $(BOARD_DIR)/harness.elf
	arm-none-eabi-objcopy -O binary $< $@
endif
