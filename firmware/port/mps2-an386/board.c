/* mps2-an386 port functions: CMSDK UART0 (polled), the tick counter (DWT CYCCNT when it
 * advances, else SysTick + wrap count), warm reset, and the cell that survives it. */
#include <stdint.h>

#include "port.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define UART0 0x40004000u
#define UART_DATA REG(UART0 + 0x0u)
#define UART_STATE REG(UART0 + 0x4u)  /* bit0 TX full, bit1 RX full */
#define UART_CTRL REG(UART0 + 0x8u)
#define UART_INTCLEAR REG(UART0 + 0xCu)
#define UART_BAUDDIV REG(UART0 + 0x10u)
#define NVIC_ISER0 REG(0xE000E100u)
#define NVIC_ICER0 REG(0xE000E180u)
#define UART0_RX_IRQ 0u
#define SYST_CSR REG(0xE000E010u)
#define SYST_RVR REG(0xE000E014u)
#define SYST_CVR REG(0xE000E018u)
#define DEMCR REG(0xE000EDFCu)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define AIRCR REG(0xE000ED0Cu)

extern uint32_t __persist;  /* linker script: last bytes of RAM, outside every section */
static uint32_t clock_hi;      /* wraps << 24 */
static uint32_t clock_last;    /* the counter at the last read */
static int use_dwt;

/* Extends the 24-bit down-counter: any rise since the last read is one reload. Counting
 * reloads where the counter is read (not in the interrupt alone) stays right whatever
 * QEMU does around a reload: a wrap interrupt taken late, a counter held at 0 until the
 * timer callback runs, a reload after stop/start without an interrupt. The wrap interrupt
 * only guarantees a read at least once per 2^24 ticks. Call with interrupts off. */
static uint32_t clock_read(void) {
  uint32_t v = SYST_CVR & 0xFFFFFFu;
  if (v > clock_last) clock_hi += 1u << 24;
  clock_last = v;
  return clock_hi + (0xFFFFFFu - v);
}

void port_systick_isr(void) { (void)clock_read(); }
/* RX interrupt: only wakes the core from WFI in port_getc; the byte is read there. */
void port_uart0_rx_isr(void) { UART_INTCLEAR = 2u; }

/* Returns the timer's name for HELLO. */
const char *port_init(void) {
  UART_BAUDDIV = 16u;  /* 25 MHz / 16: the minimum; QEMU ignores the rate */
  UART_CTRL = 3u | 8u; /* TX + RX on, RX interrupt (wakes WFI; NVIC-enabled in port_getc) */
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0u;
  SYST_CSR = 7u;       /* core clock, interrupt on wrap, enabled */
  clock_last = 0xFFFFFFu;
  DEMCR |= 1u << 24;   /* TRCENA */
  DWT_CYCCNT = 0u;
  DWT_CTRL |= 1u;
  uint32_t a = DWT_CYCCNT;
  for (volatile int i = 0; i < 100; i++) {}
  use_dwt = DWT_CYCCNT != a;  /* QEMU reads 0 forever: fall back to SysTick */
  return use_dwt ? "dwt" : "systick";
}

uint32_t port_clock(void) {
  if (use_dwt) return DWT_CYCCNT;
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

/* QEMU's SysTick restarts its tick phase when it is enabled: stop + start makes the next
 * tick edge a fixed number of instructions away, so -icount tick counts repeat exactly
 * (otherwise they differ by one tick, 40 instructions, from run to run). The count is kept;
 * at most one partial tick is lost, outside any measurement. */
void port_clock_sync(void) {
  if (use_dwt) return;
  SYST_CSR = 0u;
  SYST_CSR = 5u;  /* wrap interrupt off until the next port_getc: never taken inside invoke() */
  tick_irq_off = 1;
  uint32_t v0 = SYST_CVR;
  while (SYST_CVR == v0) {}  /* and start at a tick edge: the phase then repeats exactly */
}

int port_getc(void) {
  if (tick_irq_off) {
    tick_irq_off = 0;
    SYST_CSR = 7u;
  }
  /* Sleep, not spin: a spinning vCPU competes with QEMU's I/O thread, which then feeds the
   * UART more slowly. A byte arriving between the test and WFI pends the IRQ: no lost wakeup. */
  if (UART_STATE & 2u) return (int)(UART_DATA & 0xFFu);
  NVIC_ISER0 = 1u << UART0_RX_IRQ;  /* enabled only while waiting: never fires inside invoke() */
  while (!(UART_STATE & 2u)) __asm volatile("wfi");
  NVIC_ICER0 = 1u << UART0_RX_IRQ;
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
  while (UART_STATE & 1u) {}  /* let the last reply byte leave */
  __asm volatile("dsb");
  AIRCR = 0x05FA0004u;  /* VECTKEY | SYSRESETREQ */
  for (;;) {}
}
