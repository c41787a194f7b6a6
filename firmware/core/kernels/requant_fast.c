/* Load-time half of requant_fast.h: per-channel constants and the accumulator bound. */
#include "requant_fast.h"

#include "conv_common.h"

/* Largest |x - in_zp| over int8 x. */
static int64_t x_span(int32_t in_offset) {
  const int64_t hi = 127 + (int64_t)in_offset, lo = -128 + (int64_t)in_offset;
  return hi > -lo ? hi : -lo;
}

static int channel_ok(const hb_rq_src_t *s, const int8_t *w, int32_t bias, int c) {
  const int r = -s->shift[c];
  if (r < 1 || r > HB_RQ_MAX_R) return 0;
  int64_t sum = 0;
  for (int t = 0; t < s->taps; t++) {
    const int v = w[(size_t)t * s->tap_stride];
    sum += v < 0 ? -v : v;
  }
  const int64_t bound = (bias < 0 ? -(int64_t)bias : bias) + x_span(s->in_offset) * sum;
  return bound < ((int64_t)1 << 30);
}

static int all_zero(const hb_rq_src_t *s, const int8_t *w) {
  for (int t = 0; t < s->taps; t++)
    if (w[(size_t)t * s->tap_stride]) return 0;
  return 1;
}

/* A channel whose weights are all 0 (a pruned filter: its scale, hence its shift, can be far
 * outside the fast form's range) always outputs hb_requant(bias) + offset, computed here by the
 * reference function: with bias2 = 0 and m = 0 its sum is 0 and hb_rq_out gives k >> 1, so
 * k = 2 y + 1 with r = 1. y is clamped to [-256, 255] first, which no int8 clamp after it can tell. */
static hb_rq_t constant_channel(const hb_rq_src_t *s, int32_t bias, int c) {
  int32_t y = hb_add_wrap(hb_requant(bias, s->mult[c], s->shift[c]), s->out_offset);
  y = y < -256 ? -256 : y > 255 ? 255 : y;
  const hb_rq_t q = {0, 0, 2 * y + 1, 1};
  return q;
}

/* Whether every channel has channel 0's multiplier and shift. */
static int same_quant(const hb_rq_src_t *s) {
  for (int c = 1; c < s->nch; c++)
    if (s->mult[c] != s->mult[0] || s->shift[c] != s->shift[0]) return 0;
  return 1;
}

hb_rq_t *hb_rq_make(hb_engine_t *e, const hb_rq_src_t *s) {
  const int n = s->shared ? 1 : s->nch;
  hb_rq_t *q = (hb_rq_t *)(void *)hb_persist_i32(e, 4u * (uint32_t)n);
  if (!q || !s->mult || !s->shift || (s->shared && !same_quant(s))) return 0;
  for (int c = 0; c < s->nch; c++) {
    const int32_t b = s->bias ? s->bias[c] : 0;
    const int8_t *w = s->w + (size_t)c * s->ch_stride;
    if (!channel_ok(s, w, b, c)) {
      if (s->shared || !all_zero(s, w)) return 0;
      q[c] = constant_channel(s, b, c);
      continue;
    }
    if (c >= n) continue;
    const int r = -s->shift[c];
    q[c].bias2 = s->shared ? 0 : 2 * b;
    q[c].mult = s->mult[c];
    q[c].k = (1 << (r - 1)) + (int32_t)((uint32_t)s->out_offset << r);
    q[c].r = r;
  }
  return q;
}
