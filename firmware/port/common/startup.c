/* Shared Cortex-M startup for the ports that list it in boards.mk (the QEMU MPS boards,
 * stm32f746g-disco): vector table sized by the board, reset handler (FPU on, .data copied,
 * .bss zeroed), faults and unexpected exceptions go to the board's port_exit(). board.h:
 * HB_NUM_IRQS, and HB_UART_RX_IRQ when the board wakes from WFI on a UART RX interrupt. */
#include <stdint.h>
#include <string.h>

#include "board.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_top;
int main(void);
void port_systick_isr(void);
void port_uart0_rx_isr(void);
void port_exit(int code);  /* the board's: semihosting exit under QEMU, a reset on silicon */

#define CPACR (*(volatile uint32_t *)0xE000ED88u)

void port_reset_handler(void) {
  CPACR |= 0xFu << 20;  /* CP10 + CP11 full access: the FPU (and MVE on M55), before float code */
  __asm volatile("dsb\n isb");
  memcpy(&__data_start, &__data_load, (size_t)((uint8_t *)&__data_end - (uint8_t *)&__data_start));
  memset(&__bss_start, 0, (size_t)((uint8_t *)&__bss_end - (uint8_t *)&__bss_start));
  port_exit(main() ? 1 : 0);
}

static void fault(void) { port_exit(3); }   /* HardFault, MemManage, BusFault, UsageFault, SecureFault */
static void unexpected(void) { port_exit(4); }

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"  /* the RX slot overrides the default range */
__attribute__((section(".vectors"), used)) static void (*const vectors[16 + HB_NUM_IRQS])(void) = {
  (void (*)(void))&__stack_top, port_reset_handler, unexpected /* NMI */, fault, fault, fault, fault,
  fault /* SecureFault (v8-M) */, 0, 0, 0, unexpected /* SVC */, unexpected /* debug */, 0,
  unexpected /* PendSV */, port_systick_isr, [16 ... 16 + HB_NUM_IRQS - 1] = unexpected,
#ifdef HB_UART_RX_IRQ
  [16 + HB_UART_RX_IRQ] = port_uart0_rx_isr,
#endif
};
#pragma GCC diagnostic pop
