/* QUANTIZE and DEQUANTIZE where int16 is involved (TFLM's reference): float32 -> int16, the
 * requantisations int8 -> int16, int16 -> int8 and int16 -> int16 (one multiplier, the int8
 * path's double rounding, clamped to the output type), and int16 -> float32. Zero points are
 * honoured, as TFLM does for these ops. */
#include "s16.h"

#include "../fixedpoint.h"

static int sizes_ok(hb_engine_t *e, int idx, hb_error_t *err) {
  const hb_op_t *op = &e->ops[idx];
  if (hb_elems(HB_T(e, op, 0)) != hb_elems(HB_OUT(e, op))) return hb_bad_shape(e, idx, "input and output sizes differ", err);
  return HB_OK;
}

int hb_prepare_quantize_s16(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_quant_params_t *p = &op->p.quant;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  const int it = in->type, ot = out->type;
  if ((ot != HB_INT8 && ot != HB_INT16) || (it != HB_FLOAT32 && it != HB_INT8 && it != HB_INT16))
    return hb_fail(err, HB_E_UNSUPPORTED, "unsupported QUANTIZE at node %d: %s to %s", idx, hb_type_name(it),
                   hb_type_name(ot));
  if (hb_need_quant(e, idx, out, "output", err) || sizes_ok(e, idx, err)) return err->code;
  if (out->nscales > 1) return hb_unsupported(e, idx, "per-channel output quantisation", err);
  p->out_zp = out->zp;
  p->count = (int32_t)hb_elems(out);
  p->scale = out->scale;
  if (it == HB_FLOAT32) { op->kind = hb_kind_s16(-op->code); return HB_OK; }
  if (hb_need_quant(e, idx, in, "input", err)) return err->code;
  p->in_zp = in->zp;
  op->kind = hb_kind_s16(op->code);
  return hb_multiplier(e, idx, (double)in->scale / (double)out->scale, &p->mult, &p->shift, err);
}

int hb_prepare_dequantize_s16(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_quant_params_t *p = &op->p.quant;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  if (hb_need_type(e, idx, out, HB_FLOAT32, "output", err) || hb_need_quant(e, idx, in, "input", err) ||
      sizes_ok(e, idx, err))
    return err->code;
  if (in->nscales > 1) return hb_unsupported(e, idx, "per-channel input quantisation", err);
  p->in_zp = in->zp;
  p->scale = in->scale;
  p->count = (int32_t)hb_elems(in);
  op->kind = hb_kind_s16(op->code);
  return HB_OK;
}

/* x / scale rounded half away from zero, + zp, saturated. |x / scale| is kept within 2^24 steps
 * first: beyond that every int16 result saturates anyway, and TFLM's float-to-int32 cast is
 * only defined up to 2^31. */
void hb_eval_quantize_f32_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_quant_params_t *p = &op->p.quant;
  const float *x = (const float *)(const void *)HB_T(e, op, 0)->data;
  int16_t *y = (int16_t *)(void *)HB_OUT(e, op)->data;
  for (int32_t i = 0; i < p->count; i++) {
    const float r = hb_roundf(x[i] / p->scale);
    const int32_t v = r > 16777216.0f ? 16777216 : r < -16777216.0f ? -16777216 : r == r ? (int32_t)r : 0;
    y[i] = hb_sat16(v + p->out_zp);
  }
}

void hb_eval_requantize_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_quant_params_t *p = &op->p.quant;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  for (int32_t i = 0; i < p->count; i++) {
    const int32_t x = in->type == HB_INT16 ? ((const int16_t *)(const void *)in->data)[i] : ((const int8_t *)in->data)[i];
    const int32_t v = hb_add_wrap(hb_mbqm(x - p->in_zp, p->mult, p->shift), p->out_zp);
    if (out->type == HB_INT16) ((int16_t *)(void *)out->data)[i] = hb_sat16(v);
    else ((int8_t *)out->data)[i] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
  }
}

/* scale * (q - zp) in float: the exact product has at most 41 significant bits, so float and
 * TFLM's double product rounded to float round it once, the same. */
void hb_eval_dequantize_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_quant_params_t *p = &op->p.quant;
  const int16_t *x = (const int16_t *)(const void *)HB_T(e, op, 0)->data;
  float *y = (float *)(void *)HB_OUT(e, op)->data;
  for (int32_t i = 0; i < p->count; i++) y[i] = p->scale * (float)(x[i] - p->in_zp);
}
