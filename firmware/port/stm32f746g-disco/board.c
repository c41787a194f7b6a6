/* STM32F746G-DISCO port functions (register facts from RM0385): the clock tree (clock.c),
 * USART1 on the ST-LINK virtual COM port (TX PA9, RX PB7, AF7) with an interrupt-fed receive
 * ring (the USART holds one byte; a frame arriving while the core works would overrun it),
 * DWT CYCCNT as the clock, warm reset, persist cell. Faults reset the board: the host sees
 * a new boot id. */
#include <stdint.h>

#include "board.h"
#include "clock.h"
#include "port.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC 0x40023800u
#define RCC_AHB1ENR REG(RCC + 0x30u)   /* bit0 GPIOA, bit1 GPIOB */
#define RCC_APB2ENR REG(RCC + 0x44u)   /* bit4 USART1 */
#define RCC_DCKCFGR2 REG(RCC + 0x90u)  /* bits 1:0 USART1SEL: 00 = PCLK2 */
#define GPIOA 0x40020000u
#define GPIOB 0x40020400u
#define MODER(g) REG((g) + 0x00u)
#define PUPDR(g) REG((g) + 0x0Cu)
#define AFRL(g) REG((g) + 0x20u)
#define AFRH(g) REG((g) + 0x24u)
#define USART1 0x40011000u
#define US_CR1 REG(USART1 + 0x00u)  /* UE bit0, RE bit2, TE bit3, RXNEIE bit5 */
#define US_BRR REG(USART1 + 0x0Cu)
#define US_ISR REG(USART1 + 0x1Cu)  /* ORE bit3, RXNE bit5, TXE bit7 */
#define US_ICR REG(USART1 + 0x20u)  /* ORECF bit3 */
#define US_RDR REG(USART1 + 0x24u)
#define US_TDR REG(USART1 + 0x28u)
#define NVIC_ISER REG(0xE000E100u + 4u * (HB_UART_RX_IRQ / 32u))
#define VTOR REG(0xE000ED08u)
#define AIRCR REG(0xE000ED0Cu)
#define DEMCR REG(0xE000EDFCu)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define DWT_LAR REG(0xE0001FB0u)  /* Cortex-M7: DWT writes need this unlock */

extern uint32_t __persist, __vector_table;
static volatile uint8_t rx_ring[2048];
static volatile uint32_t rx_head, rx_tail;  /* head: ISR writes; tail: port_getc */
static uint32_t rx_overruns;                 /* bytes lost (ring full or USART overrun) */

/* Sets pin `pin` of GPIO `g` to alternate function `af`, with a pull-up (idle-high line). */
static void pin_af(uint32_t g, unsigned pin, unsigned af) {
  MODER(g) = (MODER(g) & ~(3u << (2 * pin))) | (2u << (2 * pin));
  PUPDR(g) = (PUPDR(g) & ~(3u << (2 * pin))) | (1u << (2 * pin));
  volatile uint32_t *afr = pin < 8 ? &AFRL(g) : &AFRH(g);
  unsigned s = 4 * (pin % 8);
  *afr = (*afr & ~(0xFu << s)) | (af << s);
}

void port_systick_isr(void) {}

void port_uart0_rx_isr(void) {
  uint32_t isr = US_ISR;
  if (isr & (1u << 3)) { US_ICR = 1u << 3; rx_overruns++; }
  if (isr & (1u << 5)) {
    uint8_t b = (uint8_t)US_RDR;
    uint32_t next = (rx_head + 1u) % sizeof rx_ring;
    if (next == rx_tail) { rx_overruns++; return; }  /* the link layer's CRC + retry recover */
    rx_ring[rx_head] = b;
    rx_head = next;
  }
}

const char *port_init(void) {
  VTOR = (uint32_t)&__vector_table;
  uint32_t pclk2 = stm32_clock_init();
  if (HB_STM32_ICACHE) stm32_icache_on();
  RCC_AHB1ENR |= 3u;
  RCC_APB2ENR |= 1u << 4;
  (void)RCC_APB2ENR;  /* read back: the clock is on before the first peripheral access */
  RCC_DCKCFGR2 &= ~3u;
  pin_af(GPIOA, 9, 7);
  pin_af(GPIOB, 7, 7);
  US_CR1 = 0u;
  US_BRR = (pclk2 + HB_BAUD / 2u) / HB_BAUD;  /* 16x oversampling: BRR = f / baud (108 MHz: 938) */
  US_CR1 = (1u << 5) | (1u << 3) | (1u << 2) | 1u;
  NVIC_ISER = 1u << (HB_UART_RX_IRQ % 32u);
  DEMCR |= 1u << 24;  /* TRCENA */
  DWT_LAR = 0xC5ACCE55u;
  DWT_CYCCNT = 0u;
  DWT_CTRL |= 1u;     /* CYCCNTENA */
  /* HELLO's clock_hz is HB_CLOCK_HZ, fixed before this runs: a PLL that did not start is
   * named in the timer field instead (recorded with the run), the cycles still being cycles. */
  return pclk2 == HB_PCLK2_HZ ? "dwt" : "dwt-hsi16-pll-failed";
}

uint32_t port_clock(void) { return DWT_CYCCNT; }
void port_clock_sync(void) {}  /* CYCCNT counts core cycles: no tick phase to align */

int port_getc(void) {
  /* Test and sleep with interrupts masked: a byte arriving between the test and WFI pends
   * the interrupt, which still ends WFI; it is taken at cpsie. No lost wakeup. */
  for (;;) {
    __asm volatile("cpsid i" ::: "memory");
    if (rx_tail != rx_head) break;
    __asm volatile("wfi");
    __asm volatile("cpsie i" ::: "memory");
  }
  __asm volatile("cpsie i" ::: "memory");
  uint8_t b = rx_ring[rx_tail];
  rx_tail = (rx_tail + 1u) % sizeof rx_ring;
  return b;
}

void port_write(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    while (!(US_ISR & (1u << 7))) {}
    US_TDR = p[i];
  }
}

hb_persist_t *port_persist(void) { return (hb_persist_t *)&__persist; }

void port_reset(void) {
  if (RCC_APB2ENR & (1u << 4))        /* (a fault before port_init: no USART to drain) */
    while (!(US_ISR & (1u << 6))) {}  /* TC: the last reply byte has left the wire */
  __asm volatile("dsb");
  AIRCR = 0x05FA0004u;  /* VECTKEY | SYSRESETREQ */
  for (;;) {}
}

/* No debugger to report to: a fault or a return from main reboots the board. */
void port_exit(int code) {
  (void)code;
  port_reset();
}
