/* CONV_2D with the DSP SIMD instructions (simd.h): the dispatcher, the 4-pixel path, and the
 * scratch shared by all DSP kernels. Each output is the same exact int32 sum of w * (x - in_zp)
 * as in conv.c (the sum cannot overflow: prepare limits the depth), formed in another order;
 * the requantisation is conv.c's (conv_common.h) or, when prepare filled p->rq, requant_fast.h's,
 * proven equal to it; so both kernel sets are bit-exact.
 *
 * DEPTHWISE_CONV_2D is in dwconv_dsp.c.
 *
 * CONV_2D has two paths:
 * - both operands widened (conv_wide_dsp.c), tried first: when the channels per group are even
 *   and enough pixels share the weights (widening_pays); 2 pixels x 2 channels per block, 10
 *   instructions per 16 MACs, requantisation in 9 a channel and pixel pair.
 * - the rest, here: the patches of PX = 4 output pixels are widened once into the scratch
 *   (x - in_zp as int16, 0 where the window leaves the input) as one pair {x0,x2},{x1,x3}
 *   per 4 taps and pixel; one weight word, widened by SXTB16 and SXTB16 ROR 8 into
 *   {w0,w2},{w1,w3}, feeds the 4 pixels: per 4 taps 1 LDR, 2 extends, 4 LDRD, 8 SMLAD. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "conv_dsp.h"
#include "requant_fast.h"


#define PX 4 /* output pixels per CONV_2D block */

/* Scratch bytes for kc taps of PX pixels. */
static size_t chunk_bytes(int kc) { return ((size_t)(kc / 4) + (size_t)(kc % 4)) * PX * 8; }

/* Patch element k (from k0) of pixel j: one int16 lane of group k/4's pair (word k&1,
 * half (k>>1)&1); the last kc % 4 elements one entry each (low word) after the groups. */
static inline void put(uint64_t *s, const conv_geo_t *g, int k, int j, int32_t v) {
  if (k < 4 * g->G) {
    const int sh = 32 * (k & 1) + 16 * ((k >> 1) & 1);
    uint64_t *e = s + (size_t)(k >> 2) * PX + j;
    *e = (*e & ~((uint64_t)0xFFFFu << sh)) | ((uint64_t)((uint32_t)v & 0xFFFFu) << sh);
  } else {
    s[((size_t)g->G + (size_t)(k - 4 * g->G)) * PX + j] = (uint32_t)v;
  }
}

/* Widens taps [k0, k0 + kc) of pixel P's patch for filter group grp into block slot j. */
static void im2col(const conv_geo_t *g, size_t P, int grp, int j, uint64_t *s) {
  const hb_conv_params_t *p = g->p;
  if (P >= g->npix) {
    for (int k = 0; k < g->kc; k++) put(s, g, k, j, 0);
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
      const int i0 = g->k0 > k ? g->k0 - k : 0, i1 = g->k0 + g->kc - k < g->FC ? g->k0 + g->kc - k : g->FC;
      if (i0 >= i1) continue; /* tap outside this chunk */
      const int ix = ix0 + p->dil_w * kx, kr = k - g->k0;
      const int8_t *src = iy >= 0 && iy < g->H && ix >= 0 && ix < g->W ? xb + ((size_t)iy * g->W + ix) * g->C : 0;
      if ((g->FC & 3) == 0) { /* whole groups (k0 is a multiple of 16): one word in, one pair out */
        for (int i = i0; i < i1; i += 4) {
          const uint32_t v = src ? hb_ld32(src + i) : 0;
          s[(size_t)((kr + i) >> 2) * PX + j] = src ? hb_widen4_off(off2, v) : 0;
        }
      } else {
        for (int i = i0; i < i1; i++) put(s, g, kr + i, j, src ? (int32_t)src[i] + g->in_off : 0);
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

/* One output channel's weights for the scratch's taps against the PX widened patches in s;
 * 16 taps a pass. Inlined, so that a[] stays in registers up to the requantisation. */
__attribute__((always_inline)) static inline void mac_1xpx(const int8_t *w, const uint64_t *s, const conv_geo_t *g,
                                                           int32_t a[PX]) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
#ifdef HB_DSP_ASM
  uint32_t v_, lo_, x0_, x1_;
#endif
  for (const int8_t *end = w + 16 * (g->G / 4); w != end;) {
    MAC_GROUP(w, s); MAC_GROUP(w, s); MAC_GROUP(w, s); MAC_GROUP(w, s);
  }
  for (int n = g->G % 4; n > 0; n--) MAC_GROUP(w, s);
  for (int k = 4 * g->G; k < g->kc; k++, w++, s += PX) { /* the last kc % 4 taps */
    a0 += *w * (int32_t)hb_lo(s[0]); a1 += *w * (int32_t)hb_lo(s[1]);
    a2 += *w * (int32_t)hb_lo(s[2]); a3 += *w * (int32_t)hb_lo(s[3]);
  }
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

/* Adds a to one channel's running block sums (int32 pairs {pixel 0,1},{2,3}; first: sets
 * them) and returns them in a. */
static void add_sums(uint64_t *e, int32_t a[PX], int first) {
  if (!first) {
    a[0] = hb_add_wrap(a[0], (int32_t)hb_lo(e[0])); a[1] = hb_add_wrap(a[1], (int32_t)hb_hi(e[0]));
    a[2] = hb_add_wrap(a[2], (int32_t)hb_lo(e[1])); a[3] = hb_add_wrap(a[3], (int32_t)hb_hi(e[1]));
  }
  e[0] = hb_pair((uint32_t)a[0], (uint32_t)a[1]);
  e[1] = hb_pair((uint32_t)a[2], (uint32_t)a[3]);
}

/* Output block p0 (n pixels) of filter group grp when its patches are longer than the
 * scratch: KC taps at a time, the block's sums kept in the scratch between chunks. */
static void conv_block_chunked(conv_geo_t *g, const int8_t *w, const int32_t *bias, int8_t *y, int OC,
                               int per_group, int grp, size_t p0, int n, int KC, uint64_t *sums, uint64_t *s) {
  for (g->k0 = 0; g->k0 < g->K; g->k0 += KC) {
    g->kc = g->K - g->k0 < KC ? g->K - g->k0 : KC;
    g->G = g->kc / 4;
    for (int j = 0; j < PX; j++) im2col(g, p0 + (size_t)j, grp, j, s);
    for (int oc = grp * per_group; oc < (grp + 1) * per_group; oc++) {
      int32_t a[PX];
      mac_1xpx(w + (size_t)oc * g->K + g->k0, s, g, a);
      add_sums(sums + (size_t)(oc - grp * per_group) * 2, a, g->k0 == 0);
      if (g->k0 + g->kc == g->K)
        for (int j = 0; j < n; j++) y[(p0 + (size_t)j) * OC + oc] = hb_conv_out(a[j], bias, g->p, oc);
    }
  }
}

size_t hb_conv_dsp_scratch_size(const hb_engine_t *e, const hb_op_t *op) {
  (void)e, (void)op;
  return HB_DSP_SCRATCH_BYTES;
}

int hb_conv_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  if (hb_conv_widened(ctx, e, op)) return 1;
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  conv_geo_t g = hb_conv_geo(e, op);
  const int8_t *w = (const int8_t *)f->data;
  const int32_t *bias = hb_conv_bias(e, op);
  int8_t *y = (int8_t *)out->data;
  const int OC = out->dims[3], groups = g.C / g.FC, per_group = OC / groups;
  uint64_t *s = (uint64_t *)ctx->buf, *sums = 0;
  int KC = g.K; /* taps per chunk (a multiple of 16) when a patch does not fit the scratch */
  if (chunk_bytes(3) > ctx->size) return 0;
  if (chunk_bytes(g.K) > ctx->size) {
    const size_t sums_bytes = (size_t)per_group * 2 * 8, room = ctx->size - chunk_bytes(3);
    if (sums_bytes + chunk_bytes(16) > room) return 0;
    KC = (int)((room - sums_bytes) / chunk_bytes(16)) * 16;
    sums = s;
    s = sums + (size_t)per_group * 2;
  }
  for (size_t p0 = 0; p0 < g.npix; p0 += PX) {
    const int n = g.npix - p0 < PX ? (int)(g.npix - p0) : PX;
    for (int grp = 0; grp < groups; grp++) {
      if (sums) {
        conv_block_chunked(&g, w, bias, y, OC, per_group, grp, p0, n, KC, sums, s);
        continue;
      }
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
#endif
