/* hb_requant (kernels/conv_common.h) against hb_mbqm (fixedpoint.h): every shift in
 * [-31, 30], multipliers at and between the ends of [0, 2^31), accumulators at the int32
 * edges and random. Prints the first difference and exits 1, or "requant: N equal". */
#include <stdio.h>
#include <stdlib.h>

#include "kernels/conv_common.h"

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint32_t next(void) {
  rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
  return (uint32_t)(rng >> 16);
}

static int check(int32_t x, int32_t m, int s, unsigned long *n) {
  ++*n;
  if (hb_requant(x, m, s) == hb_mbqm(x, m, s)) return 0;
  printf("requant: x=%ld mult=%ld shift=%d: %ld, hb_mbqm %ld\n", (long)x, (long)m, s, (long)hb_requant(x, m, s),
         (long)hb_mbqm(x, m, s));
  return 1;
}

int main(int argc, char **argv) {
  const long rounds = argc > 1 ? atol(argv[1]) : 1000000L;
  const int32_t xs[] = {0, 1, -1, 2, -2, 127, -128, 32767, -32768, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1,
                        1 << 30, -(1 << 30), (1 << 30) - 1, -(1 << 30) + 1};
  const int32_t ms[] = {0, 1, 2, 1 << 30, (1 << 30) + 1, INT32_MAX, INT32_MAX - 1, 1518500250, 1073741825};
  unsigned long n = 0;
  for (int s = -31; s <= 30; s++) {
    for (unsigned i = 0; i < sizeof xs / sizeof *xs; i++)
      for (unsigned j = 0; j < sizeof ms / sizeof *ms; j++)
        if (check(xs[i], ms[j], s, &n)) return 1;
    for (long r = 0; r < rounds; r++) {
      int32_t x = (int32_t)next(), m = (int32_t)(next() & 0x7FFFFFFFu);
      if (r & 1) x >>= next() % 31;                    /* small and large magnitudes */
      if (r & 2) m = (int32_t)((1u << 30) | (next() & 0x3FFFFFFFu)); /* the normalised range */
      if (check(x, m, s, &n)) return 1;
      /* ties of the rounding shift: v with its low `right` bits at exactly half */
      if (s < 0 && check((int32_t)((next() << -s) | (1u << (-s - 1))) , 1 << 30, s, &n)) return 1;
    }
  }
  printf("requant: %lu equal\n", n);
  return 0;
}
