/* ADD and MUL on int16 (TFLM's general int16 paths): ADD rescales both inputs from a 2^15
 * left shift (the int8 path's 2^20), MUL requantises the int32 product once. Zero points are 0
 * (checked here); broadcast plan, multipliers and activation range are elementwise.c's. */
#include "s16.h"

#include "../fixedpoint.h"

int hb_binary_s16(hb_engine_t *e, int idx, hb_error_t *err) {
  const hb_op_t *op = &e->ops[idx];
  if (hb_need_sym16(e, idx, HB_T(e, op, 0), "input 1", err) || hb_need_sym16(e, idx, HB_T(e, op, 1), "input 2", err) ||
      hb_need_sym16(e, idx, HB_OUT(e, op), "output", err))
    return err->code;
  e->ops[idx].kind = hb_kind_s16(op->code);
  return HB_OK;
}

static inline int16_t clamp16(int32_t v, const hb_binary_params_t *p) {
  v = v < p->act_min ? p->act_min : v;
  return (int16_t)(v > p->act_max ? p->act_max : v);
}

static inline int16_t add1(const hb_binary_params_t *p, int32_t a, int32_t b) {
  const int32_t x1 = (int32_t)((uint32_t)(a + p->in1_offset) << p->left_shift);
  const int32_t x2 = (int32_t)((uint32_t)(b + p->in2_offset) << p->left_shift);
  const int32_t sum = hb_mbqm(x1, p->in1_mult, p->in1_shift) + hb_mbqm(x2, p->in2_mult, p->in2_shift);
  return clamp16(hb_add_wrap(hb_mbqm(sum, p->out_mult, p->out_shift), p->out_offset), p);
}

static inline int16_t mul1(const hb_binary_params_t *p, int32_t a, int32_t b) {
  const int32_t prod = (a + p->in1_offset) * (b + p->in2_offset);  /* |prod| <= 2^30 */
  return clamp16(hb_add_wrap(hb_mbqm(prod, p->out_mult, p->out_shift), p->out_offset), p);
}

/* Every output element in order; i1/i2 follow the inputs' strides (0 on broadcast dims). */
static void run16(hb_engine_t *e, const hb_op_t *op, int is_mul) {
  const hb_binary_params_t *p = &op->p.bin;
  const int16_t *a = (const int16_t *)(const void *)HB_T(e, op, 0)->data;
  const int16_t *b = (const int16_t *)(const void *)HB_T(e, op, 1)->data;
  int16_t *y = (int16_t *)(void *)HB_OUT(e, op)->data;
  int32_t idx[HB_MAX_DIMS] = {0};
  size_t i1 = 0, i2 = 0;
  for (int32_t o = 0; o < p->count; o++) {
    y[o] = is_mul ? mul1(p, a[i1], b[i2]) : add1(p, a[i1], b[i2]);
    for (int d = HB_MAX_DIMS - 1; d >= 0; d--) {  /* odometer: step the innermost dim, carry out */
      i1 += (size_t)p->str1[d];
      i2 += (size_t)p->str2[d];
      if (++idx[d] < p->out_dims[d]) break;
      i1 -= (size_t)p->str1[d] * (size_t)p->out_dims[d];
      i2 -= (size_t)p->str2[d] * (size_t)p->out_dims[d];
      idx[d] = 0;
    }
  }
}

void hb_eval_add_s16(hb_engine_t *e, const hb_op_t *op) { run16(e, op, 0); }
void hb_eval_mul_s16(hb_engine_t *e, const hb_op_t *op) { run16(e, op, 1); }
