/* Byte movers: RESHAPE (copy), PAD / PADV2 (fill with the zero point or the given
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
  if (hb_need_type(e, idx, in, HB_INT8, "input", err) || hb_need_type(e, idx, out, HB_INT8, "output", err) ||
      hb_need_type(e, idx, pads, HB_INT32, "paddings", err) || hb_need_const(e, idx, pads, "non-constant paddings", err))
    return err->code;
  if (in->ndims != out->ndims || hb_elems(pads) != 2u * in->ndims || in->ndims < 1)
    return hb_bad_shape(e, idx, "paddings do not match the input rank", err);
  if (in->zp != out->zp || in->scale != out->scale) return hb_unsupported(e, idx, "input and output quantisation differ", err);
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
    if (hb_need_type(e, idx, cv, HB_INT8, "constant", err) || hb_need_const(e, idx, cv, "non-constant pad value", err))
      return err->code;
    if (hb_elems(cv) != 1) return hb_bad_shape(e, idx, "pad value is not a scalar", err);
    p->fill = ((const int8_t *)cv->data)[0];
  }
  return HB_OK;
}

/* Recursive over dims (at most 6 deep): rows of the last dim are copied into the filled output. */
static void pad_dim(const hb_move_params_t *p, int d, const int8_t *x, int8_t *y, const size_t *out_str,
                    const size_t *in_str) {
  int32_t before = p->before[d], n = p->in_dims[d];
  if (d == p->ndims - 1) {
    memcpy(y + before, x, (size_t)n);
    return;
  }
  for (int32_t i = 0; i < n; i++)
    pad_dim(p, d + 1, x + (size_t)i * in_str[d], y + (size_t)(before + i) * out_str[d], out_str, in_str);
}

void hb_eval_pad(hb_engine_t *e, const hb_op_t *op) {
  const hb_move_params_t *p = &op->p.move;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  size_t out_str[HB_MAX_DIMS], in_str[HB_MAX_DIMS], so = 1, si = 1;
  for (int d = p->ndims - 1; d >= 0; d--) {
    out_str[d] = so; in_str[d] = si;
    so *= (size_t)out->dims[d];
    si *= (size_t)p->in_dims[d];
  }
  memset(out->data, (int8_t)p->fill, out->bytes);  /* fill everything, then copy the input rows in */
  pad_dim(p, 0, (const int8_t *)in->data, (int8_t *)out->data, out_str, in_str);
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
    if (out->type == HB_INT8 && (in->zp != out->zp || in->scale != out->scale))
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
