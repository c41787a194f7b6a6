/* Per-channel requantisation parameters shared by CONV_2D, DEPTHWISE_CONV_2D and
 * FULLY_CONNECTED, computed once at load into the arena's persistent area. */
#include "quant_params.h"

#include "../fb.h"

int hb_channel_params(hb_engine_t *e, int idx, const hb_tensor_t *in, const hb_tensor_t *filter,
                      const hb_tensor_t *out, int nch, int qdim, int32_t **mult,
                      int32_t **shift, hb_error_t *err) {
  int per_channel = filter->nscales > 1;
  if (!filter->nscales) return hb_bad_shape(e, idx, "filter has no scale", err);
  if (per_channel && (filter->nscales != (uint32_t)nch || filter->qdim != qdim))
    return hb_bad_shape(e, idx, "filter per-channel scales do not match the output channels", err);
  if (hb_need_quant(e, idx, in, "input", err) || hb_need_quant(e, idx, out, "output", err)) return err->code;
  *mult = hb_persist_i32(e, (uint32_t)nch);
  *shift = hb_persist_i32(e, (uint32_t)nch);
  for (int c = 0; c < nch; c++) {
    float fs = fb_rd_f32(filter->qscales + 4u * (uint32_t)(per_channel ? c : 0));
    if (!(fs >= 0.0f && fs < 3.0e38f)) return hb_bad_shape(e, idx, "filter scale is not finite and >= 0", err);
    /* Every scale in double, the product too (TFLM, per-tensor FULLY_CONNECTED included:
     * a float product, as older TFLite formed it, moved ad01's multiplier by 29 and put
     * an accumulator on a rounding tie, 1 LSB off). */
    double real = (double)in->scale * (double)fs / (double)out->scale;
    int32_t m, s;
    if (hb_multiplier(e, idx, real, &m, &s, err)) return err->code;
    if (*mult && *shift) { (*mult)[c] = m; (*shift)[c] = s; }
  }
  return HB_OK;
}

int hb_bias_check(const hb_engine_t *e, int idx, int bias_ti, int nch, hb_error_t *err) {
  if (bias_ti < 0) return HB_OK;
  const hb_tensor_t *b = &e->tensors[bias_ti];
  if (hb_need_type(e, idx, b, HB_INT32, "bias", err)) return err->code;
  if (!b->is_const) return hb_unsupported(e, idx, "non-constant bias", err);
  if (hb_elems(b) != (uint32_t)nch) return hb_bad_shape(e, idx, "bias size does not match the output channels", err);
  return HB_OK;
}
