/* STM32F746 clock tree, from RM0385 facts (untested on silicon: docs/boards.md).
 * 216 MHz = HSE 25 MHz / PLLM 25 (VCO input 1 MHz, allowed 1..2) * PLLN 432 (VCO 432 MHz,
 * allowed 100..432) / PLLP 2. Above 180 MHz the regulator needs over-drive (scale 1 + ODEN,
 * then ODSWEN), and flash at 2.7-3.6 V one wait state per 30 MHz: 7 at 216 MHz. AHB /1,
 * APB1 /4 = 54 MHz and APB2 /2 = 108 MHz are each bus's maximum. PLLQ 9 gives the 48 MHz
 * clock USB/SDMMC would need (unused; any Q must keep it at or below 48 MHz). */
#include "clock.h"

#include "board.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC_CR REG(0x40023800u)       /* HSEON 16, HSERDY 17, PLLON 24, PLLRDY 25 */
#define RCC_PLLCFGR REG(0x40023804u)  /* M 5:0, N 14:6, P 17:16 (0 = /2), SRC 22 (1 = HSE), Q 27:24 */
#define RCC_CFGR REG(0x40023808u)     /* SW 1:0, SWS 3:2 (2 = PLL), HPRE 7:4, PPRE1 12:10, PPRE2 15:13 */
#define RCC_APB1ENR REG(0x40023840u)  /* PWREN 28 */
#define PWR_CR1 REG(0x40007000u)      /* VOS 15:14 (3 = scale 1), ODEN 16, ODSWEN 17 */
#define PWR_CSR1 REG(0x40007004u)     /* ODRDY 16, ODSWRDY 17 */
#define FLASH_ACR REG(0x40023C00u)    /* LATENCY 3:0, PRFTEN 8, ARTEN 9 */
#define SCB_CCR REG(0xE000ED14u)      /* IC 17 */
#define SCB_ICIALLU REG(0xE000EF50u)

#define PLLM 25u
#define PLLN 432u
#define PLLP 2u
#define PLLQ 9u
#define FLASH_WS ((HB_CLOCK_HZ - 1u) / 30000000u)
#define WAIT_POLLS 2000000u  /* ~0.5 s at 16 MHz: HSE starts in ~2 ms, the PLL locks in ~0.1 ms */

#if HB_STM32_PLL
_Static_assert(HB_HSE_HZ / PLLM >= 1000000u && HB_HSE_HZ / PLLM <= 2000000u, "PLL input out of 1..2 MHz");
_Static_assert(HB_HSE_HZ / PLLM * PLLN >= 100000000u && HB_HSE_HZ / PLLM * PLLN <= 432000000u, "VCO out of range");
_Static_assert(HB_HSE_HZ / PLLM * PLLN / PLLP == HB_CLOCK_HZ, "PLL does not give HB_CLOCK_HZ");
_Static_assert(HB_HSE_HZ / PLLM * PLLN / PLLQ <= 48000000u, "PLL48CLK above 48 MHz");
_Static_assert(HB_CLOCK_HZ <= 216000000u && HB_CLOCK_HZ / 4u <= 54000000u && HB_PCLK2_HZ == HB_CLOCK_HZ / 2u,
               "AHB/APB1/APB2 limits: 216/54/108 MHz");
#endif

/* Polls until all of `mask` is set in *reg; 0 when it never was. */
static int wait_set(volatile uint32_t *reg, uint32_t mask) {
  for (uint32_t i = 0; i < WAIT_POLLS; i++)
    if ((*reg & mask) == mask) return 1;
  return 0;
}

static void flash_wait_states(uint32_t ws) {
  FLASH_ACR = (FLASH_ACR & ~0xFu) | ws | (1u << 8) | (1u << 9);  /* + prefetch, ART */
  while ((FLASH_ACR & 0xFu) != ws) {}  /* RM0385: read back before raising the clock */
}

/* Regulator scale 1 while the PLL is off (VOS is fixed while it runs); over-drive needs the
 * PLL on, for its ODRDY to come. */
static int overdrive_on(void) {
  PWR_CR1 |= 1u << 16;
  if (!wait_set(&PWR_CSR1, 1u << 16)) return 0;
  PWR_CR1 |= 1u << 17;
  return wait_set(&PWR_CSR1, 1u << 17);
}

static void pll_config(void) {
  uint32_t fields = 0x3Fu | (0x1FFu << 6) | (3u << 16) | (1u << 22) | (0xFu << 24);
  uint32_t value = PLLM | (PLLN << 6) | ((PLLP / 2u - 1u) << 16) | (1u << 22) | (PLLQ << 24);
  RCC_PLLCFGR = (RCC_PLLCFGR & ~fields) | value;  /* reserved bits keep their reset values */
}

/* Prescalers first (the buses must be in range the moment the PLL drives them), then SW. */
static int switch_to_pll(void) {
  uint32_t cfgr = RCC_CFGR & ~((0xFu << 4) | (7u << 10) | (7u << 13) | 3u);
  RCC_CFGR = cfgr | (5u << 10) | (4u << 13);  /* HPRE /1, PPRE1 /4, PPRE2 /2 */
  RCC_CFGR = cfgr | (5u << 10) | (4u << 13) | 2u;
  if (wait_set(&RCC_CFGR, 2u << 2) && (RCC_CFGR & (3u << 2)) == (2u << 2)) return 1;
  RCC_CFGR = cfgr;  /* still on HSI: back to undivided buses */
  return 0;
}

static int pll_start(void) {
  RCC_APB1ENR |= 1u << 28;
  (void)RCC_APB1ENR;  /* read back: the PWR clock is on before PWR is written */
  PWR_CR1 |= 3u << 14;
  RCC_CR |= 1u << 16;
  if (!wait_set(&RCC_CR, 1u << 17)) return 0;  /* no crystal oscillation */
  pll_config();
  RCC_CR |= 1u << 24;
  if (!overdrive_on()) return 0;
  flash_wait_states(FLASH_WS);
  if (!wait_set(&RCC_CR, 1u << 25)) return 0;
  return switch_to_pll();
}

uint32_t stm32_clock_init(void) {
  if (!HB_STM32_PLL) return HB_HSI_HZ;
  if (pll_start()) return HB_PCLK2_HZ;
  RCC_CR &= ~((1u << 24) | (1u << 16));  /* PLL and HSE off; flash keeps its (safe) wait states */
  return HB_HSI_HZ;
}

void stm32_icache_on(void) {
  __asm volatile("dsb\n isb" ::: "memory");
  SCB_ICIALLU = 0u;  /* invalidate first: the cache's contents are undefined at reset */
  __asm volatile("dsb\n isb" ::: "memory");
  SCB_CCR |= 1u << 17;
  __asm volatile("dsb\n isb" ::: "memory");
}
