/* FULLY_CONNECTED with int16 activations and int8 weights (TFLM's 16x8 kernel): acc = sum
 * (w + fo) * x + bias, fo the per-tensor weights' offset (0 for per-channel weights), in int64
 * with an int64 bias (or none, unless the options ask for int32) and hb_requant64; in int32
 * (wrapping, as the compiled reference) with the int8 path's double rounding for an int32 bias.
 * Shapes, offsets and the depth limit are the int8 prepare's (fully_connected.c). */
#include "s16.h"

#include "quant_params.h"

int hb_fc_s16(hb_engine_t *e, int idx, int act, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_fc_params_t *p = &op->p.fc;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int bi = op->nin > 2 ? op->in[2] : -1;
  if (hb_need_sym16(e, idx, in, "input", err) || hb_need_sym16(e, idx, out, "output", err)) return err->code;
  if (hb_bias_check_s16(e, idx, p->out_depth, 1, err)) return err->code;
  if (hb_channel_params(e, idx, in, f, out, p->out_depth, 0, &p->mult, &p->shift, err)) return err->code;
  p->acc32 = (uint8_t)hb_acc32_s16(e, idx, 4);  /* FullyConnectedOptions.quantized_bias_type */
  if (!p->acc32 && hb_check_requant64(e, idx, p->shift, p->out_depth, bi, err)) return err->code;
  op->kind = hb_kind_s16(op->code);
  return hb_act_range(e, idx, act, out, &p->act_min, &p->act_max, err);
}

void hb_eval_fc_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_fc_params_t *p = &op->p.fc;
  const int16_t *x = (const int16_t *)(const void *)HB_T(e, op, 0)->data;
  const int8_t *w = (const int8_t *)HB_T(e, op, 1)->data;
  const uint8_t *bias = op->nin > 2 && op->in[2] >= 0 ? e->tensors[op->in[2]].data : 0;
  int16_t *y = (int16_t *)(void *)HB_OUT(e, op)->data;
  const int D = p->accum_depth;
  const int32_t fo = p->filter_offset;
  for (int b = 0; b < p->batches; b++) {
    const int16_t *xb = x + (size_t)b * D;
    for (int oc = 0; oc < p->out_depth; oc++) {
      const int8_t *wr = w + (size_t)oc * D;
      int64_t acc = 0;  /* |(w + fo) * x| <= 255 * 32768, depth <= 65536: exact */
      for (int d = 0; d < D; d++) acc += ((int32_t)wr[d] + fo) * (int32_t)xb[d];
      y[(size_t)b * p->out_depth + oc] =
          hb_mac_out16(acc, bias, p->acc32, oc, p->mult[oc], p->shift[oc], p->act_min, p->act_max);
    }
  }
}
