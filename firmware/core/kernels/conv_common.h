/* What the plain C and the DSP convolution kernels share outside their MAC loops:
 * the per-channel requantisation and the window clipping. Keeping these in one place
 * is what makes the two kernel sets bit-exact by construction: they differ only in
 * how the (exact, int32) sum of w * (x - in_zp) is formed. */
#ifndef HB_CONV_COMMON_H
#define HB_CONV_COMMON_H
#include "../fixedpoint.h"
#include "../ops.h"

/* hb_mbqm(x, mult, shift) for 0 <= mult < 2^31 (all hb_quantize_multiplier makes) and
 * -31 <= shift <= 30, the same value in about 20 instead of 35 Cortex-M4 instructions: the
 * reference's high multiply trunc((a*m + nudge) / 2^31), nudge = a*m >= 0 ? 2^30 : 1 - 2^30,
 * is floor((a*m + 2^30) / 2^31) (for a*m < 0, trunc(n / 2^31) = floor((n + 2^31 - 1) / 2^31)
 * with n = a*m + 1 - 2^30), and its one saturating case needs mult = INT32_MIN; the rounding
 * right shift is hb_rdivpot's. tools/requant_check.c compares the two on 10^8 cases. */
static inline int32_t hb_requant(int32_t x, int32_t mult, int shift) {
  const int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int32_t a = (int32_t)((uint32_t)x << left);
  const int32_t v = (int32_t)(((int64_t)a * mult + ((int64_t)1 << 30)) >> 31);
  const int32_t mask = (int32_t)((1u << right) - 1u);
  return (v >> right) + ((v & mask) > (mask >> 1) + (int32_t)((uint32_t)v >> 31));
}

/* The fused activation: v clamped to [act_min, act_max] (within int8). */
static inline int8_t hb_act_clamp(int32_t v, const hb_conv_params_t *p) {
  v = v < p->act_min ? p->act_min : v;
  return (int8_t)(v > p->act_max ? p->act_max : v);
}

/* Bias, then per-channel requantisation, output offset and the fused activation. */
static inline int8_t hb_conv_out(int32_t acc, const int32_t *bias, const hb_conv_params_t *p, int oc) {
  if (bias) acc = hb_add_wrap(acc, bias[oc]);
  return hb_act_clamp(hb_add_wrap(hb_requant(acc, p->mult[oc], p->shift[oc]), p->out_offset), p);
}

/* Taps t in [*lo, *hi) with 0 <= origin + dil * t < n: the window clipped to the
 * input once per output pixel, so the MAC loops carry no bounds tests. */
static inline void hb_tap_range(int origin, int dil, int k, int n, int *lo, int *hi) {
  int l = origin < 0 ? (-origin + dil - 1) / dil : 0;
  int lim = n - origin;
  int h = lim <= 0 ? 0 : (lim + dil - 1) / dil;
  if (h > k) h = k;
  *lo = l;
  *hi = h < l ? l : h;
}

/* Output coordinate o's window along one axis (n inputs, k taps): its origin i0 in the input
 * and the taps [k0, k1) that fall inside it. */
typedef struct { int i0, k0, k1; } hb_span_t;

static inline hb_span_t hb_out_span(int o, int stride, int pad, int dil, int k, int n) {
  hb_span_t s = {o * stride - pad, 0, 0};
  hb_tap_range(s.i0, dil, k, n, &s.k0, &s.k1);
  return s;
}

static inline const int32_t *hb_conv_bias(const hb_engine_t *e, const hb_op_t *op) {
  return op->nin > 2 && op->in[2] >= 0 ? (const int32_t *)(const void *)e->tensors[op->in[2]].data : 0;
}

#ifdef HB_KERNELS_DSP
/* conv_dsp.c, dwconv_dsp.c: return 0 (having written nothing) for a shape they leave to the C loops. */
int hb_conv_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);
int hb_dwconv_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);
/* The scratch they ask for: they tile, so the most (HB_DSP_SCRATCH_BYTES). */
size_t hb_conv_dsp_scratch_size(const hb_engine_t *e, const hb_op_t *op);
size_t hb_dwconv_dsp_scratch_size(const hb_engine_t *e, const hb_op_t *op);
#endif
#endif
