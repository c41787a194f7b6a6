/* mps3-an547 (Cortex-M55, 32 MHz in QEMU): CMSDK UART0 at 0x49303000 (common/cmsdk.c). */
#define HB_BOARD_NAME "mps3-an547"
#define HB_CPU_NAME "cortex-m55"
#define HB_CLOCK_HZ 32000000u
#define HB_UART_BASE 0x49303000u
#define HB_UART_RX_IRQ 33u   /* UART0 RX, after the SSE-300's 32 internal interrupts */
#define HB_NUM_IRQS 96
