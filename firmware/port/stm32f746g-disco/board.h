/* STM32F746G-DISCO (Cortex-M7). Clock (clock.c): by default 216 MHz from the board's 25 MHz
 * HSE crystal through the PLL, with over-drive and 7 flash wait states; HB_STM32_PLL 0 keeps
 * the 16 MHz HSI reset clock (no PLL, 0 wait states). Set it here or with -DHB_STM32_PLL=0,
 * and the target file's clock_hz to match (docs/boards.md). */
#define HB_BOARD_NAME "stm32f746g-disco"
#define HB_CPU_NAME "cortex-m7"
#ifndef HB_STM32_PLL
#define HB_STM32_PLL 1
#endif
#define HB_HSE_HZ 25000000u     /* the DISCO board's HSE crystal */
#if HB_STM32_PLL
#define HB_CLOCK_HZ 216000000u
#define HB_PCLK2_HZ 108000000u  /* APB2 = HCLK / 2: USART1's kernel clock */
#else
#define HB_CLOCK_HZ 16000000u
#define HB_PCLK2_HZ 16000000u   /* reset prescalers: every bus at HCLK */
#endif
#ifndef HB_STM32_ICACHE
#define HB_STM32_ICACHE 1       /* code is fetched from flash over AXIM: ART does not serve it */
#endif
#define HB_BAUD 115200u
#define HB_UART_RX_IRQ 37u  /* USART1 global interrupt */
#define HB_NUM_IRQS 98
