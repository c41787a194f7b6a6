/* CONV_2D and DEPTHWISE_CONV_2D MAC loops with the DSP SIMD instructions (simd.h).
 * Each output is the same exact int32 sum of w * (x - in_zp) as in conv.c (the sum cannot
 * overflow: prepare limits the depth), formed in another order; bias, requantisation and
 * activation are conv.c's (conv_common.h), so both kernel sets are bit-exact.
 *
 * CONV_2D: the patches of PX = 4 output pixels are widened once into the scratch
 * (x - in_zp as int16, 0 where the window leaves the input) as one pair {x0,x2},{x1,x3}
 * per 4 taps and pixel; one weight word, widened by SXTB16 and SXTB16 ROR 8 into
 * {w0,w2},{w1,w3}, feeds the 4 pixels: per 4 taps 1 LDR, 2 extends, 4 LDRD, 8 SMLAD (16 MACs).
 * DEPTHWISE_CONV_2D (depth multiplier 1): the weights are widened once per invoke, and each
 * input row once (a ring of the rows one window spans), both as pairs per 4 channels; per
 * tap and 4 channels 2 LDRD and SMLABB/SMLATT x 2 (4 MACs). */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"

uint64_t hb_dsp_scratch[HB_DSP_SCRATCH_BYTES / 8];

#define PX 4 /* output pixels per CONV_2D block */

typedef struct {
  const int8_t *x;
  int H, W, C, KH, KW, FC, K, G; /* G: whole 4-tap groups in the patch K */
  int OH, OW;
  size_t npix;
  int32_t in_off;
  const hb_conv_params_t *p;
} conv_geo_t;

/* Patch element k of pixel j: one int16 lane of group k/4's pair (word k&1, half (k>>1)&1);
 * the last K % 4 elements one entry each (low word) after the whole groups. */
static inline void put(uint64_t *s, const conv_geo_t *g, int k, int j, int32_t v) {
  if (k < 4 * g->G) {
    const int sh = 32 * (k & 1) + 16 * ((k >> 1) & 1);
    uint64_t *e = s + (size_t)(k >> 2) * PX + j;
    *e = (*e & ~((uint64_t)0xFFFFu << sh)) | ((uint64_t)((uint32_t)v & 0xFFFFu) << sh);
  } else {
    s[((size_t)g->G + (size_t)(k - 4 * g->G)) * PX + j] = (uint32_t)v;
  }
}

/* Widens pixel P's patch for filter group grp into block slot j. */
static void im2col(const conv_geo_t *g, size_t P, int grp, int j, uint64_t *s) {
  const hb_conv_params_t *p = g->p;
  if (P >= g->npix) {
    for (int k = 0; k < g->K; k++) put(s, g, k, j, 0);
    return;
  }
  const int b = (int)(P / ((size_t)g->OH * g->OW)), r = (int)(P % ((size_t)g->OH * g->OW));
  const int iy0 = (r / g->OW) * p->stride_h - p->pad_h, ix0 = (r % g->OW) * p->stride_w - p->pad_w;
  const int8_t *xb = g->x + (size_t)b * g->H * g->W * g->C + (size_t)grp * g->FC;
  const uint32_t off2 = hb_pack16(g->in_off, g->in_off);
  int k = 0;
  for (int ky = 0; ky < g->KH; ky++) {
    const int iy = iy0 + p->dil_h * ky;
    for (int kx = 0; kx < g->KW; kx++, k += g->FC) {
      const int ix = ix0 + p->dil_w * kx;
      const int8_t *src = iy >= 0 && iy < g->H && ix >= 0 && ix < g->W ? xb + ((size_t)iy * g->W + ix) * g->C : 0;
      if ((g->FC & 3) == 0) { /* whole groups: one word in, one pair out */
        for (int i = 0; i < g->FC; i += 4) {
          const uint32_t v = src ? hb_ld32(src + i) : 0;
          s[(size_t)((k + i) >> 2) * PX + j] = src ? hb_pair(hb_sxtab16(off2, v), hb_sxtab16_ror8(off2, v)) : 0;
        }
      } else {
        for (int i = 0; i < g->FC; i++) put(s, g, k + i, j, src ? (int32_t)src[i] + g->in_off : 0);
      }
    }
  }
}

/* One weight word (4 taps) against the 4 pixels' pairs at e. */
#define MAC_4TAPS(v, e)                                                                        \
  do {                                                                                         \
    const uint32_t lo_ = hb_sxtb16(v), hi_ = hb_sxtb16_ror8(v);                                \
    uint64_t x_ = (e)[0];                                                                      \
    a0 = hb_smlad(lo_, hb_lo(x_), a0); a0 = hb_smlad(hi_, hb_hi(x_), a0);                      \
    x_ = (e)[1]; a1 = hb_smlad(lo_, hb_lo(x_), a1); a1 = hb_smlad(hi_, hb_hi(x_), a1);         \
    x_ = (e)[2]; a2 = hb_smlad(lo_, hb_lo(x_), a2); a2 = hb_smlad(hi_, hb_hi(x_), a2);         \
    x_ = (e)[3]; a3 = hb_smlad(lo_, hb_lo(x_), a3); a3 = hb_smlad(hi_, hb_hi(x_), a3);         \
  } while (0)

#ifdef HB_DSP_ASM
/* MAC_4TAPS by hand: 1 LDR, 4 LDRD, 2 extends, 8 SMLAD; w and s advance. */
#define MAC_GROUP(w, s)                                                                                    \
  __asm__("ldr %[v], [%[wp]], #4\n\t"                                                                    \
          "ldrd %[x0], %[x1], [%[sx]], #8\n\t"                                                           \
          "sxtb16 %[lo], %[v]\n\t"                                                                       \
          "sxtb16 %[v], %[v], ror #8\n\t"                                                                \
          "smlad %[a0], %[lo], %[x0], %[a0]\n\t"                                                         \
          "smlad %[a0], %[v], %[x1], %[a0]\n\t"                                                          \
          "ldrd %[x0], %[x1], [%[sx]], #8\n\t"                                                           \
          "smlad %[a1], %[lo], %[x0], %[a1]\n\t"                                                         \
          "smlad %[a1], %[v], %[x1], %[a1]\n\t"                                                          \
          "ldrd %[x0], %[x1], [%[sx]], #8\n\t"                                                           \
          "smlad %[a2], %[lo], %[x0], %[a2]\n\t"                                                         \
          "smlad %[a2], %[v], %[x1], %[a2]\n\t"                                                          \
          "ldrd %[x0], %[x1], [%[sx]], #8\n\t"                                                           \
          "smlad %[a3], %[lo], %[x0], %[a3]\n\t"                                                         \
          "smlad %[a3], %[v], %[x1], %[a3]"                                                                \
          : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [wp] "+r"(w), [sx] "+r"(s),         \
            [v] "=&r"(v_), [lo] "=&r"(lo_), [x0] "=&r"(x0_), [x1] "=&r"(x1_)                                \
          :                                                                                                \
          : "memory")
#else
#define MAC_GROUP(w, s) do { MAC_4TAPS(hb_ld32(w), s); w += 4; s += PX; } while (0)
#endif

/* One output channel's K weights against the PX widened patches in s; 16 taps a pass. */
static void mac_1xpx(const int8_t *w, const uint64_t *s, const conv_geo_t *g, int32_t a[PX]) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#ifdef HB_DSP_ASM
  uint32_t v_, lo_, x0_, x1_;
#endif
  for (const int8_t *end = w + 16 * (g->G / 4); w != end;) {
    MAC_GROUP(w, s); MAC_GROUP(w, s); MAC_GROUP(w, s); MAC_GROUP(w, s);
  }
  for (int n = g->G % 4; n > 0; n--) MAC_GROUP(w, s);
  for (int k = 4 * g->G; k < g->K; k++, w++, s += PX) { /* the last K % 4 taps */
    a0 += *w * (int32_t)hb_lo(s[0]); a1 += *w * (int32_t)hb_lo(s[1]);
    a2 += *w * (int32_t)hb_lo(s[2]); a3 += *w * (int32_t)hb_lo(s[3]);
  }
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

int hb_conv_dsp(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  conv_geo_t g = {(const int8_t *)in->data, in->dims[1], in->dims[2], in->dims[3], f->dims[1], f->dims[2],
                  f->dims[3], 0, 0, out->dims[1], out->dims[2], 0, p->in_offset, p};
  g.K = g.KH * g.KW * g.FC;
  g.G = g.K / 4;
  g.npix = (size_t)in->dims[0] * g.OH * g.OW;
  if (((size_t)g.G + (size_t)(g.K - 4 * g.G)) * PX * 8 > HB_DSP_SCRATCH_BYTES) return 0;
  const int8_t *w = (const int8_t *)f->data;
  const int32_t *bias = hb_conv_bias(e, op);
  int8_t *y = (int8_t *)out->data;
  const int OC = out->dims[3], groups = g.C / g.FC, per_group = OC / groups;
  uint64_t *s = hb_dsp_scratch;
  for (size_t p0 = 0; p0 < g.npix; p0 += PX) {
    const int n = g.npix - p0 < PX ? (int)(g.npix - p0) : PX;
    for (int grp = 0; grp < groups; grp++) {
      for (int j = 0; j < PX; j++) im2col(&g, p0 + (size_t)j, grp, j, s);
      for (int oc = grp * per_group; oc < (grp + 1) * per_group; oc++) {
        int32_t a[PX];
        mac_1xpx(w + (size_t)oc * g.K, s, &g, a);
        for (int j = 0; j < n; j++) y[(p0 + (size_t)j) * OC + oc] = hb_conv_out(a[j], bias, p, oc);
      }
    }
  }
  return 1;
}

/* DEPTHWISE_CONV_2D: 4 channels of one tap; pairs {c0,c2},{c1,c3} of input and weights. */
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
#define DW_OPERANDS                                                                                \
  [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [xs] "+r"(xs), [wk] "+r"(wk),         \
      [x0] "=&r"(x0_), [x1] "=&r"(x1_), [w0] "=&r"(w0_), [w1] "=&r"(w1_)
/* 3 adjacent taps (2 LDRD + 4 MACs each, 12 MACs); one tap, then xs += step. wk advances. */
#define DW_TAPS3(xs, wk) __asm__(DW_TAP_ASM(0, "") DW_TAP_ASM(8, "") DW_TAP_ASM(16, "") : DW_OPERANDS : : "memory")
#define DW_TAP1(xs, wk, step) \
  __asm__(DW_TAP_ASM(0, "add %[xs], %[xs], %[st]\n\t") : DW_OPERANDS : [st] "r"(step) : "memory")
/* A whole 3x3 window from three widened rows: 18 LDRD + 36 MACs; wk advances 9 taps. */
#define DW_ROW3_ASM(q) DW_TAP_ASM_AT(q, 0, "") DW_TAP_ASM_AT(q, 8, "") DW_TAP_ASM_AT(q, 16, "")
#define DW_3X3(q0, q1, q2, wk)                                                                     \
  __asm__(DW_ROW3_ASM(q0) DW_ROW3_ASM(q1) DW_ROW3_ASM(q2)                                          \
          : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [wk] "+r"(wk),             \
            [x0] "=&r"(x0_), [x1] "=&r"(x1_), [w0] "=&r"(w0_), [w1] "=&r"(w1_)                      \
          : [q0] "r"(q0), [q1] "r"(q1), [q2] "r"(q2)                                               \
          : "memory")
#else
#define DW_3X3(q0, q1, q2, wk) do { DW_TAPS3(q0, wk); DW_TAPS3(q1, wk); DW_TAPS3(q2, wk); } while (0)
#define DW_TAPS3(xs, wk) do { DW_TAP(xs[0], wk[0]); DW_TAP(xs[1], wk[1]); DW_TAP(xs[2], wk[2]); wk += 3; } while (0)
#define DW_TAP1(xs, wk, step) do { DW_TAP(*xs, *wk); xs += (step) / 8; wk++; } while (0)
#endif

/* Input row iy widened into ring slot dst as [channel group][column] pairs. */
static void dw_widen_row(const int8_t *xrow, int W, int C, int C4, uint32_t off2, uint64_t *dst) {
  for (int ix = 0; ix < W; ix++, xrow += C)
    for (int c4 = 0; c4 < C4; c4++) {
      const uint32_t v = hb_ld32(xrow + 4 * c4);
      dst[(size_t)c4 * W + ix] = hb_pair(hb_sxtab16(off2, v), hb_sxtab16_ror8(off2, v));
    }
}

#define DW_MAX_SPAN 32 /* input rows one window spans, (KH - 1) * dil_h + 1 */

int hb_dwconv_dsp(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  const int KH = f->dims[1], KW = f->dims[2], T = KH * KW, OH = out->dims[1], OW = out->dims[2], C4 = C / 4;
  const int R = (KH - 1) * p->dil_h + 1;
  if (p->depth_mult != 1 || C4 == 0 || R > DW_MAX_SPAN ||
      ((size_t)C4 * T + (size_t)R * C4 * W) * 8 > HB_DSP_SCRATCH_BYTES)
    return 0;
  const int8_t *x = (const int8_t *)in->data, *w = (const int8_t *)f->data;
  const int32_t *bias = hb_conv_bias(e, op);
  int8_t *y = (int8_t *)out->data;
  const uint32_t off2 = hb_pack16(p->in_offset, p->in_offset);
  uint64_t *ws = hb_dsp_scratch, *ring = ws + (size_t)C4 * T;
  for (int c4 = 0; c4 < C4; c4++) /* weights: [channel group][tap] */
    for (int t = 0; t < T; t++) {
      const uint32_t v = hb_ld32(w + (size_t)t * C + 4 * c4);
      ws[(size_t)c4 * T + t] = hb_pair(hb_sxtb16(v), hb_sxtb16_ror8(v));
    }
  const size_t xstep = (size_t)p->dil_w * C;
  for (int b = 0; b < B; b++) {
    int held[DW_MAX_SPAN], slot[DW_MAX_SPAN]; /* input row in each ring slot; slot of each ky */
    for (int r = 0; r < R; r++) held[r] = -1;
    const int8_t *xb = x + (size_t)b * H * W * C;
    for (int oy = 0; oy < OH; oy++) {
      const int iy0 = oy * p->stride_h - p->pad_h;
      int ky0, ky1;
      hb_tap_range(iy0, p->dil_h, KH, H, &ky0, &ky1);
      for (int ky = ky0; ky < ky1; ky++) {
        const int iy = iy0 + p->dil_h * ky;
        slot[ky] = iy % R;
        if (held[slot[ky]] != iy)
          dw_widen_row(xb + (size_t)iy * W * C, W, C, C4, off2, ring + (size_t)slot[ky] * C4 * W);
        held[slot[ky]] = iy;
      }
      for (int ox = 0; ox < OW; ox++) {
        const int ix0 = ox * p->stride_w - p->pad_w;
        int kx0, kx1;
        hb_tap_range(ix0, p->dil_w, KW, W, &kx0, &kx1);
        const int ky_end = kx0 < kx1 ? ky1 : ky0; /* a dilated window can miss the input */
        const int ix = ky_end > ky0 ? ix0 + p->dil_w * kx0 : 0;
        int8_t *yp = y + (((size_t)b * OH + oy) * OW + ox) * C;
        const uint64_t *rows[DW_MAX_SPAN]; /* per kernel row: the widened input at column ix */
        for (int ky = ky0; ky < ky_end; ky++) rows[ky] = ring + (size_t)slot[ky] * C4 * W + ix;
        const int n = kx1 - kx0, three = n == 3 && p->dil_w == 1;
        const size_t step = (size_t)p->dil_w * 8; /* bytes between taps in a widened row */
        if (three && KH == 3 && KW == 3 && ky_end - ky0 == 3) { /* the whole 3x3 window */
          const uint64_t *q0 = rows[0], *q1 = rows[1], *q2 = rows[2], *wk = ws;
          for (int c4 = 0; c4 < C4; c4++, q0 += W, q1 += W, q2 += W) {
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#ifdef HB_DSP_ASM
            uint32_t x0_, x1_, w0_, w1_;
#endif
            DW_3X3(q0, q1, q2, wk); /* wk ends at the next group's taps */
            const int32_t a[4] = {a0, a1, a2, a3};
            for (int i = 0; i < 4; i++) yp[4 * c4 + i] = hb_conv_out(a[i], bias, p, 4 * c4 + i);
          }
        } else {
          for (int c4 = 0; c4 < C4; c4++) {
            int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#ifdef HB_DSP_ASM
            uint32_t x0_, x1_, w0_, w1_;
#endif
            for (int ky = ky0; ky < ky_end; ky++) {
              const uint64_t *xs = rows[ky] + (size_t)c4 * W, *wk = ws + (size_t)c4 * T + ky * KW + kx0;
              if (three) {
                DW_TAPS3(xs, wk);
              } else {
                for (int t = 0; t < n; t++) DW_TAP1(xs, wk, step);
              }
            }
            const int32_t a[4] = {a0, a1, a2, a3};
            for (int i = 0; i < 4; i++) yp[4 * c4 + i] = hb_conv_out(a[i], bias, p, 4 * c4 + i);
          }
        }
        for (int c = 4 * C4; c < C; c++) { /* the last C % 4 channels, from the int8 input */
          int32_t acc = 0;
          for (int ky = ky0; ky < ky_end; ky++)
            for (int kx = kx0; kx < kx1; kx++)
              acc += (int32_t)w[((size_t)ky * KW + kx) * C + c] *
                     ((int32_t)xb[(size_t)(iy0 + p->dil_h * ky) * W * C + (size_t)ix * C + (size_t)(kx - kx0) * xstep + c] +
                      p->in_offset);
          yp[c] = hb_conv_out(acc, bias, p, c);
        }
      }
    }
  }
  return 1;
}
#endif
