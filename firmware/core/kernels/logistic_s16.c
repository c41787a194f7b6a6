/* LOGISTIC and TANH int16 -> int16 (TFLM's int16 kernels): the input is rescaled to Q3.12-ish
 * steps by a 15-bit multiplier (3 * 2^k for the power-of-two scales TFLM detects), then read off
 * the 256-entry sigmoid table with linear interpolation (9 bits for LOGISTIC, 8 for TANH, which
 * uses tanh(x) = 2 sigmoid(2x) - 1). Output scale 2^-15, zero points 0. */
#include "s16.h"

#include "../fixedpoint.h"

/* ln(m) for m in [0.5, 1): 2 atanh((m - 1) / (m + 1)), |z| <= 1/3, to ~1e-15. */
static double ln_mantissa(double m) {
  const double z = (m - 1.0) / (m + 1.0), z2 = z * z;
  double term = z, sum = 0.0;
  for (int k = 1; k < 60; k += 2, term *= z2) sum += term / k;
  return 2.0 * sum;
}

/* TFLM's CheckedLog2: log2(x) rounded, and whether x is within 1e-3 (in log2) of a power of
 * two. TFLM computes it in float with logf; exactly computed, the two agree except within about
 * 1e-6 of the 1e-3 threshold, where we refuse rather than guess (*near). */
static int checked_log2(float x, int *log2_rounded, int *near) {
  int e;
  const double m = hb_frexp((double)x, &e);
  const double v = (double)e + ln_mantissa(m) / 0.69314718055994530942;
  const double r = hb_round(v), frac = v - r < 0 ? r - v : v - r;
  *log2_rounded = (int)r;
  *near = frac > 1e-3 - 1e-5 && frac < 1e-3 + 1e-5;
  return frac < 1e-3;
}

/* in: scale -> (mult, shift) as TFLM's prepare; pot_shifts: which left shifts (bit k: k) count
 * as the power-of-two case (LOGISTIC: 0; TANH: 0 and 1). */
static int prepare_sig(hb_engine_t *e, int idx, unsigned pot_shifts, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_logistic_params_t *p = &op->p.logistic;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  int l2, near, ol2, onear;
  if (hb_need_type(e, idx, in, HB_INT16, "input", err) || hb_need_type(e, idx, out, HB_INT16, "output", err) ||
      hb_need_quant(e, idx, in, "input", err) || hb_need_quant(e, idx, out, "output", err) ||
      hb_need_sym16(e, idx, in, "input", err) || hb_need_sym16(e, idx, out, "output", err))
    return err->code;
  if (hb_elems(in) != hb_elems(out)) return hb_bad_shape(e, idx, "input and output sizes differ", err);
  const int pot = checked_log2(in->scale, &l2, &near), left = 12 + l2;
  if (!checked_log2(out->scale, &ol2, &onear) || ol2 != -15 || onear)
    return hb_unsupported(e, idx, "int16 output must have scale 2^-15 and zero point 0", err);
  if (near) return hb_unsupported(e, idx, "input scale at TFLM's power-of-two test boundary (1e-3 in log2)", err);
  if (pot && left >= 0 && left < 2 && (pot_shifts >> left & 1u)) {
    p->mult = 3 << left;
    p->shift = 0;
  } else {
    double m = (double)in->scale * 4096.0 * 3.0;
    int s = 0;
    while (m <= 32767.0 / 2.0 && s <= 30) { s++; m *= 2.0; }
    if (m > 32767.0) return hb_unsupported(e, idx, "int16 input scale above 8/3", err);
    p->mult = (int32_t)m;
    p->shift = s;
  }
  p->count = (int32_t)hb_elems(in);
  op->kind = hb_kind_s16(op->code);
  return HB_OK;
}

int hb_prepare_logistic_s16(hb_engine_t *e, int idx, hb_error_t *err) { return prepare_sig(e, idx, 1u, err); }
int hb_prepare_tanh(hb_engine_t *e, int idx, hb_error_t *err) { return prepare_sig(e, idx, 3u, err); }

/* The rescaled input (x * mult + round) >> shift. */
static inline int32_t rescale(int32_t x, const hb_logistic_params_t *p) {
  const int32_t round = p->shift > 0 ? (int32_t)1 << (p->shift - 1) : 0;
  return (x * p->mult + round) >> p->shift;  /* |x * mult| < 2^30 */
}

void hb_eval_logistic_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_logistic_params_t *p = &op->p.logistic;
  const int16_t *x = (const int16_t *)(const void *)HB_T(e, op, 0)->data;
  int16_t *y = (int16_t *)(void *)HB_OUT(e, op)->data;
  for (int32_t i = 0; i < p->count; i++) {
    const int32_t v = rescale(x[i], p);
    const uint32_t a = v < 0 ? 0u - (uint32_t)v : (uint32_t)v, hi = a >> 9;
    uint32_t r = 0x7FFFu << 10;
    if (hi < 255) {
      const uint32_t ua = hb_lut_sigmoid_u16[hi], ub = hb_lut_sigmoid_u16[hi + 1];
      r = (ua << 9) + (a & 0x1ff) * (ub - ua);
    }
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    y[i] = (int16_t)(r >> 10);
  }
}

void hb_eval_tanh_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_logistic_params_t *p = &op->p.logistic;
  const int16_t *x = (const int16_t *)(const void *)HB_T(e, op, 0)->data;
  int16_t *y = (int16_t *)(void *)HB_OUT(e, op)->data;
  for (int32_t i = 0; i < p->count; i++) {
    const int32_t v = rescale(x[i], p);
    const uint32_t a = v < 0 ? 0u - (uint32_t)v : (uint32_t)v, hi = a >> 8;
    int32_t r = (int32_t)(0xFFFFu << 8);
    if (hi < 255) {
      const uint32_t ua = hb_lut_sigmoid_u16[hi], ub = hb_lut_sigmoid_u16[hi + 1];
      r = (int32_t)((ua << 8) + (a & 0xff) * (ub - ua));
    }
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    y[i] = (int16_t)(r >> 8);
  }
}
