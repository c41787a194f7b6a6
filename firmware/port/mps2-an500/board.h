/* mps2-an500 (Cortex-M7, 25 MHz in QEMU). UART0, SysTick, reset and startup are those of
 * mps2-an386 (same CMSDK UART0 at 0x40004000, RX on IRQ 0): boards.mk compiles
 * port/mps2-an386/board.c and startup.c for this board too. */
#define HB_BOARD_NAME "mps2-an500"
#define HB_CPU_NAME "cortex-m7"
#define HB_CLOCK_HZ 25000000u
