/* mps2-an500 (Cortex-M7, 25 MHz in QEMU): the same CMSDK UART0 and memory map as mps2-an386
 * (its link.ld), the common port files. */
#define HB_BOARD_NAME "mps2-an500"
#define HB_CPU_NAME "cortex-m7"
#define HB_CLOCK_HZ 25000000u
#define HB_UART_BASE 0x40004000u
#define HB_UART_RX_IRQ 0u
#define HB_NUM_IRQS 32
