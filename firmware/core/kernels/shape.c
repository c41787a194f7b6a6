/* Byte movers (int8 or int16 elements): RESHAPE (copy), PAD / PADV2 (fill with the zero point or the given
 * constant), CONCATENATION (same quantisation on every input, like the reference). */
#include <string.h>

#include "../ops.h"

int hb_prepare_reshape(hb_engine_t *e, int idx, hb_error_t *err) {
  const hb_op_t *op = &e->ops[idx];
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  if (hb_need_input(e, idx, 0, err) || hb_need_type(e, idx, out, in->type, "output", err)) return err->code;
  if (in->bytes != out->bytes) return hb_bad_shape(e, idx, "input and output sizes differ", err);
  return HB_OK;
}

void hb_eval_reshape(hb_engine_t *e, const hb_op_t *op) {
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  if (out->data != in->data) memmove(out->data, in->data, out->bytes);
}

int hb_prepare_pad(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_move_params_t *p = &op->p.move;
  if (hb_need_input(e, idx, 0, err) || hb_need_input(e, idx, 1, err)) return err->code;
  const hb_tensor_t *in = HB_T(e, op, 0), *pads = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int at = hb_act_type(in);
  if (hb_need_type(e, idx, in, at, "input", err) || hb_need_type(e, idx, out, at, "output", err) ||
      hb_need_type(e, idx, pads, HB_INT32, "paddings", err) || hb_need_const(e, idx, pads, "non-constant paddings", err))
    return err->code;
  if (in->ndims != out->ndims || hb_elems(pads) != 2u * in->ndims || in->ndims < 1)
    return hb_bad_shape(e, idx, "paddings do not match the input rank", err);
  if (in->zp != out->zp || in->scale != out->scale) return hb_unsupported(e, idx, "input and output quantisation differ", err);
  if (out->zp < (at == HB_INT16 ? -32768 : -128) || out->zp > (at == HB_INT16 ? 32767 : 127))
    return hb_bad_shape(e, idx, "zero point outside the output type", err);
  if (at == HB_INT16 && op->nin < 3 && out->zp)  /* TFLM fills int16 PAD with 0, whatever the zero point */
    return hb_unsupported(e, idx, "int16 zero point must be 0 (TFLM pads int16 with 0)", err);
  const int32_t *pd = (const int32_t *)(const void *)pads->data;
  p->ndims = in->ndims;
  for (int d = 0; d < in->ndims; d++) {
    if (pd[2 * d] < 0 || pd[2 * d + 1] < 0 || (int64_t)in->dims[d] + pd[2 * d] + pd[2 * d + 1] != out->dims[d])
      return hb_bad_shape(e, idx, "output shape does not match input plus paddings", err);
    p->in_dims[d] = in->dims[d];
    p->before[d] = pd[2 * d];
  }
  p->fill = out->zp;
  if (op->nin > 2 && op->in[2] >= 0) {  /* PADV2 constant_values: an int8 scalar */
    const hb_tensor_t *cv = HB_T(e, op, 2);
    if (hb_need_type(e, idx, cv, at, "constant", err) || hb_need_const(e, idx, cv, "non-constant pad value", err))
      return err->code;
    if (hb_elems(cv) != 1) return hb_bad_shape(e, idx, "pad value is not a scalar", err);
    p->fill = at == HB_INT16 ? ((const int16_t *)(const void *)cv->data)[0] : ((const int8_t *)cv->data)[0];
  }
  p->elem = at == HB_INT16 ? 2 : 1;
  return HB_OK;
}

/* Recursive over dims (at most 6 deep): rows of the last dim are copied into the filled output;
 * strides and offsets in bytes (elements of p->elem bytes: int8 or int16). */
static void pad_dim(const hb_move_params_t *p, int d, const uint8_t *x, uint8_t *y, const size_t *out_str,
                    const size_t *in_str) {
  int32_t before = p->before[d], n = p->in_dims[d];
  if (d == p->ndims - 1) {
    memcpy(y + (size_t)before * (size_t)p->elem, x, (size_t)n * (size_t)p->elem);
    return;
  }
  for (int32_t i = 0; i < n; i++)
    pad_dim(p, d + 1, x + (size_t)i * in_str[d], y + (size_t)(before + i) * out_str[d], out_str, in_str);
}

void hb_eval_pad(hb_engine_t *e, const hb_op_t *op) {
  const hb_move_params_t *p = &op->p.move;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  size_t out_str[HB_MAX_DIMS], in_str[HB_MAX_DIMS], so = (size_t)p->elem, si = (size_t)p->elem;
  for (int d = p->ndims - 1; d >= 0; d--) {
    out_str[d] = so; in_str[d] = si;
    so *= (size_t)out->dims[d];
    si *= (size_t)p->in_dims[d];
  }
  if (p->elem == 1) {
    memset(out->data, (int8_t)p->fill, out->bytes);  /* fill everything, then copy the input rows in */
  } else {
    int16_t *y = (int16_t *)(void *)out->data;
    for (size_t i = 0; i < out->bytes / 2; i++) y[i] = (int16_t)p->fill;
  }
  pad_dim(p, 0, in->data, out->data, out_str, in_str);
}

/* ConcatenationOptions: axis(0) act(1). */
int hb_prepare_concat(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_move_params_t *p = &op->p.move;
  const hb_tensor_t *out = HB_OUT(e, op);
  fb_table_t t;
  int32_t axis = 0;
  uint8_t act = 0;
  int r = hb_options(e, idx, &t);
  if (r < 0 || (r > 0 && (fb_i32(&t, 0, 0, &axis) < 0 || fb_u8(&t, 1, 0, &act) < 0))) return hb_opt_corrupt(e, idx, err);
  if (act) return hb_unsupported(e, idx, "fused activation", err);
  if (axis < 0) axis += out->ndims;
  if (axis < 0 || axis >= out->ndims) return hb_bad_shape(e, idx, "axis out of range", err);
  int64_t sum = 0;
  for (int i = 0; i < op->nin; i++) {
    if (hb_need_input(e, idx, i, err)) return err->code;
    const hb_tensor_t *in = HB_T(e, op, i);
    if (hb_need_type(e, idx, in, out->type, "input", err)) return err->code;
    if ((out->type == HB_INT8 || out->type == HB_INT16) && (in->zp != out->zp || in->scale != out->scale))
      return hb_unsupported(e, idx, "inputs quantised differently from the output", err);
    if (in->ndims != out->ndims) return hb_bad_shape(e, idx, "input rank differs from the output", err);
    for (int d = 0; d < out->ndims; d++)
      if (d != axis && in->dims[d] != out->dims[d]) return hb_bad_shape(e, idx, "input dims differ off the axis", err);
    sum += in->dims[axis];
  }
  if (sum != out->dims[axis]) return hb_bad_shape(e, idx, "inputs do not add up to the output along the axis", err);
  p->axis_outer = 1;
  for (int d = 0; d < axis; d++) p->axis_outer *= out->dims[d];
  p->elem = (int32_t)(out->bytes / hb_elems(out));
  return HB_OK;
}

void hb_eval_concat(hb_engine_t *e, const hb_op_t *op) {
  const hb_move_params_t *p = &op->p.move;
  uint8_t *y = HB_OUT(e, op)->data;
  for (int32_t o = 0; o < p->axis_outer; o++) {
    for (int i = 0; i < op->nin; i++) {
      const hb_tensor_t *in = HB_T(e, op, i);
      size_t chunk = in->bytes / (size_t)p->axis_outer;
      memcpy(y, in->data + (size_t)o * chunk, chunk);
      y += chunk;
    }
  }
}
