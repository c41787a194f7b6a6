/* STM32F746G-DISCO (Cortex-M7). The core runs from the internal 16 MHz HSI oscillator (the
 * reset clock): no PLL, no over-drive, flash at 0 wait states. 216 MHz needs HSE + PLL +
 * over-drive + 7 wait states, not written here blind (docs/boards.md). */
#define HB_BOARD_NAME "stm32f746g-disco"
#define HB_CPU_NAME "cortex-m7"
#define HB_CLOCK_HZ 16000000u
#define HB_BAUD 115200u
#define HB_UART_RX_IRQ 37u  /* USART1 global interrupt */
#define HB_NUM_IRQS 98
