/* What the Helium (MVE) kernels share: per-channel requantisation 4 channels at a time, and the
 * 4-row dot product. Cortex-M55 builds with HB_KERNELS_MVE only (simd.h).
 *
 * Exactness. The sums are formed on the raw int8 input: sum w * x, exact in int32 (each product
 * <= 2^14, prepare's depth limit <= 2^16 terms), plus acc0 = bias + in_offset * sum w per channel,
 * which equals the reference's bias + sum w * (x - zp) modulo 2^32 (and so exactly: the true
 * value fits int32). Requantisation by lanes, the reference's MultiplyByQuantizedMultiplier:
 *   VSHL by max(shift, 0) (wraps like the reference's int32 multiply by 2^left);
 *   VQRDMULH = floor((2 a m + 2^31) / 2^32) = floor((a m + 2^30) / 2^31): the reference's
 *     rounding doubling high multiply for every a and 0 <= m < 2^31 (hb_requant's comment shows
 *     that form of it; the one saturating case needs m = INT32_MIN);
 *   rounding divide by 2^r (r = max(-shift, 0)) half away from zero = VRSHL by -r (half up, in
 *     extended precision) of v - 1 for negative v when r > 0: for v = q 2^r + s (0 <= s < 2^r)
 *     both are q + [s > 2^(r-1)]; v > INT32_MIN because m < 2^31, so v - 1 cannot wrap.
 * Then the output offset, the activation clamp and a truncating byte store (VSTRB.32). */
#ifndef HB_MVE_H
#define HB_MVE_H
#include "simd.h"
#ifdef HB_KERNELS_MVE
#include <arm_mve.h>

#include "../ops.h"

/* 4 channels' requantisation: acc0 (bias + in_offset * sum w), multiplier, left shift, -right
 * shift, and -1 where the right shift is > 0 (else 0): 80 bytes, 5 vector loads. */
typedef struct {
  int32x4_t acc0, mult, left, rneg, fix;
} hb_mve_rq4_t;

/* Sums (plus acc0) -> the requantised values plus the output offset (not yet clamped), as int32
 * lanes. */
static inline int32x4_t hb_mve_requant(int32x4_t acc, const hb_mve_rq4_t *q, int32_t out_off) {
  int32x4_t v = vqrdmulhq_s32(vshlq_s32(vaddq_s32(acc, q->acc0), q->left), q->mult);
  v = vaddq_s32(v, vandq_s32(vshrq_n_s32(v, 31), q->fix));
  return vaddq_n_s32(vrshlq_s32(v, q->rneg), out_off);
}

/* hb_mve_requant when every channel's shift is in [-31, -1] (hb_mve_right_only): no left shift,
 * and the -1 for negative values applies to every lane; 2 instructions fewer. */
static inline int32x4_t hb_mve_requant_right(int32x4_t acc, const hb_mve_rq4_t *q, int32_t out_off) {
  int32x4_t v = vqrdmulhq_s32(vaddq_s32(acc, q->acc0), q->mult);
  v = vaddq_s32(v, vshrq_n_s32(v, 31));
  return vaddq_n_s32(vrshlq_s32(v, q->rneg), out_off);
}

/* Whether all n shifts are in [-31, -1]. */
static inline int hb_mve_right_only(const int32_t *shift, int n) {
  for (int c = 0; c < n; c++)
    if (shift[c] >= 0) return 0;
  return 1;
}

/* The requantisation of channels [0, n) into ceil(n / 4) groups at t (group j: channels
 * min(4 j, n - 4) + lane): weights w (channel c's K taps at w + c * wstride), bias (NULL: 0),
 * per-channel mult/shift (mstep 0: one for all channels). */
typedef struct {
  const int8_t *w;
  int K, wstride;
  const int32_t *bias, *mult, *shift;
  int mstep;
  int32_t in_offset;
} hb_mve_rq_src_t;
void hb_mve_rq_fill(hb_mve_rq4_t *t, int n, const hb_mve_rq_src_t *s);
/* The first channel of group j of n channels. */
int hb_mve_group_c0(int j, int n);

/* conv_mve.c, dwconv_mve.c, fc_mve.c: return 0 (having written nothing) for a shape they leave
 * to the DSP kernels. */
int hb_conv_mve(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);
int hb_dwconv_mve(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);
int hb_fc_mve(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);
/* Their scratch for op (0: they leave it to the DSP kernels); conv_mve tiles: the most. */
size_t hb_conv_mve_scratch_size(const hb_engine_t *e, const hb_op_t *op);
size_t hb_dwconv_mve_scratch_size(const hb_engine_t *e, const hb_op_t *op);
size_t hb_fc_mve_scratch_size(const hb_op_t *op);
#endif
#endif
