/* FULLY_CONNECTED, int8: per-channel or per-tensor weights [out, accum], optional
 * int32 bias; batches = output elements / output depth. */
#include "../fixedpoint.h"
#include "../ops.h"
#include "quant_params.h"

/* FullyConnectedOptions: act(0) weights_format(1) keep_num_dims(2). */
int hb_prepare_fc(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_fc_params_t *p = &op->p.fc;
  fb_table_t t;
  uint8_t act = 0, fmt = 0;
  int r = hb_options(e, idx, &t);
  if (r < 0 || (r > 0 && (fb_u8(&t, 0, 0, &act) < 0 || fb_u8(&t, 1, 0, &fmt) < 0))) return hb_opt_corrupt(e, idx, err);
  if (fmt != 0) return hb_unsupported(e, idx, "shuffled weights format", err);
  if (hb_need_input(e, idx, 0, err) || hb_need_input(e, idx, 1, err)) return err->code;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  if (hb_need_type(e, idx, in, HB_INT8, "input", err) || hb_need_type(e, idx, f, HB_INT8, "weights", err) ||
      hb_need_type(e, idx, out, HB_INT8, "output", err) || hb_need_const(e, idx, f, "non-constant weights", err) ||
      hb_need_ndims(e, idx, f, 2, "weights", err))
    return err->code;
  if (out->ndims < 1) return hb_bad_shape(e, idx, "scalar output", err);
  p->out_depth = out->dims[out->ndims - 1];
  p->accum_depth = f->dims[1];
  p->batches = (int32_t)(hb_elems(out) / (uint32_t)p->out_depth);
  if (p->out_depth != f->dims[0] || (uint64_t)p->batches * (uint64_t)p->accum_depth != hb_elems(in))
    return hb_bad_shape(e, idx, "input, weights and output shapes disagree", err);
  if (f->zp < -128 || f->zp > 127) return hb_bad_shape(e, idx, "weights zero point out of range", err);
  p->in_offset = -in->zp;
  p->filter_offset = f->nscales > 1 ? 0 : -f->zp;  /* per-channel weights are symmetric */
  /* Each term is at most 128*255 (255*255 with a weights zero point): keep the sum in int32. */
  if (p->accum_depth > (p->filter_offset ? 32768 : 65536))
    return hb_unsupported(e, idx, "accumulation depth too large for int32 sums", err);
  p->out_offset = out->zp;
  if (hb_bias_check(e, idx, op->nin > 2 ? op->in[2] : -1, p->out_depth, err) ||
      hb_channel_params(e, idx, in, f, out, p->out_depth, 0, f->nscales <= 1, &p->mult, &p->shift, err))
    return err->code;
  return hb_act_range(e, idx, act, out, &p->act_min, &p->act_max, err);
}

void hb_eval_fc(hb_engine_t *e, const hb_op_t *op) {
  const hb_fc_params_t *p = &op->p.fc;
  const int8_t *x = (const int8_t *)HB_T(e, op, 0)->data, *w = (const int8_t *)HB_T(e, op, 1)->data;
  const int32_t *bias = op->nin > 2 && op->in[2] >= 0 ? (const int32_t *)(const void *)e->tensors[op->in[2]].data : 0;
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
  const int D = p->accum_depth;
  const int32_t fo = p->filter_offset, io = p->in_offset;
  for (int b = 0; b < p->batches; b++) {
    const int8_t *xb = x + (size_t)b * D;
    for (int oc = 0; oc < p->out_depth; oc++) {
      const int8_t *wr = w + (size_t)oc * D;
      int32_t acc = 0;
      if (fo == 0) {  /* symmetric weights (always, per-channel): one add fewer per MAC */
        for (int d = 0; d < D; d++) acc += (int32_t)wr[d] * ((int32_t)xb[d] + io);
      } else {
        for (int d = 0; d < D; d++) acc += ((int32_t)wr[d] + fo) * ((int32_t)xb[d] + io);
      }
      if (bias) acc = hb_add_wrap(acc, bias[oc]);
      acc = hb_add_wrap(hb_mbqm(acc, p->mult[oc], p->shift[oc]), p->out_offset);
      acc = acc < p->act_min ? p->act_min : acc;
      y[(size_t)b * p->out_depth + oc] = (int8_t)(acc > p->act_max ? p->act_max : acc);
    }
  }
}
