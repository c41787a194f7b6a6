/* The DSP kernels' requantisation: 3 instructions per output instead of about 20, equal to
 * hb_requant + the output offset for every accumulator (tools/requant_check.c proves it).
 *
 * The reference computes v = floor((acc*m + 2^30) / 2^31) (one rounding add, see
 * hb_requant), then rounds v / 2^r half away from zero. The kernels accumulate acc2 = 2*acc
 * (doubled weights and bias), so SMMLAR(acc2, m, c) = c + v exactly (its 64-bit product
 * plus 2^31, high word). Nested floors fold: (c + v) >> r with
 * c = 2^(r-1) + off * 2^r - [acc < 0] is the rounded quotient plus the output offset; for
 * acc < 0, v <= 0, and v = 0 gives 0 with either rounding constant.
 *
 * A channel takes this form when 1 <= r <= 22 (c and c + v fit in int32) and every
 * reachable |acc| < 2^30 (acc2 fits), bounded at load from the constant weights and bias; or
 * when its weights are all 0 (hb_rq_make encodes its constant output). */
#ifndef HB_REQUANT_FAST_H
#define HB_REQUANT_FAST_H
#include "../ops.h"
#include "simd.h"

#define HB_RQ_MAX_R 22

/* acc2 = 2 * (bias + sum w * (x - in_zp)) -> the requantised value plus the output offset
 * (not yet clamped to the activation range). */
static inline int32_t hb_rq_out(int32_t acc2, const hb_rq_t *q) {
  return hb_smmlar(acc2, q->mult, q->k + (acc2 >> 31)) >> q->r;
}

/* What the fast form of nch channels is made from: channel c's weights are
 * w[c * ch_stride + t * tap_stride], t < taps; its bias bias[c] (bias may be NULL). shared: one
 * hb_rq_t for all channels (they must share multiplier and shift; its bias2 is 0, the kernel adds
 * 2 * bias[c]), 16 bytes of arena instead of 16 a channel. */
typedef struct {
  const int32_t *mult, *shift, *bias;
  const int8_t *w;
  int nch, taps, ch_stride, tap_stride;
  int32_t in_offset, out_offset;
  int shared;
} hb_rq_src_t;

/* The channels' hb_rq_t in the arena's persistent area, or NULL when one channel does not
 * qualify (its shift outside [-22, -1] or a reachable |acc| >= 2^30, unless its weights are all
 * 0 and not shared: then it is a constant) or during the arena-sizing pass. */
hb_rq_t *hb_rq_make(hb_engine_t *e, const hb_rq_src_t *s);
#endif
