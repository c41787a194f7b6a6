/* What a board provides to the portable link/command layer (link.c, commands.c): a byte
 * stream, a free-running clock, a warm reset and a word-sized cell that survives it.
 * Everything else about the board (buffers, names) travels in hb_board_t. */
#ifndef HB_PORT_H
#define HB_PORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *board, *cpu;
  const char *timer;       /* "dwt" (CYCCNT), "systick" (core-clock SysTick) or "ns" */
  uint32_t clock_hz;
  uint8_t *model_buf;      /* 16-byte aligned */
  size_t model_cap;
  uint8_t *arena;
  size_t arena_cap;
} hb_board_t;

/* Survives a warm reset: never initialised by startup code (the port places it). */
typedef struct { uint32_t magic, boots, nonce, spare; } hb_persist_t;

int port_getc(void);                       /* blocks; returns the next byte, 0..255 */
void port_write(const uint8_t *p, size_t n);
uint32_t port_clock(void);                 /* free-running ticks, wraps at 2^32 */
/* Called just before each timed inference: restart the tick phase so that, on an emulator
 * that counts instructions, the same work always spans the same number of ticks (a no-op
 * where the counter runs at the core clock, e.g. DWT CYCCNT). */
void port_clock_sync(void);
hb_persist_t *port_persist(void);
void port_reset(void);                     /* warm reboot; does not return */

/* commands.c: serve frames forever (called by the port's main after its init). */
void hb_serve(const hb_board_t *board);

#endif
