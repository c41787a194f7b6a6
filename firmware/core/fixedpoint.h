/* Integer requantisation arithmetic with the exact rounding of the TFLite reference
 * kernels ("double rounding"): a rounding doubling high multiply, then a rounding
 * right shift. Written from the published math; right shifts of negative values
 * are arithmetic (GCC/Clang on every target we build for). */
#ifndef HB_FIXEDPOINT_H
#define HB_FIXEDPOINT_H
#include <stdint.h>

/* round(a * b / 2^31), ties away from zero; the one overflow case saturates. */
static inline int32_t hb_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t v = (int64_t)a * b + ((int64_t)a * b >= 0 ? (1 << 30) : (1 - (1 << 30)));
  /* Division by 2^31 truncating toward zero, without a 64-bit divide call on Cortex-M. */
  if (v < 0) v += ((int64_t)1 << 31) - 1;
  return (int32_t)(v >> 31);
}

/* x / 2^exp rounded to nearest, ties away from zero; 0 <= exp <= 31. */
static inline int32_t hb_rdivpot(int32_t x, int exp) {
  int32_t mask = (int32_t)(((int64_t)1 << exp) - 1);
  int32_t rem = x & mask;
  int32_t thr = (mask >> 1) + (x < 0);
  return (x >> exp) + (rem > thr);
}

/* x * multiplier * 2^shift with the reference rounding; shift in [-31, 30]. The
 * left shift wraps like the reference's int32 multiply (no UB). */
static inline int32_t hb_mbqm(int32_t x, int32_t mult, int shift) {
  int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return hb_rdivpot(hb_srdhm((int32_t)((uint32_t)x << left), mult), right);
}

/* a + b wrapping like the reference's compiled int32 add, without C's UB. */
static inline int32_t hb_add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

/* Saturating x * 2^e, 0 <= e <= 31. */
static inline int32_t hb_sat_shl(int32_t x, int e) {
  int32_t thr = (int32_t)(((int64_t)1 << (31 - e)) - 1);
  if (x > thr) return INT32_MAX;
  if (x < -thr) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

/* ---- load-time helpers (fixedpoint.c) ---- */
/* Splits d > 0 into a Q31 multiplier and a power-of-two shift like the reference. */
void hb_quantize_multiplier(double d, int32_t *mult, int *shift);
/* frexp without libm: d = q * 2^e with q in [0.5, 1); d must be finite and > 0. */
double hb_frexp(double d, int *e);
/* round half away from zero, float and double, for |x| < 2^62. */
float hb_roundf(float x);
double hb_round(double x);

/* ---- fixed-point transcendental functions (gemmlowp's algorithms) ---- */
/* exp(a) for a <= 0, a in Q(int_bits), result in Q0.31. */
int32_t hb_exp_on_negative(int32_t a, int int_bits);
/* 1 / (1 + a) for a in [0, 1) in Q0.31, result in Q0.31. */
int32_t hb_one_over_one_plus_x(int32_t a);
/* 1 / (1 + exp(-a)), a in Q(int_bits), result in Q0.31. */
int32_t hb_logistic_q(int32_t a, int int_bits);
/* Reciprocal of x in Q(int_bits) as Q0.31 mantissa plus a count of bits over one. */
int32_t hb_reciprocal(int32_t x, int int_bits, int *num_bits_over_unit);

#endif
