/* CONV_2D's widened path (conv_dsp.c dispatches to it and says why the result is exact): both
 * operands widened, for an even count of channels per group.
 * A tile of output channels' weights is widened once per invoke into the scratch, in blocks of
 * 2 channels: {init c, init c+1}, then per 4-tap group {c lo, c hi},{c+1 lo, c+1 hi} (lo = taps
 * {0,2}, hi = {1,3}); the patches of 2 output pixels A, B once per tile, interleaved: per group
 * {A lo, A hi},{B lo, B hi}. A block against a pixel pair: per 4 taps 1 LDM of the pixels, 1 LDM
 * of the weights, 8 SMLAD (16 MACs). The groups are padded with zeros to the loop's unrolling
 * (a last partial group too) and END_MARK follows the patch: the loop tests it instead of counting,
 * which frees the 14th register the 2 x 2 block needs. With p->rq the weights and initial sums
 * (bias2) are doubled for hb_rq_out; without, the initial sums are the bias and hb_conv_out
 * requantises. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "conv_dsp.h"
#include "requant_fast.h"

#define QB 2 /* output channels per block (and pixels per pass) */
#include "conv_patch_dsp.h"
/* Lanes of -32768: no x - in_zp in [-255, 255], and a Thumb-2 immediate (CMP). */
#define END_MARK 0x80008000u

/* Groups rounded up to the loop's unrolling: 4, or 1 below 4 groups (the padding would
 * cost more than the loop's test). */
static int padded_groups(int K) { return (K + 3) / 4 < 4 ? (K + 3) / 4 : ((K + 3) / 4 + 3) & ~3; }
static int unroll(int Gp) { return Gp % 4 ? 1 : 4; }
static size_t wblock_u64(int Gp) { return 1 + (size_t)Gp * QB; }

static void pix_next(const conv_geo_t *g, pix_t *q) {
  if (++q->ox < g->OW) return;
  q->ox = 0;
  if (++q->oy < g->OH) return;
  q->oy = 0;
  q->b++;
}

/* 4 weights as {w0, w2},{w1, w3}, doubled if dbl (2w fits int16). */
static inline uint64_t widen_w(uint32_t v, int dbl) {
  const uint32_t lo = hb_sxtb16(v), hi = hb_sxtb16_ror8(v);
  return dbl ? hb_pair(hb_sadd16(lo, lo), hb_sadd16(hi, hi)) : hb_pair(lo, hi);
}

/* Blocks [b0, b0 + nb) of the filter (QB channels each, K taps) into s. */
static void widen_weights(const int8_t *w, const int32_t *bias, const hb_rq_t *rq, int K, int b0, int nb,
                          uint64_t *s) {
  const int G = K / 4, Gp = padded_groups(K), dbl = rq != 0;
  for (int oc = b0 * QB; oc < (b0 + nb) * QB; oc += QB) {
    int32_t init[QB];
    for (int j = 0; j < QB; j++) init[j] = rq ? rq[oc + j].bias2 : bias ? bias[oc + j] : 0;
    *s++ = hb_pair((uint32_t)init[0], (uint32_t)init[1]);
    const int8_t *w0 = w + (size_t)oc * K, *w1 = w0 + K;
    for (int g = 0; g < G; g++, s += QB) {
      s[0] = widen_w(hb_ld32(w0 + 4 * g), dbl);
      s[1] = widen_w(hb_ld32(w1 + 4 * g), dbl);
    }
    if (K % 4) { /* the last taps, zero-padded to a group */
      uint32_t v0 = 0, v1 = 0;
      for (int k = 4 * G; k < K; k++) {
        v0 |= (uint32_t)(uint8_t)w0[k] << (8 * (k - 4 * G));
        v1 |= (uint32_t)(uint8_t)w1[k] << (8 * (k - 4 * G));
      }
      s[0] = widen_w(v0, dbl);
      s[1] = widen_w(v1, dbl);
      s += QB;
    }
    for (int g = (K + 3) / 4; g < Gp; g++, s += QB) s[0] = s[1] = 0;
  }
}

#ifdef HB_DSP_ASM
/* The 2 x 2 MAC loop on fixed registers (LDM wants them ascending, and it needs all 14):
 * sums r0-r3 = (A, c), (A, c+1), (B, c), (B, c+1), from the block's initial pair at r12;
 * pixel pairs r4-r7 = {A lo, A hi, B lo, B hi} from lr; weight pairs r8-r11 from r12.
 * 10 instructions per group, 2 more per 4 groups (per group: LOOP1); it stops at END_MARK. */
#define MAC_2X2_GROUP                                                      \
  "ldmia r12!, {r8, r9, r10, r11}\n\t"                                   \
  "smlad r0, r8, r4, r0\n\t"                                             \
  "smlad r0, r9, r5, r0\n\t"                                             \
  "smlad r1, r10, r4, r1\n\t"                                            \
  "smlad r1, r11, r5, r1\n\t"                                            \
  "smlad r2, r8, r6, r2\n\t"                                             \
  "smlad r2, r9, r7, r2\n\t"                                             \
  "smlad r3, r10, r6, r3\n\t"                                            \
  "smlad r3, r11, r7, r3\n\t"                                            \
  "ldmia lr!, {r4, r5, r6, r7}\n\t"
#define MAC_2X2_HEAD                                                       \
  "ldmia r12!, {r0, r1}\n\t"                                             \
  "mov r2, r0\n\t"                                                       \
  "mov r3, r1\n\t"                                                       \
  "ldmia lr!, {r4, r5, r6, r7}\n"
#define MAC_2X2_LOOP4                                                      \
  MAC_2X2_HEAD "3:\n\t" MAC_2X2_GROUP MAC_2X2_GROUP MAC_2X2_GROUP MAC_2X2_GROUP \
  "cmp r4, #0x80008000\n\t"                                              \
  "bne 3b\n\t"
#define MAC_2X2_LOOP1                                                      \
  MAC_2X2_HEAD "3:\n\t" MAC_2X2_GROUP                                    \
  "cmp r4, #0x80008000\n\t"                                              \
  "bne 3b\n\t"
#endif

/* One block (at *wp, advanced past it) against the pixel pair's patches at x: a = {(A, c),
 * (A, c+1), (B, c), (B, c+1)}, each its initial sum plus its MACs; u: the unrolling. */
__attribute__((always_inline)) static inline void mac_2x2(const uint64_t **wp, const uint64_t *x, int u,
                                                          int32_t a[4]) {
#ifdef HB_DSP_ASM
  register int32_t a0 __asm__("r0"), a1 __asm__("r1"), a2 __asm__("r2"), a3 __asm__("r3");
  register const uint64_t *w __asm__("r12") = *wp, *xr __asm__("lr") = x; /* GCC would not pick lr */
  if (u == 4)
    __asm__(MAC_2X2_LOOP4
            : "=r"(a0), "=r"(a1), "=r"(a2), "=r"(a3), "+r"(w), "+r"(xr)
            :
            : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
  else
    __asm__(MAC_2X2_LOOP1
            : "=r"(a0), "=r"(a1), "=r"(a2), "=r"(a3), "+r"(w), "+r"(xr)
            :
            : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
  *wp = w;
#else
  const uint64_t *w = *wp;
  int32_t a0 = (int32_t)hb_lo(w[0]), a1 = (int32_t)hb_hi(w[0]), a2 = a0, a3 = a1;
  w++;
  do {
    for (int k = 0; k < u; k++, w += QB, x += QB) {
      const uint32_t xa0 = hb_lo(x[0]), xa1 = hb_hi(x[0]), xb0 = hb_lo(x[1]), xb1 = hb_hi(x[1]);
      a0 = hb_smlad(hb_lo(w[0]), xa0, a0); a0 = hb_smlad(hb_hi(w[0]), xa1, a0);
      a1 = hb_smlad(hb_lo(w[1]), xa0, a1); a1 = hb_smlad(hb_hi(w[1]), xa1, a1);
      a2 = hb_smlad(hb_lo(w[0]), xb0, a2); a2 = hb_smlad(hb_hi(w[0]), xb1, a2);
      a3 = hb_smlad(hb_lo(w[1]), xb0, a3); a3 = hb_smlad(hb_hi(w[1]), xb1, a3);
    }
  } while (hb_lo(x[0]) != END_MARK);
  *wp = w;
#endif
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

/* The block's outputs from doubled sums: hb_rq_out, saturated to int8, packed {A c, A c+1,
 * B c, B c+1}, clamped bytewise to the activation range; 2 bytes to *y, 2 to *y + OC (B, if
 * two). *q and *y advance past the block's channels. */
static inline void out2x2_c(int8_t **y, size_t OC, const int32_t a[4], const hb_rq_t **q, uint32_t lo4,
                            uint32_t hi4, int two) {
  const hb_rq_t *qp = *q;
  const uint32_t v0 = (uint32_t)hb_ssat8(hb_rq_out(a[0], qp + 0)), v1 = (uint32_t)hb_ssat8(hb_rq_out(a[1], qp + 1));
  const uint32_t v2 = (uint32_t)hb_ssat8(hb_rq_out(a[2], qp + 0)), v3 = (uint32_t)hb_ssat8(hb_rq_out(a[3], qp + 1));
  const uint32_t v = hb_clamp8x4((v0 & 0xFFu) | (v1 & 0xFFu) << 8 | (v2 & 0xFFu) << 16 | v3 << 24, lo4, hi4);
  (*y)[0] = (int8_t)v; (*y)[1] = (int8_t)(v >> 8);
  if (two) { (*y)[OC] = (int8_t)(v >> 16); (*y)[OC + 1] = (int8_t)(v >> 24); }
  *y += QB;
  *q += QB;
}

#ifdef HB_DSP_ASM
/* A pixel pair against n blocks with p->rq (the C form below), in one asm block as the MAC
 * loop leaves no register free: the loop state lives in a frame it pushes, [q, y, n, OC, lo4,
 * hi4, x]. Per block, besides the MAC loop: 2 x 9 a channel to requantise (one LDM of its
 * hb_rq_t), 3 BFI to pack {A c, A c+1, B c, B c+1}, 4 to clamp, 3 to store, 6 for the state. */
#define RQ_OUT2(a, b)                                                      \
  "ldmia r4!, {r8, r9, r10, r11}\n\t"                                    \
  "add r8, r10, " a ", asr #31\n\t"                                      \
  "smmlar " a ", " a ", r9, r8\n\t"                                      \
  "asr " a ", " a ", r11\n\t"                                            \
  "ssat " a ", #8, " a "\n\t"                                            \
  "add r8, r10, " b ", asr #31\n\t"                                      \
  "smmlar " b ", " b ", r9, r8\n\t"                                      \
  "asr " b ", " b ", r11\n\t"                                            \
  "ssat " b ", #8, " b "\n\t"
/* The block's 4 outputs: packed, clamped bytewise to [lo4, hi4] (from the frame), stored. */
#define STORE_CLAMPED                                                      \
  "bfi r0, r1, #8, #8\n\t"                                               \
  "bfi r0, r2, #16, #8\n\t"                                              \
  "bfi r0, r3, #24, #8\n\t"                                              \
  "ldrd r8, r9, [sp, #16]\n\t"                                           \
  "ssub8 r10, r0, r8\n\t"                                                \
  "sel r0, r0, r8\n\t"                                                   \
  "ssub8 r10, r9, r0\n\t"                                                \
  "sel r0, r0, r9\n\t"                                                   \
  "lsr r1, r0, #16\n\t"                                                  \
  "strh r1, [r5, r7]\n\t"                                                \
  "strh r0, [r5], #2\n\t"
/* The same when the activation range is all of int8 (SSAT did the clamp): 7 instructions fewer. */
#define STORE_PLAIN                                                        \
  "bfi r0, r1, #8, #8\n\t"                                               \
  "bfi r2, r3, #8, #8\n\t"                                               \
  "strh r2, [r5, r7]\n\t"                                                \
  "strh r0, [r5], #2\n\t"
#define ROW_RQ(name, LOOP, STORE)                                                                          \
  static void name(const uint64_t *x, const uint64_t *w, const hb_rq_t *q, int8_t *y, int n, size_t OC,          \
                   uint32_t lo4, uint32_t hi4) {                                                                 \
    register const hb_rq_t *rq __asm__("r4") = q;                                                                \
    register int8_t *ry __asm__("r5") = y;                                                                       \
    register int rn __asm__("r6") = n;                                                                           \
    register size_t roc __asm__("r7") = OC;                                                                      \
    register uint32_t rlo __asm__("r8") = lo4, rhi __asm__("r9") = hi4;                                          \
    register const uint64_t *rw __asm__("r12") = w, *rx __asm__("lr") = x;                                       \
    __asm__ volatile("push {r4, r5, r6, r7, r8, r9, lr}\n"                                                       \
                     "1:\n\t"                                                                                    \
                     "ldr lr, [sp, #24]\n\t" LOOP                                                                \
                     "ldmia sp, {r4, r5, r6, r7}\n\t" RQ_OUT2("r0", "r2") RQ_OUT2("r1", "r3") STORE            \
                     "subs r6, r6, #1\n\t"                                                                       \
                     "stmia sp, {r4, r5, r6}\n\t"                                                                \
                     "bne 1b\n\t"                                                                                \
                     "add sp, sp, #28"                                                                           \
                     : "+r"(rq), "+r"(ry), "+r"(rn), "+r"(roc), "+r"(rlo), "+r"(rhi), "+r"(rw), "+r"(rx)         \
                     :                                                                                           \
                     : "r0", "r1", "r2", "r3", "r10", "r11", "cc", "memory");                                    \
  }
ROW_RQ(row_rq4, MAC_2X2_LOOP4, STORE_CLAMPED)
ROW_RQ(row_rq1, MAC_2X2_LOOP1, STORE_CLAMPED)
ROW_RQ(row_rq4_plain, MAC_2X2_LOOP4, STORE_PLAIN)
ROW_RQ(row_rq1_plain, MAC_2X2_LOOP1, STORE_PLAIN)
static void row_rq(const uint64_t *x, const uint64_t *w, const hb_rq_t *q, int8_t *y, int n, size_t OC,
                   uint32_t lo4, uint32_t hi4, int u) {
  const int plain = lo4 == 0x80808080u && hi4 == 0x7F7F7F7Fu;
  (plain ? (u == 4 ? row_rq4_plain : row_rq1_plain) : u == 4 ? row_rq4 : row_rq1)(x, w, q, y, n, OC, lo4, hi4);
}
#else
/* A pixel pair against n blocks with p->rq: mac_2x2 and out2x2_c(two) each. */
static void row_rq(const uint64_t *x, const uint64_t *w, const hb_rq_t *q, int8_t *y, int n, size_t OC,
                   uint32_t lo4, uint32_t hi4, int u) {
  for (; n > 0; n--) {
    int32_t a[4];
    mac_2x2(&w, x, u, a);
    out2x2_c(&y, OC, a, &q, lo4, hi4, 1);
  }
}
#endif

/* The blocks [b0, b0 + nb) at wt against every pixel pair; the patches go to s. */
static void conv_tile(const conv_geo_t *g, const int8_t *xg, int8_t *y, int OC, int b0, int nb,
                      const uint64_t *wt, uint64_t *s) {
  const hb_conv_params_t *p = g->p;
  const uint32_t lo4 = hb_bytes4(p->act_min), hi4 = hb_bytes4(p->act_max);
  const int Gp = padded_groups(g->K), u = unroll(Gp);
  for (uint64_t *e = s; e < s + (size_t)QB * Gp; e++) *e = 0; /* the padding groups */
  s[(size_t)QB * Gp] = hb_pair(END_MARK, 0); /* a whole group: the asm loads it with LDM */
  s[(size_t)QB * Gp + 1] = 0;
  pix_t q = {0, 0, 0};
  /* 1x1 with few channels: widened here (always inside); more channels go through widen_run's asm */
  const int px1 = g->KH == 1 && g->KW == 1 && !p->pad_h && !p->pad_w && g->FC % 4 == 0 && g->FC <= 16;
  const uint32_t off2 = hb_pack16(g->in_off, g->in_off);
  for (size_t P = 0; P < g->npix; P += 2) {
    const int two = P + 1 < g->npix;
    for (int j = 0; j < 1 + two; j++, pix_next(g, &q)) {
      if (!px1) {
        widen_patch(g, xg, &q, s + j);
        continue;
      }
      const int8_t *src = xg + (((size_t)q.b * g->H + (size_t)q.oy * p->stride_h) * g->W +
                                (size_t)q.ox * p->stride_w) * g->C;
      uint64_t *e = s + j;
      for (int k = 0; k < g->FC / 4; k++, e += QB) *e = hb_widen4_off(off2, hb_ld32(src + 4 * k));
    }
    if (!two) pix_next(g, &q);
    const uint64_t *w = wt;
    int8_t *yo = y + P * (size_t)OC + b0 * QB;
    if (p->rq && two) {
      row_rq(s, w, p->rq + b0 * QB, yo, nb, (size_t)OC, lo4, hi4, u);
      continue;
    }
    if (p->rq) { /* the last pixel alone */
      const hb_rq_t *rq = p->rq + b0 * QB;
      for (int n = nb; n > 0; n--) {
        int32_t a[4];
        mac_2x2(&w, s, u, a);
        out2x2_c(&yo, (size_t)OC, a, &rq, lo4, hi4, 0);
      }
      continue;
    }
    for (int oc = b0 * QB; oc < (b0 + nb) * QB; oc += QB, yo += QB) {
      int32_t a[4];
      mac_2x2(&w, s, u, a);
      for (int j = 0; j < 2 + 2 * two; j++) yo[(j >> 1) * OC + (j & 1)] = hb_conv_out(a[j], 0, p, oc + (j & 1));
    }
  }
}

/* Whether widening the weights pays for n pixels of K taps, per weight: about 2.75 to widen
 * it, then per pixel 0.7 a MAC + 10 / K an output here against 1.2 + 40 / K (hb_conv_out)
 * in conv_dsp.c's 4-pixel loops, which read the weights on the fly: 2.75 < n (0.5 + 30 / K). */
static int widening_pays(size_t n, int K) { return 2 * n * ((size_t)K + 60) > 11 * (size_t)K; }

/* The widened path, if the shape suits it and it pays: 1 when done. The weights are widened
 * once per tile, each patch once per tile. */
static int conv_widened(const conv_geo_t *g, const hb_op_t *op, const int8_t *w, const int32_t *bias,
                        int8_t *y, int OC, int groups) {
  const int per_group = OC / groups, Gp = padded_groups(g->K);
  const size_t wb = wblock_u64(Gp), patch = (size_t)QB * (Gp + 1), room = HB_DSP_SCRATCH_BYTES / 8;
  if (per_group % QB || !widening_pays(g->npix, g->K) || wb + patch > room || (g->FC % 4 && g->K > HB_ANY_MAX_K))
    return 0;
  const int fit = (int)((room - patch) / wb), tile = fit < per_group / QB ? fit : per_group / QB;
  for (int grp = 0; grp < groups; grp++) {
    const int bend = (grp + 1) * per_group / QB;
    for (int b0 = grp * per_group / QB; b0 < bend; b0 += tile) {
      const int nb = bend - b0 < tile ? bend - b0 : tile;
      widen_weights(w, bias, op->p.conv.rq, g->K, b0, nb, hb_dsp_scratch);
      conv_tile(g, g->x + (size_t)grp * g->FC, y, OC, b0, nb, hb_dsp_scratch, hb_dsp_scratch + (size_t)nb * wb);
    }
  }
  return 1;
}

int hb_conv_widened(hb_engine_t *e, const hb_op_t *op) {
  const hb_tensor_t *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const conv_geo_t g = hb_conv_geo(e, op);
  const int OC = out->dims[3], groups = g.C / g.FC;
  return conv_widened(&g, op, (const int8_t *)f->data, hb_conv_bias(e, op), (int8_t *)out->data, OC, groups);
}
#endif
