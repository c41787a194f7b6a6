/* mps2-an386 (Cortex-M4, 25 MHz in QEMU): CMSDK UART0 at 0x40004000, RX on IRQ 0
 * (port/common/cmsdk.c, startup.c, main.c). */
#define HB_BOARD_NAME "mps2-an386"
#define HB_CPU_NAME "cortex-m4"
#define HB_CLOCK_HZ 25000000u
#define HB_UART_BASE 0x40004000u
#define HB_UART_RX_IRQ 0u
#define HB_NUM_IRQS 32
