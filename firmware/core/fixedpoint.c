/* Load-time multiplier math and the fixed-point exp/reciprocal/logistic used by
 * SOFTMAX and LOGISTIC. The polynomial and Newton-Raphson constants are the
 * fixed-point values of exp(-1/8), 1/3, exp(-2^k), 48/17 and -32/17. */
#include "fixedpoint.h"

#include <string.h>

double hb_frexp(double d, int *e) {
  uint64_t u;
  int adj = 0;
  memcpy(&u, &d, sizeof u);
  if (((u >> 52) & 0x7ffu) == 0) {  /* subnormal: scale into the normal range */
    d *= 18014398509481984.0;        /* 2^54 */
    memcpy(&u, &d, sizeof u);
    adj = -54;
  }
  *e = (int)((u >> 52) & 0x7ffu) - 1022 + adj;
  u = (u & ~((uint64_t)0x7ff << 52)) | ((uint64_t)1022 << 52);
  memcpy(&d, &u, sizeof d);
  return d;
}

double hb_round(double x) {
  int64_t t = (int64_t)x;       /* truncates toward zero */
  double frac = x - (double)t;  /* exact for |x| < 2^52 */
  if (frac >= 0.5) t++;
  else if (frac <= -0.5) t--;
  return (double)t;
}

float hb_roundf(float x) {
  if (!(x < 8388608.0f && x > -8388608.0f)) return x;  /* already integral (or NaN) */
  int32_t t = (int32_t)x;
  float frac = x - (float)t;
  if (frac >= 0.5f) t++;
  else if (frac <= -0.5f) t--;
  return (float)t;
}

void hb_quantize_multiplier(double d, int32_t *mult, int *shift) {
  int e;
  if (!(d > 0.0)) { *mult = 0; *shift = 0; return; }
  double q = hb_frexp(d, &e);
  int64_t qf = (int64_t)hb_round(q * 2147483648.0);
  if (qf == ((int64_t)1 << 31)) { qf /= 2; e++; }
  if (e < -31) { e = 0; qf = 0; }  /* flush tiny multipliers to zero, as the reference */
  *mult = (int32_t)qf;
  *shift = e;
}

/* exp(a) for a in [-1/4, 0), Q0.31: Taylor series around -1/8. */
static int32_t exp_quarter(int32_t a) {
  const int32_t c_exp_m1_8 = 1895147668, c_1_3 = 715827883;
  int32_t x = (int32_t)((uint32_t)a + (1u << 28));
  int32_t x2 = hb_srdhm(x, x), x3 = hb_srdhm(x2, x), x4 = hb_srdhm(x2, x2);
  int32_t x4_4 = hb_rdivpot(x4, 2);
  int32_t poly = hb_rdivpot((int32_t)((uint32_t)hb_srdhm((int32_t)((uint32_t)x4_4 + (uint32_t)x3), c_1_3) + (uint32_t)x2), 1);
  return (int32_t)((uint32_t)c_exp_m1_8 + (uint32_t)hb_srdhm(c_exp_m1_8, (int32_t)((uint32_t)x + (uint32_t)poly)));
}

int32_t hb_exp_on_negative(int32_t a, int int_bits) {
  static const int32_t k_exp_pow2[7] = {  /* exp(-2^k) in Q0.31, k = -2 .. 4 */
    1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242 };
  const int frac_bits = 31 - int_bits;
  const int32_t quarter = (int32_t)1 << (frac_bits - 2);
  int32_t a_mod = (int32_t)((uint32_t)(a & (quarter - 1)) - (uint32_t)quarter);
  int32_t result = exp_quarter(int_bits ? hb_sat_shl(a_mod, int_bits) : a_mod);
  int32_t rem = (int32_t)((uint32_t)a_mod - (uint32_t)a);
  for (int k = -2; k <= 4; k++) {
    if (int_bits > k && (rem & ((int32_t)1 << (frac_bits + k))))
      result = hb_srdhm(result, k_exp_pow2[k + 2]);
  }
  if (int_bits > 5 && a < -((int32_t)1 << (36 - int_bits))) result = 0;  /* below -32 */
  return a == 0 ? INT32_MAX : result;
}

static int32_t rounding_half_sum(int32_t a, int32_t b) {
  int64_t s = (int64_t)a + b;
  return (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
}

int32_t hb_one_over_one_plus_x(int32_t a) {
  const int32_t c_48_17 = 1515870810, c_m32_17 = -1010580540, one_q2 = 1 << 29;
  int32_t half_den = rounding_half_sum(a, INT32_MAX);
  int32_t x = (int32_t)((uint32_t)c_48_17 + (uint32_t)hb_srdhm(half_den, c_m32_17));
  for (int i = 0; i < 3; i++) {  /* Newton-Raphson in Q2.29 */
    int32_t one_minus = (int32_t)((uint32_t)one_q2 - (uint32_t)hb_srdhm(half_den, x));
    x = (int32_t)((uint32_t)x + (uint32_t)hb_sat_shl(hb_srdhm(x, one_minus), 2));
  }
  return hb_sat_shl(x, 1);  /* x/2 in Q1.30 re-read as Q0.31 */
}

int32_t hb_logistic_q(int32_t a, int int_bits) {
  if (a == 0) return 1 << 30;
  int32_t abs_a = a > 0 ? a : (int32_t)(0u - (uint32_t)a);
  int32_t neg = (int32_t)(0u - (uint32_t)abs_a);
  int32_t pos_result = hb_one_over_one_plus_x(hb_exp_on_negative(neg, int_bits));
  return a > 0 ? pos_result : (int32_t)((uint32_t)INT32_MAX - (uint32_t)pos_result);
}

int32_t hb_reciprocal(int32_t x, int int_bits, int *num_bits_over_unit) {
  int headroom_plus_one = x ? __builtin_clz((uint32_t)x) : 32;
  *num_bits_over_unit = int_bits - headroom_plus_one;
  int32_t shifted_minus_one = (int32_t)(((uint32_t)x << (headroom_plus_one & 31)) - (1u << 31));
  return hb_one_over_one_plus_x(shifted_minus_one);
}
