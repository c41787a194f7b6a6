/* hb_requant (kernels/conv_common.h) against hb_mbqm (fixedpoint.h): every shift in
 * [-31, 30], multipliers at and between the ends of [0, 2^31), accumulators at the int32
 * edges and random. Then the DSP kernels' form hb_rq_out (kernels/requant_fast.h) against
 * hb_requant + output offset on its domain (1 <= r <= 22, |acc| < 2^30, every offset).
 * Prints the first difference and exits 1, or "requant: N equal". */
#include <stdio.h>
#include <stdlib.h>

#include "kernels/conv_common.h"
#include "kernels/requant_fast.h"

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

static int check_rq(int32_t x, int32_t m, int r, int32_t off, unsigned long *n) {
  const hb_rq_t q = {0, m, (1 << (r - 1)) + (int32_t)((uint32_t)off << r), r};
  const int32_t want = hb_add_wrap(hb_requant(x, m, -r), off), got = hb_rq_out(2 * x, &q);
  ++*n;
  if (got == want) return 0;
  printf("requant_fast: x=%ld mult=%ld r=%d off=%ld: %ld, hb_requant %ld\n", (long)x, (long)m, r, (long)off,
         (long)got, (long)want);
  return 1;
}

/* hb_rq_out on its whole domain: edges of acc, m and the offset, random, and ties. */
static int check_fast(long rounds, unsigned long *n) {
  const int32_t xs[] = {0, 1, -1, 2, -2, (1 << 30) - 1, -(1 << 30) + 1, 1 << 20, -(1 << 20)};
  const int32_t ms[] = {0, 1, 1 << 30, (1 << 30) + 1, INT32_MAX, 1518500250};
  for (int r = 1; r <= HB_RQ_MAX_R; r++) {
    for (int32_t off = -128; off <= 127; off += 17)
      for (unsigned i = 0; i < sizeof xs / sizeof *xs; i++)
        for (unsigned j = 0; j < sizeof ms / sizeof *ms; j++)
          if (check_rq(xs[i], ms[j], r, off, n)) return 1;
    for (long k = 0; k < rounds; k++) {
      int32_t x = (int32_t)(next() & 0x7FFFFFFFu) - (1 << 30), m = (int32_t)((1u << 30) | (next() & 0x3FFFFFFFu));
      const int32_t off = (int32_t)(next() % 256) - 128;
      if (x <= -(1 << 30)) x = -(1 << 30) + 1;
      if (k & 1) x >>= next() % 30;
      if (check_rq(x, m, r, off, n)) return 1;
      /* v = acc * 2^31 / m' exactly at a rounding tie of the shift: acc = (2j + 1) 2^(r-1), m = 2^30 */
      const int32_t t = (int32_t)((next() % (1u << (29 - r))) * 2 + 1) * (1 << (r - 1));
      if (check_rq(t, 1 << 30, r, off, n) || check_rq(-t, 1 << 30, r, off, n)) return 1;
    }
  }
  return 0;
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
  if (check_fast(rounds, &n)) return 1;
  printf("requant: %lu equal\n", n);
  return 0;
}
