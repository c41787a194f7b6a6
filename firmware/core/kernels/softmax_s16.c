/* SOFTMAX int16 -> int16 (TFLM's int16 kernel): input differences from the row maximum are
 * scaled so [-65535, 0] covers exp's table range [-10, 0], exp and 1 / (1 + x) come from two
 * 513-entry tables with linear interpolation (lut_s16.c), the output is Q0.15 (scale 2^-15). */
#include "s16.h"

#include "../fixedpoint.h"

int hb_prepare_softmax_s16(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_softmax_params_t *p = &op->p.softmax;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  fb_table_t t;
  float beta = 0.0f;
  int r = hb_options(e, idx, &t);
  if (r < 0 || (r > 0 && fb_f32(&t, 0, 0.0f, &beta) < 0)) return hb_opt_corrupt(e, idx, err);
  if (hb_need_type(e, idx, out, HB_INT16, "output", err) || hb_need_quant(e, idx, in, "input", err) ||
      hb_need_quant(e, idx, out, "output", err) || hb_need_sym16(e, idx, in, "input", err) ||
      hb_need_sym16(e, idx, out, "output", err))
    return err->code;
  const double d = (double)out->scale - 1.0 / 32768.0;
  if (d > 0.001 / 32768.0 || d < -0.001 / 32768.0)
    return hb_unsupported(e, idx, "int16 output must have scale 1/32768 and zero point 0", err);
  if (!hb_same_shape(in, out) || in->ndims < 1) return hb_bad_shape(e, idx, "input and output shapes differ", err);
  p->depth = in->dims[in->ndims - 1];
  p->outer = (int32_t)(hb_elems(in) / (uint32_t)p->depth);
  if (p->depth > 65536) return hb_unsupported(e, idx, "softmax depth above 65536", err);
  /* Input differences in [-65535, 0] map to [-10, 0]: the exp table's range. */
  if (hb_multiplier(e, idx, (double)in->scale * (double)beta / (10.0 / 65535.0), &p->mult, &p->shift, err))
    return err->code;
  op->kind = hb_kind_s16(op->code);
  return HB_OK;
}

/* The table at a Q0.15 point: 9 bits index, 7 bits interpolate (rounded). */
static inline int32_t lut(int32_t v, const int16_t *table) {
  const int32_t i = 256 + (v >> 7), frac = v & 0x7f;
  const int32_t base = table[i], slope = (int16_t)(table[i + 1] - base);
  return (int16_t)(base + ((slope * frac + 64) >> 7));
}

void hb_eval_softmax_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_softmax_params_t *p = &op->p.softmax;
  const int16_t *x = (const int16_t *)(const void *)HB_T(e, op, 0)->data;
  int16_t *y = (int16_t *)(void *)HB_OUT(e, op)->data;
  for (int32_t r = 0; r < p->outer; r++) {
    const int16_t *xr = x + (size_t)r * p->depth;
    int16_t *yr = y + (size_t)r * p->depth;
    int32_t mx = -32768, sum = 0;
    for (int c = 0; c < p->depth; c++) mx = xr[c] > mx ? xr[c] : mx;
    for (int c = 0; c < p->depth; c++) {  /* exp(x - max) in Q0.15, kept in the output */
      const int32_t scaled = hb_mbqm(xr[c] - mx, p->mult, p->shift);
      yr[c] = (int16_t)lut(hb_sat16(hb_add_wrap(scaled, 32767)), hb_lut_exp_s16);
      sum += yr[c];
    }
    /* 1 / sum: the sum normalised to [1, 2) as x = sum - 1 in [-32768, 32767], then the table. */
    const int headroom = __builtin_clz((uint32_t)sum);  /* sum >= exp(0) > 0 */
    const int32_t shifted = (int32_t)((((int64_t)sum << (headroom - 1)) + (1 << 13)) >> 14);
    const int32_t recip = lut(hb_sat16(shifted - (1 << 15) - (1 << 16)), hb_lut_one_over_one_plus_x_s16);
    const int right = 31 - headroom;
    for (int c = 0; c < p->depth; c++) {
      const int32_t v = (int32_t)(((int64_t)yr[c] * recip + ((int64_t)1 << (right - 1))) >> right);
      yr[c] = (int16_t)(v < 0 ? 0 : v > 32767 ? 32767 : v);
    }
  }
}
