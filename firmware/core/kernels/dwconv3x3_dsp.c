/* DEPTHWISE_CONV_2D 3x3, stride 1, no dilation, depth multiplier 1, C % 4 == 0, with the
 * fast requantisation (p->rq): about 1.9 instructions per MAC on a Cortex-M4, everything
 * included. Other shapes stay with dwconv_dsp.c.
 *
 * Channel-major rows: each input row is widened once per channel tile into a ring of three
 * rows as int16 x - in_zp, padding columns stored as 0, so that one word holds two
 * horizontally adjacent taps of one channel and SMLAD does two MACs. For a kernel row with
 * weights W01 = {w0,w1}, W12 = {w1,w2} and inputs X01, X23, X45, four outputs along x take
 *   o0 = X01.W01 + x2 w2   o1 = X23.W12 + x1 w0   o2 = X23.W01 + x4 w2   o3 = X45.W12 + x3 w0
 * (SMLAD + SMLABT / SMLATB): 8 MAC instructions for 12 MACs, 3 loads.
 *
 * Ring layout, per group of 4 channels: blocks of 4 columns; block j holds, for channel
 * i and ring slot s (input row iy sits in slot iy % 3), the words {u,u+1},{u+2,u+3}
 * (u = 4j, padded column u = ix + pad_w) at word 24j + 6i + 2s: one pointer reaches every
 * slot with immediate offsets, and the widening stores one group's 4 channels from one
 * pointer as well. Output block b (columns 4b..4b+3) reads words 2b..2b+2 of each slot.
 *
 * The weights are per channel and ring rotation (which slot holds which kernel row),
 * doubled for the requantisation's doubled accumulator (requant_fast.h), with the
 * accumulator's start (bias2) and the constants {m, k', r}: one set of 10 words. k' folds
 * -act_min into the rounding constant (exact: a multiple of 2^r), so USAT #8 gives
 * min(y - act_min, 255) >= 0; the outputs of one group are collected as bytes
 * [pixel][channel] and a word per pixel then takes the upper clamp (USUB8/SEL against
 * act_max - act_min), adds act_min back (UADD8) and is stored: the 4 channels of a pixel
 * are adjacent in NHWC. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "dwconv3x3_dsp.h"

#define D3_BLK 24 /* words in a ring block: 4 channels x 3 slots x 2 words */
#define D3_SET 10 /* words in a weight set: m, k', r, bias2, {W01, W12} for slots 1, 2, 0 */
#define D3_CH (3 * D3_SET)

/* The DSP instructions used here besides simd.h's, with exact C twins off-Arm. */
#if defined(__ARM_FEATURE_DSP)
static inline int32_t d3_smlabt(uint32_t a, uint32_t b, int32_t acc) { return __smlabt((int32_t)a, (int32_t)b, acc); }
static inline int32_t d3_smlatb(uint32_t a, uint32_t b, int32_t acc) { return __smlatb((int32_t)a, (int32_t)b, acc); }
static inline uint32_t d3_usat8(int32_t v) { return (uint32_t)__usat(v, 8); }
/* Bytewise min(v, d) (USUB8 sets GE where v >= d, SEL picks d there), then + lo mod 2^8;
 * one asm block: the GE flags must not be separated from their SEL. */
static inline uint32_t d3_clamp4(uint32_t v, uint32_t d, uint32_t lo) {
  uint32_t t, r;
  __asm__("usub8 %0, %2, %3\n\tsel %1, %3, %2\n\tuadd8 %1, %1, %4"
          : "=&r"(t), "=&r"(r) : "r"(v), "r"(d), "r"(lo) : "cc");
  (void)t;
  return r;
}
#else
static inline int32_t d3_smlabt(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(hb_lane_lo(a) * hb_lane_hi(b)));
}
static inline int32_t d3_smlatb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(hb_lane_hi(a) * hb_lane_lo(b)));
}
static inline uint32_t d3_usat8(int32_t v) { return v < 0 ? 0u : v > 255 ? 255u : (uint32_t)v; }
static inline uint32_t d3_clamp4(uint32_t v, uint32_t d, uint32_t lo) {
  uint32_t r = 0;
  for (int i = 0; i < 32; i += 8) {
    const uint32_t b = (v >> i) & 0xFFu, m = (d >> i) & 0xFFu;
    r |= (((b >= m ? m : b) + (lo >> i)) & 0xFFu) << i;
  }
  return r;
}
#endif
/* {lo.lo, hi.lo} and {lo.hi, hi.hi}: PKHBT (LSL 16) and PKHTB (ASR 16); GCC emits them. */
static inline uint32_t d3_pkhbt(uint32_t lo, uint32_t hi) { return (lo & 0xFFFFu) | (hi << 16); }
static inline uint32_t d3_pkhtb(uint32_t hi, uint32_t lo) { return (hi & 0xFFFF0000u) | (lo >> 16); }

/* acc2 -> min(y - act_min, 255) clamped at 0: hb_rq_out with k' (set[1]). */
static inline uint32_t d3_rq(int32_t a, const int32_t *set) {
  return d3_usat8(hb_smmlar(a, set[0], set[1] + (a >> 31)) >> set[2]);
}

/* One kernel row (its slot's words x, weights w) into the 4 accumulators. */
#define D3_MAC8(x0, x1, x2, w0, w1)                                                  \
  do {                                                                               \
    a0 = hb_smlad(x0, w0, a0); a0 = d3_smlabt(x1, w1, a0);                           \
    a1 = hb_smlad(x1, w1, a1); a1 = d3_smlatb(x0, w0, a1);                           \
    a2 = hb_smlad(x1, w0, a2); a2 = d3_smlabt(x2, w1, a2);                           \
    a3 = hb_smlad(x2, w1, a3); a3 = d3_smlatb(x1, w0, a3);                           \
  } while (0)

/* One channel along one output row: blocks of 4 outputs from ring words p (up to pe),
 * weight set wp - 3 (wp: its bias2), bytes to s[0], s[4], s[8], s[12], then s += 16. */
static void d3_row(const uint32_t *p, const uint32_t *pe, const int32_t *wp, uint8_t *s) {
#ifdef HB_DSP_ASM
  /* Fixed registers for the LDM lists: x0-x2 r0-r2 (then m, k', r), a0 r3, w0/w1 r4/r5,
   * a1-a3 r6-r8. 56 instructions per block of 4 outputs (36 MACs). */
  register const uint32_t *rp __asm__("r9") = p;
  register const uint32_t *rpe __asm__("r10") = pe;
  register const int32_t *rwp __asm__("r11") = wp;
  register uint8_t *rs __asm__("r12") = s;
#define D3_MAC8_ASM                                                                 \
  "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t"                               \
  "smlad r6, r1, r5, r6\n\tsmlatb r6, r0, r4, r6\n\t"                               \
  "smlad r7, r1, r4, r7\n\tsmlabt r7, r2, r5, r7\n\t"                               \
  "smlad r8, r2, r5, r8\n\tsmlatb r8, r1, r4, r8\n\t"
#define D3_RQ_ASM(a, t) "add " t ", r1, " a ", asr #31\n\tsmmlar " a ", " a ", r0, " t "\n\t" \
  "asr " a ", " a ", r2\n\tusat " a ", #8, " a "\n\t"
  __asm__ volatile(
      "1:\n\t"
      "ldm %[wp], {r3, r4, r5}\n\t" /* slot 1 first: its MACs start from bias2 */
      "ldrd r0, r1, [%[p], #8]\n\t"
      "ldr r2, [%[p], #104]\n\t"
      "smlad r6, r1, r5, r3\n\tsmlad r7, r1, r4, r3\n\tsmlad r8, r2, r5, r3\n\tsmlad r3, r0, r4, r3\n\t"
      "smlabt r3, r1, r5, r3\n\tsmlatb r6, r0, r4, r6\n\tsmlabt r7, r2, r5, r7\n\tsmlatb r8, r1, r4, r8\n\t"
      "ldrd r4, r5, [%[wp], #12]\n\t"
      "ldrd r0, r1, [%[p], #16]\n\t"
      "ldr r2, [%[p], #112]\n\t" D3_MAC8_ASM
      "ldrd r4, r5, [%[wp], #20]\n\t"
      "ldr r2, [%[p], #96]\n\t"
      "ldrd r0, r1, [%[p]], #96\n\t" D3_MAC8_ASM /* slot 0 last: p moves to the next block */
      "ldmdb %[wp], {r0, r1, r2}\n\t"
      D3_RQ_ASM("r3", "r4") D3_RQ_ASM("r6", "r5") D3_RQ_ASM("r7", "r4") D3_RQ_ASM("r8", "r5")
      "strb r6, [%[s], #4]\n\tstrb r7, [%[s], #8]\n\tstrb r8, [%[s], #12]\n\tstrb r3, [%[s]], #16\n\t"
      "cmp %[p], %[pe]\n\t"
      "bne 1b"
      : [p] "+r"(rp), [s] "+r"(rs)
      : [pe] "r"(rpe), [wp] "r"(rwp)
      : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "cc", "memory");
#undef D3_MAC8_ASM
#undef D3_RQ_ASM
#else
  do {
    int32_t a0 = wp[0], a1 = a0, a2 = a0, a3 = a0;
    D3_MAC8(p[2], p[3], p[26], (uint32_t)wp[1], (uint32_t)wp[2]);
    D3_MAC8(p[4], p[5], p[28], (uint32_t)wp[3], (uint32_t)wp[4]);
    D3_MAC8(p[0], p[1], p[24], (uint32_t)wp[5], (uint32_t)wp[6]);
    s[0] = (uint8_t)d3_rq(a0, wp - 3); s[4] = (uint8_t)d3_rq(a1, wp - 3);
    s[8] = (uint8_t)d3_rq(a2, wp - 3); s[12] = (uint8_t)d3_rq(a3, wp - 3);
    p += D3_BLK;
    s += 16;
  } while (p != pe);
#endif
}

typedef struct {
  const hb_conv_params_t *p;
  const int8_t *x;      /* the batch's input */
  int H, W, C;
  int nb, nj;           /* output blocks of 4 columns per row; ring blocks (nb + 1) */
  int c0, ct;           /* the tile's channels [c0, c0 + ct) */
  uint32_t *ring;       /* ct / 4 groups of nj blocks */
} d3_t;

/* Words {lo, hi} for padded columns (u, u + 1) of channel c (0 outside the input). */
static uint32_t d3_edge_word(const d3_t *d, const int8_t *xrow, int u, int c) {
  int32_t v[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    const int ix = u + k - d->p->pad_w;
    if (ix >= 0 && ix < d->W) v[k] = (int32_t)xrow[(size_t)ix * d->C + c] + d->p->in_offset;
  }
  return hb_pack16(v[0], v[1]);
}

/* 4 pixels x 4 channels (one group) into the ring block q (slot already added): 4 loads,
 * 8 extends with the offset, 8 halfword packs, 4 double-word stores. */
static inline void d3_widen_quad(const int8_t *xp, size_t C, uint32_t off2, uint32_t *q) {
  const uint32_t v0 = hb_ld32(xp), v1 = hb_ld32(xp + C), v2 = hb_ld32(xp + 2 * C), v3 = hb_ld32(xp + 3 * C);
  const uint32_t e0 = hb_sxtab16(off2, v0), e1 = hb_sxtab16(off2, v1), e2 = hb_sxtab16(off2, v2),
                 e3 = hb_sxtab16(off2, v3);
  q[0] = d3_pkhbt(e0, e1); q[1] = d3_pkhbt(e2, e3);   /* channel 0 */
  q[12] = d3_pkhtb(e1, e0); q[13] = d3_pkhtb(e3, e2); /* channel 2 */
  const uint32_t o0 = hb_sxtab16_ror8(off2, v0), o1 = hb_sxtab16_ror8(off2, v1), o2 = hb_sxtab16_ror8(off2, v2),
                 o3 = hb_sxtab16_ror8(off2, v3);
  q[6] = d3_pkhbt(o0, o1); q[7] = d3_pkhbt(o2, o3);   /* channel 1 */
  q[18] = d3_pkhtb(o1, o0); q[19] = d3_pkhtb(o3, o2); /* channel 3 */
}

/* Input row iy (zeros outside the input) into ring slot s of every group of the tile. */
static void d3_fill_row(const d3_t *d, int iy, int s) {
  const uint32_t off2 = hb_pack16(d->p->in_offset, d->p->in_offset);
  const int pw = d->p->pad_w, inside = iy >= 0 && iy < d->H;
  const int8_t *xrow = inside ? d->x + (size_t)iy * d->W * d->C : 0;
  /* ring blocks whose 4 columns are all inside the input: [j0, j1) */
  const int j0 = (pw + 3) / 4, j1 = d->W + pw >= 4 ? (d->W + pw - 4) / 4 + 1 : 0;
  for (int g = 0; g < d->ct / 4; g++) {
    uint32_t *rg = d->ring + (size_t)g * d->nj * D3_BLK + 2 * s;
    const int c = d->c0 + 4 * g;
    for (int j = 0; j < d->nj; j++) {
      uint32_t *q = rg + (size_t)j * D3_BLK;
      if (inside && j >= j0 && j < j1) {
        d3_widen_quad(xrow + (size_t)(4 * j - pw) * d->C + c, (size_t)d->C, off2, q);
        continue;
      }
      for (int i = 0; i < 4; i++) {
        q[6 * i] = inside ? d3_edge_word(d, xrow, 4 * j, c + i) : 0;
        q[6 * i + 1] = inside ? d3_edge_word(d, xrow, 4 * j + 2, c + i) : 0;
      }
    }
  }
}

/* One set: weights of channel c for ring rotation t (slot s holds kernel row (s - t) mod 3),
 * doubled; bias2; m, k' (act_min folded in), r. */
static void d3_weight_set(const hb_conv_params_t *p, const int8_t *w, int C, int c, int t, int32_t *set) {
  const hb_rq_t *q = &p->rq[c];
  set[0] = q->mult;
  set[1] = (int32_t)((uint32_t)q->k - ((uint32_t)p->act_min << q->r));
  set[2] = q->r;
  set[3] = q->bias2;
  static const int8_t slot_order[3] = {1, 2, 0};
  for (int n = 0; n < 3; n++) {
    const int ky = (slot_order[n] - t + 3) % 3;
    const int8_t *wr = w + (size_t)ky * 3 * C + c;
    const int32_t k0 = 2 * wr[0], k1 = 2 * wr[C], k2 = 2 * wr[2 * (size_t)C];
    set[4 + 2 * n] = (int32_t)hb_pack16(k0, k1);
    set[5 + 2 * n] = (int32_t)hb_pack16(k1, k2);
  }
}

/* A group's collected bytes (one word per pixel, n pixels) clamped and stored at y, C apart. */
static void d3_store(const uint32_t *st, int n, uint32_t dd, uint32_t ll, int8_t *y, size_t C) {
  for (int i = 0; i < n; i++, y += C) {
    const uint32_t v = d3_clamp4(st[i], dd, ll);
    __builtin_memcpy(y, &v, 4);
  }
}

static uint32_t d3_bytes4(int32_t v) { return ((uint32_t)v & 0xFFu) * 0x01010101u; }

int hb_dw3x3_dsp(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  if (!p->rq || f->dims[1] != 3 || f->dims[2] != 3 || p->stride_w != 1 || p->stride_h != 1 || p->dil_w != 1 ||
      p->dil_h != 1 || p->depth_mult != 1 || in->dims[3] % 4)
    return 0;
  d3_t d = {p, 0, in->dims[1], in->dims[2], in->dims[3], 0, 0, 0, 0, 0};
  const int B = in->dims[0], OH = out->dims[1], OW = out->dims[2];
  d.nb = (OW + 3) / 4;
  d.nj = d.nb + 1;
  /* channels per tile: weight sets, rings and the collected bytes in the scratch */
  const size_t words = HB_DSP_SCRATCH_BYTES / 4, st_words = 4 * (size_t)d.nb;
  const size_t per4 = 4 * (size_t)D3_CH + (size_t)d.nj * D3_BLK;
  if (words < st_words + per4) return 0;
  const int ct_max = 4 * (int)((words - st_words) / per4);
  uint32_t *scratch = (uint32_t *)(void *)hb_dsp_scratch, *st = scratch;
  int32_t *sets = (int32_t *)(void *)(st + st_words);
  const uint32_t dd = d3_bytes4(p->act_max - p->act_min), ll = d3_bytes4(p->act_min);
  const int8_t *w = (const int8_t *)f->data;
  for (d.c0 = 0; d.c0 < d.C; d.c0 += d.ct) {
    d.ct = d.C - d.c0 < ct_max ? d.C - d.c0 : ct_max;
    d.ring = (uint32_t *)(void *)(sets + (size_t)d.ct * D3_CH);
    for (int c = 0; c < d.ct; c++)
      for (int t = 0; t < 3; t++) d3_weight_set(p, w, d.C, d.c0 + c, t, sets + (size_t)c * D3_CH + t * D3_SET);
    for (int b = 0; b < B; b++) {
      d.x = (const int8_t *)in->data + (size_t)b * d.H * d.W * d.C;
      int held[3] = {INT32_MIN, INT32_MIN, INT32_MIN}; /* the input row in each slot */
      for (int oy = 0; oy < OH; oy++) {
        const int iy0 = oy - p->pad_h, t = ((iy0 % 3) + 3) % 3;
        for (int ky = 0; ky < 3; ky++) {
          const int s = (t + ky) % 3;
          if (held[s] != iy0 + ky) d3_fill_row(&d, iy0 + ky, s);
          held[s] = iy0 + ky;
        }
        int8_t *yrow = (int8_t *)out->data + (((size_t)b * OH + oy) * OW) * d.C + d.c0;
        for (int g = 0; g < d.ct / 4; g++) {
          const uint32_t *rg = d.ring + (size_t)g * d.nj * D3_BLK;
          for (int i = 0; i < 4; i++) {
            const int32_t *wp = sets + (size_t)(4 * g + i) * D3_CH + t * D3_SET + 3;
            d3_row(rg + 6 * i, rg + 6 * i + (size_t)d.nb * D3_BLK, wp, (uint8_t *)st + i);
          }
          d3_store(st, OW, dd, ll, yrow + 4 * g, (size_t)d.C);
        }
      }
    }
  }
  return 1;
}
#endif
