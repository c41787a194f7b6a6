/* ADD and MUL, int8, numpy-style broadcast up to 6-D, different input scales.
 * ADD rescales both inputs to a shared 2^20-scaled domain first (the reference
 * algorithm); MUL requantises the product of the offset inputs once. */
#include "../fixedpoint.h"
#include "../ops.h"
#include "s16.h"
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "elementwise_dsp.h"
#endif

/* Pads both input shapes to 6-D and derives strides (0 on broadcast dims). */
static int broadcast_plan(hb_engine_t *e, int idx, hb_binary_params_t *p, hb_error_t *err) {
  const hb_op_t *op = &e->ops[idx];
  const hb_tensor_t *a = HB_T(e, op, 0), *b = HB_T(e, op, 1), *out = HB_OUT(e, op);
  int32_t da[HB_MAX_DIMS], db[HB_MAX_DIMS], sa = 1, sb = 1;
  int rank = a->ndims > b->ndims ? a->ndims : b->ndims;
  if (out->ndims != rank) return hb_bad_shape(e, idx, "output rank does not match the broadcast", err);
  for (int d = 0; d < HB_MAX_DIMS; d++) {
    int k = d - (HB_MAX_DIMS - rank);  /* index into the output dims, right-aligned */
    int ka = d - (HB_MAX_DIMS - a->ndims), kb = d - (HB_MAX_DIMS - b->ndims);
    da[d] = ka >= 0 ? a->dims[ka] : 1;
    db[d] = kb >= 0 ? b->dims[kb] : 1;
    p->out_dims[d] = k >= 0 ? out->dims[k] : 1;
    int32_t want = da[d] > db[d] ? da[d] : db[d];
    if ((da[d] != 1 && da[d] != want) || (db[d] != 1 && db[d] != want) || p->out_dims[d] != want)
      return hb_bad_shape(e, idx, "input shapes do not broadcast to the output", err);
  }
  for (int d = HB_MAX_DIMS - 1; d >= 0; d--) {
    p->str1[d] = da[d] == p->out_dims[d] ? sa : 0;
    p->str2[d] = db[d] == p->out_dims[d] ? sb : 0;
    sa *= da[d];
    sb *= db[d];
  }
  p->count = (int32_t)hb_elems(out);
  p->broadcast = !(hb_same_shape(a, out) && hb_same_shape(b, out));
  return HB_OK;
}

/* Common: types, quantisation, broadcast plan, fused activation (AddOptions/MulOptions: act(0)). */
static int prepare_binary(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_binary_params_t *p = &op->p.bin;
  fb_table_t t;
  uint8_t act = 0;
  int r = hb_options(e, idx, &t);
  if (r < 0 || (r > 0 && fb_u8(&t, 0, 0, &act) < 0)) return hb_opt_corrupt(e, idx, err);
  if (hb_need_input(e, idx, 0, err) || hb_need_input(e, idx, 1, err)) return err->code;
  const hb_tensor_t *a = HB_T(e, op, 0), *b = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int at = hb_act_type(a);
  if (hb_need_type(e, idx, a, at, "input 1", err) || hb_need_type(e, idx, b, at, "input 2", err) ||
      hb_need_type(e, idx, out, at, "output", err) || (at == HB_INT16 && hb_binary_s16(e, idx, err)) || hb_need_quant(e, idx, a, "input 1", err) ||
      hb_need_quant(e, idx, b, "input 2", err) || hb_need_quant(e, idx, out, "output", err) ||
      broadcast_plan(e, idx, p, err))
    return err->code;
  p->in1_offset = -a->zp;
  p->in2_offset = -b->zp;
  p->out_offset = out->zp;
  return hb_act_range(e, idx, act, out, &p->act_min, &p->act_max, err);
}

static int small_multiplier(hb_engine_t *e, int idx, double real, int32_t *m, int8_t *s, hb_error_t *err) {
  int32_t sh;
  if (hb_multiplier(e, idx, real, m, &sh, err)) return err->code;
  if (sh > 0) return hb_unsupported(e, idx, "ADD output scale too small for its inputs", err);
  *s = (int8_t)sh;
  return HB_OK;
}

int hb_prepare_add(hb_engine_t *e, int idx, hb_error_t *err) {
  if (prepare_binary(e, idx, err)) return err->code;
  hb_op_t *op = &e->ops[idx];
  hb_binary_params_t *p = &op->p.bin;
  float s1 = HB_T(e, op, 0)->scale, s2 = HB_T(e, op, 1)->scale;
  double twice_max = 2.0 * (double)(s1 > s2 ? s1 : s2);
  p->left_shift = HB_OUT(e, op)->type == HB_INT16 ? 15 : 20;  /* TFLM: 15 for int16 */
  if (small_multiplier(e, idx, (double)s1 / twice_max, &p->in1_mult, &p->in1_shift, err) ||
      small_multiplier(e, idx, (double)s2 / twice_max, &p->in2_mult, &p->in2_shift, err) ||
      small_multiplier(e, idx, twice_max / ((double)(1 << p->left_shift) * (double)HB_OUT(e, op)->scale), &p->out_mult,
                       &p->out_shift, err))
    return err->code;
#ifdef HB_KERNELS_DSP
  hb_scratch_need(e, hb_add_dsp_scratch_size(op));
#endif
  return HB_OK;
}

int hb_prepare_mul(hb_engine_t *e, int idx, hb_error_t *err) {
  if (prepare_binary(e, idx, err)) return err->code;
  hb_op_t *op = &e->ops[idx];
  hb_binary_params_t *p = &op->p.bin;
  int32_t m, s;
  double real = (double)HB_T(e, op, 0)->scale * (double)HB_T(e, op, 1)->scale / (double)HB_OUT(e, op)->scale;
  if (hb_multiplier(e, idx, real, &m, &s, err)) return err->code;
  p->out_mult = m;
  p->out_shift = (int8_t)s;
  return HB_OK;
}

static inline int8_t clamp8(int32_t v, const hb_binary_params_t *p) {
  v = v < p->act_min ? p->act_min : v;
  return (int8_t)(v > p->act_max ? p->act_max : v);
}

typedef void (*row_fn)(const hb_binary_params_t *p, const int8_t *a, int sa, const int8_t *b, int sb, int8_t *y,
                       int n);

static void add_row(const hb_binary_params_t *p, const int8_t *a, int sa, const int8_t *b, int sb, int8_t *y, int n) {
  for (int i = 0; i < n; i++) {
    int32_t x1 = (int32_t)((uint32_t)(a[i * sa] + p->in1_offset) << 20);
    int32_t x2 = (int32_t)((uint32_t)(b[i * sb] + p->in2_offset) << 20);
    int32_t sum = hb_mbqm(x1, p->in1_mult, p->in1_shift) + hb_mbqm(x2, p->in2_mult, p->in2_shift);
    y[i] = clamp8(hb_add_wrap(hb_mbqm(sum, p->out_mult, p->out_shift), p->out_offset), p);
  }
}

static void mul_row(const hb_binary_params_t *p, const int8_t *a, int sa, const int8_t *b, int sb, int8_t *y, int n) {
  for (int i = 0; i < n; i++) {
    int32_t prod = (a[i * sa] + p->in1_offset) * (b[i * sb] + p->in2_offset);
    y[i] = clamp8(hb_add_wrap(hb_mbqm(prod, p->out_mult, p->out_shift), p->out_offset), p);
  }
}

/* Walks the 5 outer dims; the innermost one is handed to the row function. */
static void run(hb_engine_t *e, const hb_op_t *op, row_fn row) {
  const hb_binary_params_t *p = &op->p.bin;
  const int8_t *a = (const int8_t *)HB_T(e, op, 0)->data, *b = (const int8_t *)HB_T(e, op, 1)->data;
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
  if (!p->broadcast) { row(p, a, 1, b, 1, y, p->count); return; }
  const int32_t *D = p->out_dims, *s1 = p->str1, *s2 = p->str2;
  size_t o = 0;
  for (int i0 = 0; i0 < D[0]; i0++)
    for (int i1 = 0; i1 < D[1]; i1++)
      for (int i2 = 0; i2 < D[2]; i2++)
        for (int i3 = 0; i3 < D[3]; i3++)
          for (int i4 = 0; i4 < D[4]; i4++) {
            size_t oa = (size_t)i0 * s1[0] + (size_t)i1 * s1[1] + (size_t)i2 * s1[2] + (size_t)i3 * s1[3] + (size_t)i4 * s1[4];
            size_t ob = (size_t)i0 * s2[0] + (size_t)i1 * s2[1] + (size_t)i2 * s2[2] + (size_t)i3 * s2[3] + (size_t)i4 * s2[4];
            row(p, a + oa, s1[5], b + ob, s2[5], y + o, D[5]);
            o += (size_t)D[5];
          }
}

void hb_eval_add(hb_engine_t *e, const hb_op_t *op) {
#ifdef HB_KERNELS_DSP
  if (hb_add_dsp(&e->scratch, e, op)) return;
#endif
  run(e, op, add_row);
}
void hb_eval_mul(hb_engine_t *e, const hb_op_t *op) { run(e, op, mul_row); }
