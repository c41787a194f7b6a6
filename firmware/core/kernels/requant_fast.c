/* Load-time half of requant_fast.h: per-channel constants and the accumulator bound. */
#include "requant_fast.h"

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

void hb_rq_prepare(hb_engine_t *e, hb_conv_params_t *p, const int8_t *w, int nch, int taps, int ch_stride,
                   int tap_stride, const int32_t *bias) {
  hb_rq_t *q = (hb_rq_t *)(void *)hb_persist_i32(e, 4u * (uint32_t)nch);
  p->rq = 0;
  if (!q || !p->mult || !p->shift) return;
  for (int c = 0; c < nch; c++) {
    const int32_t b = bias ? bias[c] : 0;
    if (!channel_ok(p, w + (size_t)c * ch_stride, taps, tap_stride, b, c)) return;
    const int r = -p->shift[c];
    q[c].bias2 = 2 * b;
    q[c].mult = p->mult[c];
    q[c].k = (1 << (r - 1)) + (int32_t)((uint32_t)p->out_offset << r);
    q[c].r = r;
  }
  p->rq = q;
}
