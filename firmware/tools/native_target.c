/* The link/command layer and the engine as a process on this machine, speaking the wire
 * protocol on stdin/stdout: tests drive it with hostile frames under ASan/UBSan, and the
 * host side of the link is tested without an emulator. Port functions over stdio. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "port.h"

static hb_persist_t persist;

int port_getc(void) {
  fflush(stdout);  /* replies leave before we block for the next request */
  int c = getchar();
  if (c == EOF) exit(0);
  return c;
}

void port_write(const uint8_t *p, size_t n) { fwrite(p, 1, n, stdout); }

uint32_t port_clock(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint32_t)((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

void port_clock_sync(void) {}
hb_persist_t *port_persist(void) { return &persist; }

void port_reset(void) {
  fflush(stdout);
  exit(0);
}

int main(int argc, char **argv) {
  static hb_board_t b;
  size_t model_cap = argc > 1 ? strtoul(argv[1], 0, 0) : 1u << 20;
  size_t arena_cap = argc > 2 ? strtoul(argv[2], 0, 0) : 1u << 21;
  b.board = "native";
  b.cpu = "host";
  b.timer = "ns";
  b.clock_hz = 1000000000u;
  b.model_buf = aligned_alloc(16, (model_cap + 15u) & ~(size_t)15u);
  b.model_cap = model_cap;
  b.arena = aligned_alloc(16, (arena_cap + 15u) & ~(size_t)15u);
  b.arena_cap = arena_cap;
  if (!b.model_buf || !b.arena) return 2;
  hb_serve(&b);
  return 0;
}
