/* Port functions for a QEMU MPS board with a CMSDK UART, parameterised by board.h
 * (HB_UART_BASE, HB_UART_RX_IRQ): polled UART, SysTick clock extended to 32 bits, warm
 * reset, persist cell, semihosting exit, for every QEMU MPS board (an386, an500, an547);
 * docs/mcu.md explains the clock. */
#include <stdint.h>

#include "board.h"
#include "port.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define UART_DATA REG(HB_UART_BASE + 0x0u)
#define UART_STATE REG(HB_UART_BASE + 0x4u)  /* bit0 TX full, bit1 RX full */
#define UART_CTRL REG(HB_UART_BASE + 0x8u)
#define UART_INTCLEAR REG(HB_UART_BASE + 0xCu)
#define UART_BAUDDIV REG(HB_UART_BASE + 0x10u)
#define NVIC_ISER REG(0xE000E100u + 4u * (HB_UART_RX_IRQ / 32u))
#define NVIC_ICER REG(0xE000E180u + 4u * (HB_UART_RX_IRQ / 32u))
#define RX_BIT (1u << (HB_UART_RX_IRQ % 32u))
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define AIRCR REG(0xE000ED0Cu)

extern uint32_t __persist;  /* linker script: outside every section */
static uint32_t clock_hi, clock_last;

/* Any rise of the 24-bit down-counter since the last read is one reload (interrupts off). */
static uint32_t clock_read(void) {
  uint32_t v = SYST_CVR & 0xFFFFFFu;
  if (v > clock_last) clock_hi += 1u << 24;
  clock_last = v;
  return clock_hi + (0xFFFFFFu - v);
}

void port_systick_isr(void) { (void)clock_read(); }
void port_uart0_rx_isr(void) { UART_INTCLEAR = 2u; }  /* only wakes WFI in port_getc */

/* QEMU does not emulate DWT CYCCNT (DESIGN.md): SysTick on the core clock. */
const char *port_init(void) {
  UART_BAUDDIV = 16u;
  UART_CTRL = 3u | 8u;  /* TX + RX on, RX interrupt */
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0u;
  SYST_CSR = 7u;
  clock_last = 0xFFFFFFu;
  return "systick";
}

uint32_t port_clock(void) {
  uint32_t primask;
  __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask));
  uint32_t t = clock_read();
  __asm volatile("msr primask, %0" : : "r"(primask));
  return t;
}

/* Under -icount a SysTick wrap interrupt taken inside the timed region added its instructions
 * to the count now and then (one tick, under host load): port_clock_sync turns it off, and the
 * next read of a command byte turns it back on (ENABLE unchanged: the tick phase is kept). */
static int tick_irq_off;

/* Restart the tick phase (QEMU restarts it on enable) and begin at a tick edge. */
void port_clock_sync(void) {
  SYST_CSR = 0u;
  SYST_CSR = 5u;  /* wrap interrupt off until the next port_getc: never taken inside invoke() */
  tick_irq_off = 1;
  uint32_t v0 = SYST_CVR;
  while (SYST_CVR == v0) {}
}

int port_getc(void) {
  if (tick_irq_off) {
    tick_irq_off = 0;
    SYST_CSR = 7u;
  }
  if (UART_STATE & 2u) return (int)(UART_DATA & 0xFFu);
  NVIC_ISER = RX_BIT;  /* only while waiting: never fires inside invoke() */
  while (!(UART_STATE & 2u)) __asm volatile("wfi");
  NVIC_ICER = RX_BIT;
  return (int)(UART_DATA & 0xFFu);
}

void port_write(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    while (UART_STATE & 1u) {}
    UART_DATA = p[i];
  }
}

hb_persist_t *port_persist(void) { return (hb_persist_t *)&__persist; }

void port_reset(void) {
  while (UART_STATE & 1u) {}
  __asm volatile("dsb");
  AIRCR = 0x05FA0004u;  /* VECTKEY | SYSRESETREQ */
  for (;;) {}
}

/* Semihosting SYS_EXIT_EXTENDED: QEMU exits with `code` (-semihosting-config enable=on). */
void port_exit(int code) {
  volatile uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
  register uint32_t r0 __asm("r0") = 0x20u;
  register volatile uint32_t *r1 __asm("r1") = block;
  __asm volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
  for (;;) {}
}
