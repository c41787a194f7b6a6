/* Cortex-M4 startup for QEMU mps2-an386: vector table, reset handler (FPU on, .data copied,
 * .bss zeroed), fatal faults end QEMU through semihosting with a distinct exit code. */
#include <stdint.h>
#include <string.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
int main(void);
void port_systick_isr(void);
void port_uart0_rx_isr(void);
void port_exit(int code);

#define CPACR (*(volatile uint32_t *)0xE000ED88u)

void port_reset_handler(void) {
  CPACR |= 0xFu << 20;  /* CP10 + CP11 full access: the FPU, before any float code */
  __asm volatile("dsb\n isb");
  memcpy(&__data_start, &__data_load, (size_t)((uint8_t *)&__data_end - (uint8_t *)&__data_start));
  memset(&__bss_start, 0, (size_t)((uint8_t *)&__bss_end - (uint8_t *)&__bss_start));
  port_exit(main() ? 1 : 0);
}

static void fault(void) { port_exit(3); }   /* HardFault, MemManage, BusFault, UsageFault */
static void unexpected(void) { port_exit(4); }

__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 32])(void) = {
  (void (*)(void))&__stack_top, port_reset_handler, unexpected /* NMI */, fault, fault, fault, fault,
  0, 0, 0, 0, unexpected /* SVC */, unexpected /* debug */, 0, unexpected /* PendSV */, port_systick_isr,
  port_uart0_rx_isr /* IRQ 0: UART0 RX */, [17 ... 47] = unexpected};

/* Semihosting SYS_EXIT_EXTENDED: QEMU exits with `code` (needs -semihosting-config enable=on). */
void port_exit(int code) {
  volatile uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
  register uint32_t r0 __asm("r0") = 0x20u;
  register volatile uint32_t *r1 __asm("r1") = block;
  __asm volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
  for (;;) {}
}
