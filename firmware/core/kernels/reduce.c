/* MEAN int8 (or int16) over constant axes: sum (int32), remove n * zero point, then one
 * requantisation whose multiplier already holds the 1/n (the reference's scheme). */
#include "../fixedpoint.h"
#include "../ops.h"

/* Splits the input dims into kept and reduced lists (each padded to 6 with 1s). */
static void split_dims(hb_mean_params_t *p, const hb_tensor_t *in, const uint8_t *reduced) {
  int nk = 0, nr = 0;
  int32_t str = 1, kstr[HB_MAX_DIMS], rstr[HB_MAX_DIMS], kd[HB_MAX_DIMS], rd[HB_MAX_DIMS];
  for (int d = in->ndims - 1; d >= 0; d--) {
    if (reduced[d]) { rd[nr] = in->dims[d]; rstr[nr++] = str; }
    else { kd[nk] = in->dims[d]; kstr[nk++] = str; }
    str *= in->dims[d];
  }
  for (int i = 0; i < HB_MAX_DIMS; i++) {  /* outermost first, so outputs come out row-major */
    p->kept_dims[i] = i < HB_MAX_DIMS - nk ? 1 : kd[HB_MAX_DIMS - 1 - i];
    p->kept_str[i] = i < HB_MAX_DIMS - nk ? 0 : kstr[HB_MAX_DIMS - 1 - i];
    p->red_dims[i] = i < HB_MAX_DIMS - nr ? 1 : rd[HB_MAX_DIMS - 1 - i];
    p->red_str[i] = i < HB_MAX_DIMS - nr ? 0 : rstr[HB_MAX_DIMS - 1 - i];
  }
}

static int read_axes(hb_engine_t *e, int idx, const hb_tensor_t *in, uint8_t *reduced, hb_error_t *err) {
  const hb_tensor_t *ax = HB_T(e, &e->ops[idx], 1);
  if (hb_need_type(e, idx, ax, HB_INT32, "axis", err) || hb_need_const(e, idx, ax, "non-constant axis", err))
    return err->code;
  const int32_t *a = (const int32_t *)(const void *)ax->data;
  for (int d = 0; d < HB_MAX_DIMS; d++) reduced[d] = 0;
  for (uint32_t i = 0; i < hb_elems(ax); i++) {
    int32_t v = a[i] < 0 ? a[i] + in->ndims : a[i];
    if (v < 0 || v >= in->ndims) return hb_bad_shape(e, idx, "axis out of range", err);
    reduced[v] = 1;
  }
  return HB_OK;
}

int hb_prepare_mean(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_mean_params_t *p = &op->p.mean;
  uint8_t reduced[HB_MAX_DIMS];
  if (hb_need_input(e, idx, 0, err) || hb_need_input(e, idx, 1, err)) return err->code;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  const int at = hb_act_type(in);
  if (hb_need_type(e, idx, in, at, "input", err) || hb_need_type(e, idx, out, at, "output", err) ||
      hb_need_quant(e, idx, in, "input", err) || hb_need_quant(e, idx, out, "output", err) ||
      read_axes(e, idx, in, reduced, err))
    return err->code;
  uint32_t n = 1;
  for (int d = 0; d < in->ndims; d++) n *= reduced[d] ? (uint32_t)in->dims[d] : 1u;
  if (hb_elems(in) / n != hb_elems(out)) return hb_bad_shape(e, idx, "output size does not match the kept dims", err);
  if (n > (at == HB_INT16 ? 1u << 15 : 1u << 23))  /* the int32 sum of n values minus n * zp */
    return hb_unsupported(e, idx, at == HB_INT16 ? "more than 2^15 int16 elements per mean" : "more than 2^23 elements per mean", err);
  split_dims(p, in, reduced);
  int32_t m, s;
  if (hb_multiplier(e, idx, (double)in->scale / (double)out->scale, &m, &s, err)) return err->code;
  /* Fold 1/n into the multiplier: shift by floor(log2 n) (capped), divide. */
  int k = 31 - __builtin_clz(n);
  if (k > 31 + s) k = 31 + s;
  p->mult = (int32_t)(((int64_t)m << k) / (int64_t)n);
  p->shift = s - k;
  p->n = (int32_t)n;
  p->in_zp = in->zp;
  p->out_zp = out->zp;
  p->outputs = (int32_t)hb_elems(out);
  return HB_OK;
}

/* The int32 sum over the reduced dims of int8 (or, wide, int16) x; strides in elements. */
static int32_t sum_reduced(const hb_mean_params_t *p, const uint8_t *x, int wide) {
  const int32_t *D = p->red_dims, *S = p->red_str;
  int32_t sum = 0;
  for (int i0 = 0; i0 < D[0]; i0++)
    for (int i1 = 0; i1 < D[1]; i1++)
      for (int i2 = 0; i2 < D[2]; i2++)
        for (int i3 = 0; i3 < D[3]; i3++)
          for (int i4 = 0; i4 < D[4]; i4++) {
            const size_t at = (size_t)i0 * S[0] + (size_t)i1 * S[1] + (size_t)i2 * S[2] + (size_t)i3 * S[3] +
                              (size_t)i4 * S[4];
            if (wide) {
              const int16_t *r = (const int16_t *)(const void *)x + at;
              for (int i5 = 0; i5 < D[5]; i5++) sum += r[(size_t)i5 * S[5]];
            } else {
              const int8_t *r = (const int8_t *)x + at;
              for (int i5 = 0; i5 < D[5]; i5++) sum += r[(size_t)i5 * S[5]];
            }
          }
  return sum;
}

void hb_eval_mean(hb_engine_t *e, const hb_op_t *op) {
  const hb_mean_params_t *p = &op->p.mean;
  const int wide = HB_T(e, op, 0)->type == HB_INT16;
  const uint8_t *x = HB_T(e, op, 0)->data;
  uint8_t *y = HB_OUT(e, op)->data;
  const int32_t lo = wide ? -32768 : -128, hi = wide ? 32767 : 127;
  int32_t idx[HB_MAX_DIMS] = { 0 };
  for (int32_t o = 0; o < p->outputs; o++) {
    size_t base = 0;
    for (int d = 0; d < HB_MAX_DIMS; d++) base += (size_t)idx[d] * p->kept_str[d];
    int32_t v = sum_reduced(p, x + base * (wide ? 2u : 1u), wide) - p->in_zp * p->n;
    v = hb_add_wrap(hb_mbqm(v, p->mult, p->shift), p->out_zp);
    v = v > hi ? hi : (v < lo ? lo : v);
    if (wide) ((int16_t *)(void *)y)[o] = (int16_t)v;
    else ((int8_t *)y)[o] = (int8_t)v;
    for (int d = HB_MAX_DIMS - 1; d >= 0; d--) {  /* odometer over the kept dims */
      if (++idx[d] < p->kept_dims[d]) break;
      idx[d] = 0;
    }
  }
}
