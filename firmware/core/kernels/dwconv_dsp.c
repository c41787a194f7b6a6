/* DEPTHWISE_CONV_2D (depth multiplier 1) MAC loops with the DSP SIMD instructions (simd.h).
 * The same exact int32 sums as conv.c, then conv.c's bias/requantisation/activation
 * (conv_common.h): bit-exact with the plain C kernel by construction.
 *
 * The weights are widened once per invoke and each input row once (a ring of the rows one
 * window spans; in strips of columns when whole rows do not fit the scratch), both as pairs
 * {c0,c2},{c1,c3} per 4 channels (x - in_zp for the input); per
 * tap and 4 channels: 2 LDRD and SMLABB/SMLATT x 2. A whole 3x3 window is one block of 54
 * instructions for 36 MACs. Channels past the last multiple of 4 use the int8 data. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "dwconv3x3_dsp.h"
#include "requant_fast.h"

#define DW_TAP(xv, wv)                                                                        \
  do {                                                                                        \
    const uint64_t x_ = (xv), w_ = (wv);                                                      \
    a0 = hb_smlabb(hb_lo(x_), hb_lo(w_), a0); a2 = hb_smlatt(hb_lo(x_), hb_lo(w_), a2);       \
    a1 = hb_smlabb(hb_hi(x_), hb_hi(w_), a1); a3 = hb_smlatt(hb_hi(x_), hb_hi(w_), a3);       \
  } while (0)

#ifdef HB_DSP_ASM
#define DW_TAP_ASM(xoff, xadd) DW_TAP_ASM_AT(xs, xoff, xadd)
#define DW_TAP_ASM_AT(xp, xoff, xadd)                                                              \
  "ldrd %[x0], %[x1], [%[" #xp "], #" #xoff "]\n\t" xadd                                          \
  "ldrd %[w0], %[w1], [%[wk]], #8\n\t"                                                            \
  "smlabb %[a0], %[x0], %[w0], %[a0]\n\t"                                                         \
  "smlatt %[a2], %[x0], %[w0], %[a2]\n\t"                                                         \
  "smlabb %[a1], %[x1], %[w1], %[a1]\n\t"                                                         \
  "smlatt %[a3], %[x1], %[w1], %[a3]\n\t"
#define DW_OUT                                                                                     \
  [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [wk] "+r"(wk), [x0] "=&r"(x0_),       \
      [x1] "=&r"(x1_), [w0] "=&r"(w0_), [w1] "=&r"(w1_)
/* 3 adjacent taps (12 MACs); one tap, then xs += step bytes; a 3x3 window from three rows
 * (18 LDRD + 36 MACs). wk advances over the taps used. */
#define DW_TAPS3(xs, wk) __asm__(DW_TAP_ASM(0, "") DW_TAP_ASM(8, "") DW_TAP_ASM(16, "") : DW_OUT : [xs] "r"(xs) : "memory")
#define DW_TAP1(xs, wk, step) \
  __asm__(DW_TAP_ASM(0, "add %[xs], %[xs], %[st]\n\t") : DW_OUT, [xs] "+r"(xs) : [st] "r"(step) : "memory")
#define DW_ROW3_ASM(q) DW_TAP_ASM_AT(q, 0, "") DW_TAP_ASM_AT(q, 8, "") DW_TAP_ASM_AT(q, 16, "")
#define DW_3X3(q0, q1, q2, wk)                                                                     \
  __asm__(DW_ROW3_ASM(q0) DW_ROW3_ASM(q1) DW_ROW3_ASM(q2) : DW_OUT : [q0] "r"(q0), [q1] "r"(q1), [q2] "r"(q2) \
          : "memory")
#define DW_TEMPS uint32_t x0_, x1_, w0_, w1_
#else
#define DW_TAPS3(xs, wk) do { DW_TAP((xs)[0], wk[0]); DW_TAP((xs)[1], wk[1]); DW_TAP((xs)[2], wk[2]); wk += 3; } while (0)
#define DW_TAP1(xs, wk, step) do { DW_TAP(*xs, *wk); xs += (step) / 8; wk++; } while (0)
#define DW_3X3(q0, q1, q2, wk) do { DW_TAPS3(q0, wk); DW_TAPS3(q1, wk); DW_TAPS3(q2, wk); } while (0)
#define DW_TEMPS
#endif

#define DW_MAX_SPAN 32 /* input rows one window spans, (KH - 1) * dil_h + 1 */

typedef struct {
  const hb_conv_params_t *p;
  const int32_t *bias;
  const int8_t *w;     /* int8 weights [tap][channel], for the channel tail */
  const uint64_t *ws;  /* widened weights [group][tap] */
  int W, C, C4, KH, KW, T;
  int col0, RW;        /* the input columns in the ring: [col0, col0 + RW) */
} dw_ctx_t;

/* hb_conv_out, by requant_fast.h when prepare filled p->rq: the sum doubled plus bias2. */
static inline int8_t dw_out1(const dw_ctx_t *d, int32_t acc, int c) {
  const hb_conv_params_t *p = d->p;
  if (!p->rq) return hb_conv_out(acc, d->bias, p, c);
  return hb_act_clamp(hb_rq_out((int32_t)(2u * (uint32_t)acc + (uint32_t)p->rq[c].bias2), &p->rq[c]), p);
}

static inline void dw_out4(const dw_ctx_t *d, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int c, int8_t *yp) {
  yp[c] = dw_out1(d, a0, c);
  yp[c + 1] = dw_out1(d, a1, c + 1);
  yp[c + 2] = dw_out1(d, a2, c + 2);
  yp[c + 3] = dw_out1(d, a3, c + 3);
}

/* Every channel group of one output pixel whose window is the whole 3x3 kernel; q0..q2:
 * its three widened input rows at the window's first column. */
static void dw_pixel_3x3(const dw_ctx_t *d, const uint64_t *q0, const uint64_t *q1, const uint64_t *q2, int8_t *yp) {
  const uint64_t *wk = d->ws;
  for (int c4 = 0; c4 < d->C4; c4++, q0 += d->RW, q1 += d->RW, q2 += d->RW) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    DW_TEMPS;
    DW_3X3(q0, q1, q2, wk); /* wk ends at the next group's taps */
    dw_out4(d, a0, a1, a2, a3, 4 * c4, yp);
  }
}

/* Any window: kernel rows [ky0, ky1), n taps from column kx0, rows[ky] at that column. */
static void dw_pixel(const dw_ctx_t *d, const uint64_t *const *rows, int ky0, int ky1, int kx0, int n, int8_t *yp) {
  const int dil_w = d->p->dil_w, three = n == 3 && dil_w == 1;
  const size_t step = (size_t)dil_w * 8; /* bytes between taps in a widened row */
  for (int c4 = 0; c4 < d->C4; c4++) {
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    DW_TEMPS;
    for (int ky = ky0; ky < ky1; ky++) {
      const uint64_t *xs = rows[ky] + (size_t)c4 * d->RW, *wk = d->ws + (size_t)c4 * d->T + ky * d->KW + kx0;
      if (three) {
        DW_TAPS3(xs, wk);
      } else {
        for (int t = 0; t < n; t++) DW_TAP1(xs, wk, step);
      }
    }
    dw_out4(d, a0, a1, a2, a3, 4 * c4, yp);
  }
}

/* The last C % 4 channels from the int8 data; xw: the input at (window row iy0, column of kx0). */
static void dw_tail(const dw_ctx_t *d, const int8_t *xw, int ky0, int ky1, int kx0, int kx1, int8_t *yp) {
  const hb_conv_params_t *p = d->p;
  for (int c = 4 * d->C4; c < d->C; c++) {
    int32_t acc = 0;
    for (int ky = ky0; ky < ky1; ky++)
      for (int kx = kx0; kx < kx1; kx++)
        acc += (int32_t)d->w[((size_t)ky * d->KW + kx) * d->C + c] *
               ((int32_t)xw[((size_t)p->dil_h * (ky - ky0) * d->W + (size_t)p->dil_w * (kx - kx0)) * d->C + c] + p->in_offset);
    yp[c] = dw_out1(d, acc, c);
  }
}

/* The ring's columns of input row xrow widened into dst as [channel group][column] pairs. */
static void dw_widen_row(const dw_ctx_t *d, const int8_t *xrow, uint64_t *dst) {
  const uint32_t off2 = hb_pack16(d->p->in_offset, d->p->in_offset);
  xrow += (size_t)d->col0 * d->C;
  for (int ix = 0; ix < d->RW; ix++, xrow += d->C)
    for (int c4 = 0; c4 < d->C4; c4++) {
      const uint32_t v = hb_ld32(xrow + 4 * c4);
      dst[(size_t)c4 * d->RW + ix] = hb_widen4_off(off2, v);
    }
}

/* Output columns [ox0, ox1) of one output row: the ring holds the widened rows (and the
 * columns) their windows need. */
static void dw_out_row(const dw_ctx_t *d, const int8_t *xb, const uint64_t *const *ring_rows, int oy, int ox0,
                       int ox1, int H, int8_t *y) {
  const hb_conv_params_t *p = d->p;
  const int iy0 = oy * p->stride_h - p->pad_h;
  int ky0, ky1;
  hb_tap_range(iy0, p->dil_h, d->KH, H, &ky0, &ky1);
  for (int ox = ox0; ox < ox1; ox++) {
    const int ix0 = ox * p->stride_w - p->pad_w;
    int kx0, kx1;
    hb_tap_range(ix0, p->dil_w, d->KW, d->W, &kx0, &kx1);
    const int ky_end = kx0 < kx1 ? ky1 : ky0; /* a dilated window can miss the input */
    const int ix = ky_end > ky0 ? ix0 + p->dil_w * kx0 : 0;
    int8_t *yp = y + (size_t)ox * d->C;
    const uint64_t *rows[DW_MAX_SPAN]; /* per kernel row: the widened input at column ix */
    for (int ky = ky0; ky < ky_end; ky++) rows[ky] = ring_rows[ky] + (ix - d->col0);
    if (d->KH == 3 && d->KW == 3 && ky_end - ky0 == 3 && kx1 - kx0 == 3 && p->dil_w == 1)
      dw_pixel_3x3(d, rows[0], rows[1], rows[2], yp);
    else
      dw_pixel(d, rows, ky0, ky_end, kx0, kx1 - kx0, yp);
    if (d->C % 4 && ky_end > ky0)
      dw_tail(d, xb + ((size_t)(iy0 + p->dil_h * ky0) * d->W + (size_t)ix) * d->C, ky0, ky_end, kx0, kx1, yp);
    else if (d->C % 4)
      dw_tail(d, xb, ky0, ky0, kx0, kx1, yp); /* empty window: bias only */
  }
}

/* Output columns per strip: as many as the ring of R widened rows holds in the scratch
 * left after the weights (0: does not fit). */
static int dw_strip(const dw_ctx_t *d, size_t pairs, int R, int OW) {
  const size_t wpairs = (size_t)d->C4 * d->T;
  const int span = (d->KW - 1) * d->p->dil_w + 1; /* input columns of one window */
  if (wpairs >= pairs) return 0;
  const size_t cols = (pairs - wpairs) / ((size_t)R * d->C4);
  if (cols < (size_t)span) return 0;
  const size_t so = (cols - (size_t)span) / (size_t)d->p->stride_w + 1;
  return so < (size_t)OW ? (int)so : OW;
}

size_t hb_dwconv_dsp_scratch_size(const hb_engine_t *e, const hb_op_t *op) {
  (void)e, (void)op;
  return HB_DSP_SCRATCH_BYTES;
}

int hb_dwconv_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  if (hb_dw3x3_dsp(ctx, e, op)) return 1; /* 3x3 stride 1 or 2 with the fast requantisation */
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  dw_ctx_t d = {p, hb_conv_bias(e, op), (const int8_t *)f->data, (uint64_t *)ctx->buf, in->dims[2], in->dims[3],
                in->dims[3] / 4, f->dims[1], f->dims[2], f->dims[1] * f->dims[2], 0, 0};
  const int B = in->dims[0], H = in->dims[1], OH = out->dims[1], OW = out->dims[2];
  const int R = (d.KH - 1) * p->dil_h + 1, span = (d.KW - 1) * p->dil_w + 1;
  const int SO = p->depth_mult != 1 || d.C4 == 0 || R > DW_MAX_SPAN ? 0 : dw_strip(&d, ctx->size / 8, R, OW);
  if (SO < 1) return 0;
  uint64_t *ws = (uint64_t *)ctx->buf, *ring = ws + (size_t)d.C4 * d.T;
  for (int c4 = 0; c4 < d.C4; c4++) /* weights: [channel group][tap] */
    for (int t = 0; t < d.T; t++) {
      const uint32_t v = hb_ld32(d.w + (size_t)t * d.C + 4 * c4);
      ws[(size_t)c4 * d.T + t] = hb_widen4(v);
    }
  for (int ox0 = 0; ox0 < OW; ox0 += SO) { /* strips of output columns (one when the rows fit) */
    const int ox1 = OW - ox0 < SO ? OW : ox0 + SO;
    const int lo = ox0 * p->stride_w - p->pad_w, hi = (ox1 - 1) * p->stride_w - p->pad_w + span;
    d.col0 = lo < 0 ? 0 : lo;
    d.RW = (hi < d.W ? hi : d.W) - d.col0;
    if (d.RW < 0) d.RW = 0;
    for (int b = 0; b < B; b++) {
      const int8_t *xb = (const int8_t *)in->data + (size_t)b * H * d.W * d.C;
      int held[DW_MAX_SPAN]; /* the input row in each ring slot */
      for (int r = 0; r < R; r++) held[r] = -1;
      for (int oy = 0; oy < OH; oy++) {
        const uint64_t *ring_rows[DW_MAX_SPAN]; /* per kernel row inside the input: its ring slot */
        const int iy0 = oy * p->stride_h - p->pad_h;
        int ky0, ky1;
        hb_tap_range(iy0, p->dil_h, d.KH, H, &ky0, &ky1);
        for (int ky = ky0; ky < ky1; ky++) {
          const int iy = iy0 + p->dil_h * ky, slot = iy % R;
          uint64_t *dst = ring + (size_t)slot * d.C4 * d.RW;
          if (held[slot] != iy) dw_widen_row(&d, xb + (size_t)iy * d.W * d.C, dst);
          held[slot] = iy;
          ring_rows[ky] = dst;
        }
        dw_out_row(&d, xb, ring_rows, oy, ox0, ox1, H, (int8_t *)out->data + (((size_t)b * OH + oy) * OW) * d.C);
      }
    }
  }
  return 1;
}
#endif
