/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128) over the last dim,
 * with the reference's fixed-point exp (Q5.26 input) and reciprocal. */
#include "../fixedpoint.h"
#include "../ops.h"

#define SCALED_DIFF_INT_BITS 5
#define ACCUM_INT_BITS 12

int hb_prepare_softmax(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_softmax_params_t *p = &op->p.softmax;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  fb_table_t t;
  float beta = 0.0f;
  int r = hb_options(e, idx, &t);
  if (r < 0 || (r > 0 && fb_f32(&t, 0, 0.0f, &beta) < 0)) return hb_opt_corrupt(e, idx, err);
  if (hb_need_type(e, idx, in, HB_INT8, "input", err) || hb_need_type(e, idx, out, HB_INT8, "output", err) ||
      hb_need_quant(e, idx, in, "input", err))
    return err->code;
  if (out->zp != -128 || out->scale != 1.0f / 256.0f)
    return hb_unsupported(e, idx, "int8 output must have scale 1/256 and zero point -128", err);
  if (!hb_same_shape(in, out) || in->ndims < 1) return hb_bad_shape(e, idx, "input and output shapes differ", err);
  p->depth = in->dims[in->ndims - 1];
  p->outer = (int32_t)(hb_elems(in) / (uint32_t)p->depth);
  /* Each exp adds at most 2^19 to the Q12 sum: 4095 keep it below 2^31. */
  if (p->depth > 4095) return hb_unsupported(e, idx, "softmax depth above 4095", err);
  double real = (double)beta * (double)in->scale * (double)(1 << (31 - SCALED_DIFF_INT_BITS));
  if (real > 2147483647.0) real = 2147483647.0;
  int32_t m;
  int s;
  if (!(real > 1.0)) return hb_unsupported(e, idx, "beta * input scale too small", err);
  hb_quantize_multiplier(real, &m, &s);  /* real <= 2^31 - 1: 1 <= s <= 31 */
  p->mult = m;
  p->shift = s;
  /* Largest |diff| whose rescaled value still fits Q5.26: floor(31 * 2^26 / 2^shift) (0 for
   * shift 31: only the maximum, diff 0, counts, and its left shift by 31 stays 0). */
  p->diff_min = -(int32_t)(((int64_t)31 << 26) >> s);
  return HB_OK;
}

static inline int32_t exp_of_diff(const hb_softmax_params_t *p, int32_t diff) {
  int32_t scaled = hb_mbqm(diff, p->mult, p->shift);  /* shift >= 0: a left shift then multiply */
  return hb_exp_on_negative(scaled, SCALED_DIFF_INT_BITS);
}

void hb_eval_softmax(hb_engine_t *e, const hb_op_t *op) {
  const hb_softmax_params_t *p = &op->p.softmax;
  const int8_t *x = (const int8_t *)HB_T(e, op, 0)->data;
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
  for (int32_t r = 0; r < p->outer; r++) {
    const int8_t *xr = x + (size_t)r * p->depth;
    int8_t *yr = y + (size_t)r * p->depth;
    int32_t mx = -128, sum = 0;
    for (int c = 0; c < p->depth; c++) mx = xr[c] > mx ? xr[c] : mx;
    for (int c = 0; c < p->depth; c++) {
      int32_t diff = xr[c] - mx;
      if (diff >= p->diff_min) sum += hb_rdivpot(exp_of_diff(p, diff), ACCUM_INT_BITS);  /* Q0.31 -> Q12.19 */
    }
    int bits_over_unit;
    int32_t scale = hb_reciprocal(sum, ACCUM_INT_BITS, &bits_over_unit);
    /* A sum of 512 or more (>= 512 elements near the maximum) makes this 32: every output is
     * then below half a step, 0 after rounding (TFLM asserts there instead). */
    int exponent = bits_over_unit + 31 - 8;
    for (int c = 0; c < p->depth; c++) {
      int32_t diff = xr[c] - mx, v = -128;
      if (diff >= p->diff_min) {
        v = exponent > 31 ? -128 : hb_rdivpot(hb_srdhm(scale, exp_of_diff(p, diff)), exponent) - 128;
        v = v > 127 ? 127 : (v < -128 ? -128 : v);
      }
      yr[c] = (int8_t)v;
    }
  }
}
