/* CONV_2D and DEPTHWISE_CONV_2D MAC loops with the DSP SIMD instructions (simd.h).
 * Each output is the same exact int32 sum of w * (x - in_zp) as in conv.c (the sum cannot
 * overflow: prepare limits the depth), formed in another order; bias, requantisation and
 * activation are conv.c's (conv_common.h), so both kernel sets are bit-exact.
 *
 * CONV_2D: the patches of PX = 4 output pixels are widened once into the scratch
 * (x - in_zp as int16, 0 where the window leaves the input), interleaved per 4 taps as
 * {x0,x2},{x1,x3} of pixel 0, then pixel 1, ... so one weight word, widened by SXTB16 and
 * SXTB16 ROR 8 into {w0,w2},{w1,w3}, feeds 4 pixels: 8 SMLAD per 16 MACs.
 * DEPTHWISE_CONV_2D (depth multiplier 1): the weights are widened once per invoke into the
 * scratch; 4 channels per step, one input word widened (SXTAB16 adds the offset) per tap,
 * SMLABB/SMLATT into 4 accumulators. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"

uint32_t hb_dsp_scratch[HB_DSP_SCRATCH_BYTES / 4];

#define PX 4 /* output pixels per CONV_2D block */

typedef struct {
  const int8_t *x;
  int H, W, C, KH, KW, FC, K, G; /* G: whole 4-tap groups in the patch K */
  int OH, OW;
  size_t npix;
  int32_t in_off;
  const hb_conv_params_t *p;
} conv_geo_t;

static inline uint32_t set_lane(uint32_t word, int hi, int32_t v) {
  return hi ? (word & 0xFFFFu) | ((uint32_t)v << 16) : (word & 0xFFFF0000u) | ((uint32_t)v & 0xFFFFu);
}

/* Patch element k of pixel j: in a 4-tap group's interleaved words, or (k >= 4G) one
 * int32 word per element in the tail area. */
static inline void put(uint32_t *s, const conv_geo_t *g, int k, int j, int32_t v) {
  if (k < 4 * g->G) {
    uint32_t *wd = s + (k >> 2) * 2 * PX + j * 2 + (k & 1);
    *wd = set_lane(*wd, (k >> 1) & 1, v);
  } else {
    s[g->G * 2 * PX + (k - 4 * g->G) * PX + j] = (uint32_t)v;
  }
}

/* Widens pixel P's patch for filter group grp into block slot j. */
static void im2col(const conv_geo_t *g, size_t P, int grp, int j, uint32_t *s) {
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
      if ((g->FC & 3) == 0) { /* whole groups: one word in, two widened words out */
        for (int i = 0; i < g->FC; i += 4) {
          uint32_t *wd = s + ((k + i) >> 2) * 2 * PX + j * 2;
          uint32_t v = src ? hb_ld32(src + i) : 0;
          wd[0] = src ? hb_sxtab16(off2, v) : 0;
          wd[1] = src ? hb_sxtab16_ror8(off2, v) : 0;
        }
      } else {
        for (int i = 0; i < g->FC; i++) put(s, g, k + i, j, src ? (int32_t)src[i] + g->in_off : 0);
      }
    }
  }
}

/* One output channel's K weights against the PX widened patches in s. Per two 4-tap
 * groups: 2 LDR, 4 sign-extends, 8 LDR(D) of patches, 16 SMLAD for 32 MACs. */
static void mac_1xpx(const int8_t *w, const uint32_t *s, const conv_geo_t *g, int32_t a[PX]) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int n = g->G;
  for (; n >= 2; n -= 2, w += 8, s += 4 * PX) {
    uint32_t v = hb_ld32(w), lo = hb_sxtb16(v), hi = hb_sxtb16_ror8(v);
    a0 = hb_smlad(lo, s[0], a0); a0 = hb_smlad(hi, s[1], a0);
    a1 = hb_smlad(lo, s[2], a1); a1 = hb_smlad(hi, s[3], a1);
    a2 = hb_smlad(lo, s[4], a2); a2 = hb_smlad(hi, s[5], a2);
    a3 = hb_smlad(lo, s[6], a3); a3 = hb_smlad(hi, s[7], a3);
    v = hb_ld32(w + 4); lo = hb_sxtb16(v); hi = hb_sxtb16_ror8(v);
    a0 = hb_smlad(lo, s[8], a0); a0 = hb_smlad(hi, s[9], a0);
    a1 = hb_smlad(lo, s[10], a1); a1 = hb_smlad(hi, s[11], a1);
    a2 = hb_smlad(lo, s[12], a2); a2 = hb_smlad(hi, s[13], a2);
    a3 = hb_smlad(lo, s[14], a3); a3 = hb_smlad(hi, s[15], a3);
  }
  if (n) {
    uint32_t v = hb_ld32(w), lo = hb_sxtb16(v), hi = hb_sxtb16_ror8(v);
    a0 = hb_smlad(lo, s[0], a0); a0 = hb_smlad(hi, s[1], a0);
    a1 = hb_smlad(lo, s[2], a1); a1 = hb_smlad(hi, s[3], a1);
    a2 = hb_smlad(lo, s[4], a2); a2 = hb_smlad(hi, s[5], a2);
    a3 = hb_smlad(lo, s[6], a3); a3 = hb_smlad(hi, s[7], a3);
    w += 4; s += 2 * PX;
  }
  for (int k = 4 * g->G; k < g->K; k++, w++, s += PX) { /* the last K % 4 taps */
    a0 += *w * (int32_t)s[0]; a1 += *w * (int32_t)s[1];
    a2 += *w * (int32_t)s[2]; a3 += *w * (int32_t)s[3];
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
  if (((size_t)g.G * 2 + (size_t)(g.K - 4 * g.G)) * PX * 4 > HB_DSP_SCRATCH_BYTES) return 0;
  const int8_t *w = (const int8_t *)f->data;
  const int32_t *bias = hb_conv_bias(e, op);
  int8_t *y = (int8_t *)out->data;
  const int OC = out->dims[3], groups = g.C / g.FC, per_group = OC / groups;
  uint32_t *s = hb_dsp_scratch;
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

/* One kernel row of taps for 4 channels: a[c] += w[t][c] * (x[t][c] - in_zp). */
static inline void dw_row(const int8_t *xp, size_t xstep, const uint32_t *ws, int n, uint32_t off2, int32_t a[4]) {
  int32_t a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
  for (; n > 0; n--, xp += xstep, ws += 2) {
    uint32_t v = hb_ld32(xp), x02 = hb_sxtab16(off2, v), x13 = hb_sxtab16_ror8(off2, v);
    a0 = hb_smlabb(x02, ws[0], a0); a2 = hb_smlatt(x02, ws[0], a2);
    a1 = hb_smlabb(x13, ws[1], a1); a3 = hb_smlatt(x13, ws[1], a3);
  }
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

int hb_dwconv_dsp(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  const int KH = f->dims[1], KW = f->dims[2], T = KH * KW, OH = out->dims[1], OW = out->dims[2], C4 = C / 4;
  if (p->depth_mult != 1 || (size_t)C4 * T * 8 > HB_DSP_SCRATCH_BYTES) return 0;
  const int8_t *x = (const int8_t *)in->data, *w = (const int8_t *)f->data;
  const int32_t *bias = hb_conv_bias(e, op);
  int8_t *y = (int8_t *)out->data;
  const uint32_t off2 = hb_pack16(p->in_offset, p->in_offset);
  uint32_t *s = hb_dsp_scratch;
  for (int c4 = 0; c4 < C4; c4++) /* weights: [channel group][tap] {w0,w2},{w1,w3} */
    for (int t = 0; t < T; t++) {
      uint32_t v = hb_ld32(w + (size_t)t * C + 4 * c4);
      s[(c4 * T + t) * 2] = hb_sxtb16(v);
      s[(c4 * T + t) * 2 + 1] = hb_sxtb16_ror8(v);
    }
  const size_t xstep = (size_t)p->dil_w * C;
  for (int b = 0; b < B; b++)
    for (int oy = 0; oy < OH; oy++) {
      const int iy0 = oy * p->stride_h - p->pad_h;
      int ky0, ky1;
      hb_tap_range(iy0, p->dil_h, KH, H, &ky0, &ky1);
      for (int ox = 0; ox < OW; ox++) {
        const int ix0 = ox * p->stride_w - p->pad_w;
        int kx0, kx1;
        hb_tap_range(ix0, p->dil_w, KW, W, &kx0, &kx1);
        int8_t *yp = y + (((size_t)b * OH + oy) * OW + ox) * C;
        const int ky_end = kx0 < kx1 ? ky1 : ky0; /* a dilated window can miss the input */
        const int8_t *xw = x + (size_t)b * H * W * C + (size_t)(ky_end > ky0 ? ix0 + p->dil_w * kx0 : 0) * C;
        for (int c = 0; c < C; c += 4) {
          int32_t a[4] = {0, 0, 0, 0};
          if (c + 4 <= C) {
            for (int ky = ky0; ky < ky_end; ky++)
              dw_row(xw + (size_t)(iy0 + p->dil_h * ky) * W * C + c, xstep, s + ((c / 4) * T + ky * KW + kx0) * 2,
                     kx1 - kx0, off2, a);
          } else { /* the last C % 4 channels */
            for (int i = 0; i < C - c; i++)
              for (int ky = ky0; ky < ky_end; ky++)
                for (int kx = kx0; kx < kx1; kx++)
                  a[i] += (int32_t)w[((size_t)ky * KW + kx) * C + c + i] *
                          ((int32_t)xw[(size_t)(iy0 + p->dil_h * ky) * W * C + (size_t)(kx - kx0) * xstep + c + i] +
                           p->in_offset);
          }
          for (int i = 0; i < 4 && c + i < C; i++) yp[c + i] = hb_conv_out(a[i], bias, p, c + i);
        }
      }
    }
  return 1;
}
#endif
