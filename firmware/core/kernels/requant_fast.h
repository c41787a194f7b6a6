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
 * reachable |acc| < 2^30 (acc2 fits), bounded at load from the constant weights and bias. */
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

/* Fills p->rq for nch channels (NULL when one channel does not qualify, or during the
 * arena-sizing pass): channel c's weights are w[c * ch_stride + t * tap_stride], t < taps. */
void hb_rq_prepare(hb_engine_t *e, hb_conv_params_t *p, const int8_t *w, int nch, int taps, int ch_stride,
                   int tap_stride, const int32_t *bias);
#endif
