/* STM32F746G-DISCO core clock (clock.c): the PLL from the 25 MHz HSE crystal to 216 MHz,
 * or the 16 MHz HSI reset clock, as board.h's HB_STM32_PLL says. */
#ifndef HB_STM32_CLOCK_H
#define HB_STM32_CLOCK_H

#include <stdint.h>

#define HB_HSI_HZ 16000000u

/* Sets the clock tree up; returns the USART1 kernel clock (PCLK2) it ended with: HB_PCLK2_HZ,
 * or HB_HSI_HZ when the PLL was asked for but HSE, over-drive or the PLL did not come up
 * (the core then stays on HSI, at 16 MHz). */
uint32_t stm32_clock_init(void);

/* The Cortex-M7 instruction cache on (code runs from flash over AXIM, where ART does not help). */
void stm32_icache_on(void);

#endif
