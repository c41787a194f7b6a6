/* Load-time half of requant_fast.h: per-channel constants and the accumulator bound. */
#include "requant_fast.h"

#include "conv_common.h"

/* Largest |x - in_zp| over int8 x. */
static int64_t x_span(int32_t in_offset) {
  const int64_t hi = 127 + (int64_t)in_offset, lo = -128 + (int64_t)in_offset;
  return hi > -lo ? hi : -lo;
}

static int channel_ok(const hb_conv_params_t *p, const int8_t *w, int taps, int tap_stride, int32_t bias, int c) {
  const int r = -p->shift[c];
  if (r < 1 || r > HB_RQ_MAX_R) return 0;
  int64_t sum = 0;
  for (int t = 0; t < taps; t++) sum += w[(size_t)t * tap_stride] < 0 ? -w[(size_t)t * tap_stride] : w[(size_t)t * tap_stride];
  const int64_t bound = (bias < 0 ? -(int64_t)bias : bias) + x_span(p->in_offset) * sum;
  return bound < ((int64_t)1 << 30);
}

static int all_zero(const int8_t *w, int taps, int tap_stride) {
  for (int t = 0; t < taps; t++)
    if (w[(size_t)t * tap_stride]) return 0;
  return 1;
}

/* A channel whose weights are all 0 (a pruned filter: its scale, hence its shift, can be far
 * outside the fast form's range) always outputs hb_requant(bias) + offset, computed here by the
 * reference function: with bias2 = 0 and m = 0 its sum is 0 and hb_rq_out gives k >> 1, so
 * k = 2 y + 1 with r = 1. y is clamped to [-256, 255] first, which no int8 clamp after it can tell. */
static hb_rq_t constant_channel(const hb_conv_params_t *p, int32_t bias, int c) {
  int32_t y = hb_add_wrap(hb_requant(bias, p->mult[c], p->shift[c]), p->out_offset);
  y = y < -256 ? -256 : y > 255 ? 255 : y;
  const hb_rq_t q = {0, 0, 2 * y + 1, 1};
  return q;
}

void hb_rq_prepare(hb_engine_t *e, hb_conv_params_t *p, const int8_t *w, int nch, int taps, int ch_stride,
                   int tap_stride, const int32_t *bias) {
  hb_rq_t *q = (hb_rq_t *)(void *)hb_persist_i32(e, 4u * (uint32_t)nch);
  p->rq = 0;
  if (!q || !p->mult || !p->shift) return;
  for (int c = 0; c < nch; c++) {
    const int32_t b = bias ? bias[c] : 0;
    if (!channel_ok(p, w + (size_t)c * ch_stride, taps, tap_stride, b, c)) {
      if (!all_zero(w + (size_t)c * ch_stride, taps, tap_stride)) return;
      q[c] = constant_channel(p, b, c);
      continue;
    }
    const int r = -p->shift[c];
    q[c].bias2 = 2 * b;
    q[c].mult = p->mult[c];
    q[c].k = (1 << (r - 1)) + (int32_t)((uint32_t)p->out_offset << r);
    q[c].r = r;
  }
  p->rq = q;
}
