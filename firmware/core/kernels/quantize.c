/* QUANTIZE (float32 -> int8, int8 -> int8 requantise) and DEQUANTIZE (int8 ->
 * float32). Float quantisation divides in float and rounds half away from zero,
 * like the reference; out-of-range values saturate. */
#include "../fixedpoint.h"
#include "../ops.h"
#include "s16.h"

uint8_t hb_kind_quantize_f32(void);

static int check_sizes(hb_engine_t *e, int idx, hb_error_t *err) {
  const hb_op_t *op = &e->ops[idx];
  if (hb_elems(HB_T(e, op, 0)) != hb_elems(HB_OUT(e, op))) return hb_bad_shape(e, idx, "input and output sizes differ", err);
  return HB_OK;
}

int hb_prepare_quantize(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_quant_params_t *p = &op->p.quant;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  if (in->type == HB_INT16 || out->type == HB_INT16) return hb_prepare_quantize_s16(e, idx, err);
  if (hb_need_type(e, idx, out, HB_INT8, "output", err) || hb_need_quant(e, idx, out, "output", err) ||
      check_sizes(e, idx, err))
    return err->code;
  if (out->nscales > 1) return hb_unsupported(e, idx, "per-channel output quantisation", err);
  p->out_zp = out->zp;
  p->count = (int32_t)hb_elems(out);
  p->scale = out->scale;
  if (in->type == HB_FLOAT32) { op->kind = hb_kind_quantize_f32(); return HB_OK; }
  if (hb_need_type(e, idx, in, HB_INT8, "input", err) || hb_need_quant(e, idx, in, "input", err)) return err->code;
  p->in_zp = in->zp;
  return hb_multiplier(e, idx, (double)in->scale / (double)out->scale, &p->mult, &p->shift, err);
}

int hb_prepare_dequantize(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_quant_params_t *p = &op->p.quant;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  if (in->type == HB_INT16) return hb_prepare_dequantize_s16(e, idx, err);
  if (hb_need_type(e, idx, in, HB_INT8, "input", err) || hb_need_type(e, idx, out, HB_FLOAT32, "output", err) ||
      hb_need_quant(e, idx, in, "input", err) || check_sizes(e, idx, err))
    return err->code;
  if (in->nscales > 1) return hb_unsupported(e, idx, "per-channel input quantisation", err);
  p->in_zp = in->zp;
  p->scale = in->scale;
  p->count = (int32_t)hb_elems(in);
  return HB_OK;
}

void hb_eval_quantize_f32(hb_engine_t *e, const hb_op_t *op) {
  const hb_quant_params_t *p = &op->p.quant;
  const float *x = (const float *)(const void *)HB_T(e, op, 0)->data;
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
  for (int32_t i = 0; i < p->count; i++) {
    float r = hb_roundf(x[i] / p->scale);
    int32_t v = r > 1000.0f ? 1000 : r < -1000.0f ? -1000 : r == r ? (int32_t)r : 0;  /* NaN -> 0 */
    v += p->out_zp;
    y[i] = (int8_t)(v > 127 ? 127 : (v < -128 ? -128 : v));
  }
}

void hb_eval_requantize(hb_engine_t *e, const hb_op_t *op) {
  const hb_quant_params_t *p = &op->p.quant;
  const int8_t *x = (const int8_t *)HB_T(e, op, 0)->data;
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
  for (int32_t i = 0; i < p->count; i++) {
    int32_t v = hb_add_wrap(hb_mbqm(x[i] - p->in_zp, p->mult, p->shift), p->out_zp);
    y[i] = (int8_t)(v > 127 ? 127 : (v < -128 ? -128 : v));
  }
}

/* scale * (q - zp) in float equals the reference's double product rounded to float:
 * the exact product has at most 33 significant bits, so both round it once. */
void hb_eval_dequantize(hb_engine_t *e, const hb_op_t *op) {
  const hb_quant_params_t *p = &op->p.quant;
  const int8_t *x = (const int8_t *)HB_T(e, op, 0)->data;
  float *y = (float *)(void *)HB_OUT(e, op)->data;
  for (int32_t i = 0; i < p->count; i++) y[i] = p->scale * (float)(x[i] - p->in_zp);
}
