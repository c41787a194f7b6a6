/* LOGISTIC int8 -> int8 (output scale 1/256, zero point -128): the input is
 * rescaled to Q4.27 and run through the fixed-point logistic; inputs beyond the
 * radius saturate. */
#include "../fixedpoint.h"
#include "../ops.h"

#define INPUT_INT_BITS 4

int hb_prepare_logistic(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_logistic_params_t *p = &op->p.logistic;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  if (hb_need_type(e, idx, in, HB_INT8, "input", err) || hb_need_type(e, idx, out, HB_INT8, "output", err) ||
      hb_need_quant(e, idx, in, "input", err))
    return err->code;
  if (out->zp != -128) return hb_unsupported(e, idx, "int8 output zero point must be -128", err);
  if (hb_elems(in) != hb_elems(out)) return hb_bad_shape(e, idx, "input and output sizes differ", err);
  /* Like the reference: frexp of scale * 2^27 with no renormalisation of a rounded-up 1.0. */
  int shift;
  double q = hb_frexp((double)in->scale * (double)(1 << (31 - INPUT_INT_BITS)), &shift);
  int64_t qf = (int64_t)hb_round(q * 2147483648.0);
  if (shift < 0) return hb_unsupported(e, idx, "input scale out of range", err);
  p->mult = qf >= ((int64_t)1 << 31) ? INT32_MIN : (int32_t)qf;
  p->shift = shift > 31 ? 31 : shift;
  /* Scales >= 8 (shift >= 31) give radius 0: every input saturates, as in the reference. */
  p->radius = shift >= 31 ? 0 : (int32_t)((((int64_t)1 << INPUT_INT_BITS) - 1) << (31 - INPUT_INT_BITS) >> shift);
  p->zp = in->zp;
  p->count = (int32_t)hb_elems(in);
  return HB_OK;
}

void hb_eval_logistic(hb_engine_t *e, const hb_op_t *op) {
  const hb_logistic_params_t *p = &op->p.logistic;
  const int8_t *x = (const int8_t *)HB_T(e, op, 0)->data;
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
  for (int32_t i = 0; i < p->count; i++) {
    int32_t v = x[i] - p->zp;
    if (v <= -p->radius) { y[i] = -128; continue; }
    if (v >= p->radius) { y[i] = 127; continue; }
    int32_t q0 = hb_logistic_q(hb_mbqm(v, p->mult, p->shift), INPUT_INT_BITS);
    int32_t o = hb_rdivpot(q0, 23) - 128;  /* Q0.31 -> 1/256 steps */
    y[i] = (int8_t)(o > 127 ? 127 : (o < -128 ? -128 : o));
  }
}
