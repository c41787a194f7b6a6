/* CONV_2D's widened path, the patches of one filter group with dil_w 1 (conv_wide_dsp.c):
 * - 1x1 windows (channels a multiple of 4): each pixel pair widened straight from the input,
 *   SXTB16's pairs {x0,x2},{x1,x3} of x - in_zp, 9 instructions per 4 channels of the pair.
 * - other windows: each input row widened once into a ring slot (x - in_zp as int16, the padding
 *   columns 0, rows outside the input a slot of zeros), so that a pixel's kernel row is a run of
 *   adjacent words; a pair's patch is then its KH runs copied into the interleaved layout
 *   (conv_dsp.h) by LDM/STM, 5 instructions per 8 words, instead of being widened per pixel.
 *   With channels a multiple of 4 a slot holds SXTB16's pairs of each input word and a kernel
 *   row is R = KW*C/2 words. Other channel counts (first layers): "natural" int16 order, word v
 *   = elements {2v, 2v+1}, R = ceil(KW*C/2) words a row (the weight past the row's taps is 0);
 *   a kernel row starting at an odd element reads a second copy of the row shifted by one
 *   element (word v = {2v+1, 2v+2}), kept when stride * C is odd. With R odd the patch takes
 *   each row's first R - 1 words, then the rows' last words, so every run starts a group.
 * Pairs follow the output's order and may span two output rows: the ring keeps the rows of both
 * (kernel span + stride slots). The ring outlives the op's tiles (held[] names each slot's batch
 * and row), so later tiles widen only the rows it no longer holds. dbl: x - in_zp doubled (SADD16),
 * for the requantisation's doubled sums when the weights are not. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "conv_dsp.h"

#define WIN_MAX_S 24 /* ring slots; also the most kernel rows */
#define HEAD_WORDS (WIN_MAX_S + 2) /* held[] before the slots (even: the slots stay 8-byte aligned) */

typedef struct {
  const conv_geo_t *g;
  int32_t *held;          /* batch * H + row in each slot */
  uint32_t *slot;         /* S slots of SW words, then (zero) one of zeros */
  int S, SW, RW, copies;  /* slots, words a slot (copies of RW words) */
  int nat, R, zero, Wv;   /* natural order; words a kernel row; a zero slot; input columns widened */
} win_t;

static int is_1x1(const conv_geo_t *g) { return g->KH == 1 && g->KW == 1 && g->C % 4 == 0; }

static int win_setup(const conv_geo_t *g, void *ring, win_t *w) {
  const hb_conv_params_t *p = g->p;
  const int span = (g->KH - 1) * p->dil_h + 1, Wp = (g->OW - 1) * p->stride_w + g->KW;
  if (g->C != g->FC || p->dil_w != 1 || g->KH > WIN_MAX_S) return 0;
  w->g = g;
  w->S = span + (g->OW % 2 ? p->stride_h : 0);
  w->nat = g->C % 4 != 0;
  w->R = w->nat ? (g->KW * g->C + 1) / 2 : g->KW * g->C / 2;
  w->RW = w->nat ? (Wp * g->C + 2) / 2 : Wp * g->C / 2;
  w->copies = w->nat && p->stride_w * g->C % 2 ? 2 : 1;
  w->SW = (w->copies * w->RW + 1) & ~1;
  w->zero = p->pad_h > 0 || (g->OH - 1) * p->stride_h - p->pad_h + span > g->H;
  w->Wv = g->W < Wp - p->pad_w ? g->W : Wp - p->pad_w;
  w->held = ring;
  w->slot = (uint32_t *)ring + HEAD_WORDS;
  return w->S <= WIN_MAX_S && w->Wv > 0;
}

long hb_cw_ring_u64(const conv_geo_t *g) {
  win_t w;
  if (!win_setup(g, 0, &w)) return -1;
  return is_1x1(g) ? 0 : (HEAD_WORDS + (long)(w.S + w.zero) * w.SW) / 2;
}

int hb_cw_patch_words(const conv_geo_t *g) {
  win_t w;
  return win_setup(g, 0, &w) ? g->KH * w.R : 0;
}

/* n words of A (at a) and of B (at b), 4 channels each, widened to {A lo, A hi, B lo, B hi} at d
 * (x + off, doubled if dbl). The asm: 9 instructions a word pair (13 doubled). */
static void widen_pair(uint32_t *d, const int8_t *a, const int8_t *b, int n, uint32_t off2, int dbl) {
#ifdef HB_DSP_ASM
#define WP_LOAD "1:\n\tldr r8, [%[a]], #4\n\tldr r9, [%[b]], #4\n\t" \
  "sxtab16 r4, %[o], r8\n\tsxtab16 r5, %[o], r8, ror #8\n\tsxtab16 r6, %[o], r9\n\tsxtab16 r7, %[o], r9, ror #8\n\t"
#define WP_STORE "stmia %[d]!, {r4, r5, r6, r7}\n\tsubs %[n], %[n], #1\n\tbne 1b"
  if (dbl)
    __asm__ volatile(WP_LOAD "sadd16 r4, r4, r4\n\tsadd16 r5, r5, r5\n\tsadd16 r6, r6, r6\n\tsadd16 r7, r7, r7\n\t" WP_STORE
            : [a] "+r"(a), [b] "+r"(b), [d] "+r"(d), [n] "+r"(n) : [o] "r"(off2)
            : "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
  else
    __asm__ volatile(WP_LOAD WP_STORE : [a] "+r"(a), [b] "+r"(b), [d] "+r"(d), [n] "+r"(n) : [o] "r"(off2)
            : "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
#undef WP_LOAD
#undef WP_STORE
#else
  for (; n > 0; n--, a += 4, b += 4, d += 4) {
    const uint32_t va = hb_ld32(a), vb = hb_ld32(b);
    d[0] = hb_sxtab16(off2, va); d[1] = hb_sxtab16_ror8(off2, va);
    d[2] = hb_sxtab16(off2, vb); d[3] = hb_sxtab16_ror8(off2, vb);
    if (dbl)
      for (int k = 0; k < 4; k++) d[k] = hb_sadd16(d[k], d[k]);
  }
#endif
}

/* 1x1 windows: every pixel pair of the op (in output order, across rows and batches). */
static void direct_1x1(const conv_geo_t *g, cw_tile_t *t, int8_t *y, int OC, int dbl) {
  const hb_conv_params_t *p = g->p;
  const uint32_t off2 = hb_pack16(g->in_off, g->in_off);
  const size_t step = (size_t)p->stride_w * g->C, skip = ((size_t)p->stride_h * g->W - (size_t)g->OW * p->stride_w) * g->C;
  const size_t bskip = ((size_t)g->H - (size_t)g->OH * p->stride_h) * g->W * g->C;
  const int8_t *src = g->x;
  int ox = 0, oy = 0;
  uint32_t *x = (uint32_t *)(void *)t->job.x;
  int8_t *yo = y + t->oc0;
  for (size_t P = 0; P < g->npix; P += 2, yo += 2 * (size_t)OC) {
    const int8_t *a = src, *b = src;
    for (int j = 0; j < 2 && P + (size_t)j < g->npix; j++) { /* a, then b: the next pixel */
      b = src;
      src += step;
      if (++ox < g->OW) continue;
      ox = 0;
      src += skip;
      if (++oy < g->OH) continue;
      oy = 0;
      src += bskip;
    }
    widen_pair(x, a, b, g->C / 4, off2, dbl);
    hb_cw_pair(t, yo, P + 1 < g->npix ? (size_t)OC : 0);
  }
}

/* n words at src as SXTB16 pairs of x + off at d, adjacent (doubled if dbl). The asm: 8
 * instructions a word (10 doubled). */
static void widen_words(uint32_t *d, const int8_t *src, int n, uint32_t off2, int dbl) {
#ifdef HB_DSP_ASM
#define WW_LOAD "1:\n\tldr r8, [%[s]], #4\n\tldr r9, [%[s]], #4\n\t" \
  "sxtab16 r4, %[o], r8\n\tsxtab16 r5, %[o], r8, ror #8\n\tsxtab16 r6, %[o], r9\n\tsxtab16 r7, %[o], r9, ror #8\n\t"
#define WW_STORE "stmia %[d]!, {r4, r5, r6, r7}\n\tsubs %[k], %[k], #1\n\tbne 1b"
  int k = n >> 1;
  if (k && dbl)
    __asm__ volatile(WW_LOAD "sadd16 r4, r4, r4\n\tsadd16 r5, r5, r5\n\tsadd16 r6, r6, r6\n\tsadd16 r7, r7, r7\n\t" WW_STORE
            : [s] "+r"(src), [d] "+r"(d), [k] "+r"(k) : [o] "r"(off2)
            : "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
  else if (k)
    __asm__ volatile(WW_LOAD WW_STORE : [s] "+r"(src), [d] "+r"(d), [k] "+r"(k) : [o] "r"(off2)
            : "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
#undef WW_LOAD
#undef WW_STORE
  n &= 1;
#endif
  for (; n > 0; n--, src += 4, d += 2) {
    const uint32_t v = hb_ld32(src), lo = hb_sxtab16(off2, v), hi = hb_sxtab16_ror8(off2, v);
    d[0] = dbl ? hb_sadd16(lo, lo) : lo;
    d[1] = dbl ? hb_sadd16(hi, hi) : hi;
  }
}

/* n words at src as natural-order int16 pairs {x0, x1},{x2, x3} of x + off at d (doubled if dbl).
 * The asm: 8 instructions a word (10 doubled). */
static void widen_words_nat(uint32_t *d, const int8_t *src, int n, uint32_t off2, int dbl) {
#ifdef HB_DSP_ASM
#define WN_LOAD "1:\n\tldr r8, [%[s]], #4\n\t" \
  "sxtab16 r4, %[o], r8\n\tsxtab16 r5, %[o], r8, ror #8\n\t" \
  "pkhbt r6, r4, r5, lsl #16\n\tpkhtb r7, r5, r4, asr #16\n\t"
#define WN_STORE "strd r6, r7, [%[d]], #8\n\tsubs %[n], %[n], #1\n\tbne 1b"
  if (n && dbl)
    __asm__ volatile(WN_LOAD "sadd16 r6, r6, r6\n\tsadd16 r7, r7, r7\n\t" WN_STORE
            : [s] "+r"(src), [d] "+r"(d), [n] "+r"(n) : [o] "r"(off2) : "r4", "r5", "r6", "r7", "r8", "cc", "memory");
  else if (n)
    __asm__ volatile(WN_LOAD WN_STORE : [s] "+r"(src), [d] "+r"(d), [n] "+r"(n) : [o] "r"(off2)
            : "r4", "r5", "r6", "r7", "r8", "cc", "memory");
#undef WN_LOAD
#undef WN_STORE
#else
  for (; n > 0; n--, src += 4, d += 2) {
    const uint32_t v = hb_ld32(src), lo = hb_sxtab16(off2, v), hi = hb_sxtab16_ror8(off2, v);
    d[0] = hb_pack16((int32_t)lo, (int32_t)hi); /* {x0, x1} */
    d[1] = hb_pkhtb(hi, lo);                    /* {x2, x3} */
    if (dbl) {
      d[0] = hb_sadd16(d[0], d[0]);
      d[1] = hb_sadd16(d[1], d[1]);
    }
  }
#endif
}

static void st16(uint32_t *row, int h, int32_t v) {
  const int16_t s = (int16_t)v;
  __builtin_memcpy((int16_t *)(void *)row + h, &s, 2);
}

/* n input bytes at src as int16 (x + off) << dbl at halfwords h0.. of row (natural order; h0 < 0:
 * the first -h0 elements are not kept). */
static void widen_nat(uint32_t *row, int h0, const int8_t *src, int n, int32_t off, int dbl) {
  int i = h0 < 0 ? -h0 : 0;
  if ((h0 + i) & 1 && i < n) {
    st16(row, h0 + i, (src[i] + off) * (1 + dbl));
    i++;
  }
  widen_words_nat(row + (h0 + i) / 2, src + i, (n - i) / 4, hb_pack16(off, off), dbl);
  i += (n - i) & ~3;
  for (; i < n; i++) st16(row, h0 + i, (src[i] + off) * (1 + dbl));
}

/* Input row iy of batch b into slot s (its padding columns are 0 from the ring's set-up). */
static void win_fill(const win_t *w, int b, int iy, int s, int dbl) {
  const conv_geo_t *g = w->g;
  const int8_t *src = g->x + ((size_t)b * g->H + (size_t)iy) * g->W * g->C;
  uint32_t *row = w->slot + (size_t)s * w->SW;
  const int32_t off = g->in_off;
  if (!w->nat) {
    widen_words(row + g->p->pad_w * g->C / 2, src, w->Wv * g->C / 4, hb_pack16(off, off), dbl);
    return;
  }
  for (int k = 0; k < w->copies; k++)
    widen_nat(row + (size_t)k * w->RW, g->p->pad_w * g->C - k, src, w->Wv * g->C, off, dbl);
}

/* The kernel rows of output row oy (batch b) into rp, widening the rows the ring lacks. */
static void win_rows(const win_t *w, int b, int oy, const uint32_t **rp, int dbl) {
  const conv_geo_t *g = w->g;
  const hb_conv_params_t *p = g->p;
  for (int ky = 0, iy = oy * p->stride_h - p->pad_h; ky < g->KH; ky++, iy += p->dil_h) {
    if (iy < 0 || iy >= g->H) {
      rp[ky] = w->slot + (size_t)w->S * w->SW;
      continue;
    }
    const int s = iy % w->S;
    if (w->held[s] != b * g->H + iy) win_fill(w, b, iy, s, dbl);
    w->held[s] = b * g->H + iy;
    rp[ky] = w->slot + (size_t)s * w->SW;
  }
}

/* A pair's patch copy (copy_pair; field offsets are the asm's). */
typedef struct {
  const uint32_t *const *ra, *const *rae; /*  0, 4: A's kernel rows' slots; the end */
  int32_t rb;                             /*  8: bytes from A's row array to B's */
  int32_t ca, cb;                         /* 12, 16: A's and B's byte offsets in a slot */
  int32_t n4, two;                        /* 20, 24: per row, LDM steps of 4 words; one of 2 */
  int32_t last;                           /* 28: byte offset of a row's last word when R is odd, else -1 */
} cp_job_t;

#ifdef HB_DSP_ASM
/* Per kernel row: n4 steps of 4 words of A and B (LDM, LDM, STM, STM), then 2 if two; then the rows'
 * last words, one a slot (alternately a group's lo and hi word). */
__attribute__((noinline)) static void copy_pair(uint32_t *d, const cp_job_t *j) {
  register uint32_t *rd __asm__("r11") = d;
  register const cp_job_t *rj __asm__("lr") = j;
  __asm__ volatile(
      "ldr r12, [lr, #0]\n"
      "1:\n\t"
      "ldr r10, [lr, #8]\n\tldr r9, [r12, r10]\n\tldr r8, [r12], #4\n\t"
      "ldrd r10, r0, [lr, #12]\n\tadd r8, r8, r10\n\tadd r9, r9, r0\n\t"
      "ldr r10, [lr, #20]\n\tcmp r10, #0\n\tbeq 3f\n"
      "2:\n\t"
      "ldmia r8!, {r0, r1, r2, r3}\n\tldmia r9!, {r4, r5, r6, r7}\n\t"
      "stmia r11!, {r0, r1, r4, r5}\n\tstmia r11!, {r2, r3, r6, r7}\n\t"
      "subs r10, r10, #1\n\tbne 2b\n"
      "3:\n\t"
      "ldr r10, [lr, #24]\n\tcmp r10, #0\n\tbeq 4f\n\t"
      "ldmia r8, {r0, r1}\n\tldmia r9, {r4, r5}\n\tstmia r11!, {r0, r1, r4, r5}\n"
      "4:\n\t"
      "ldr r10, [lr, #4]\n\tcmp r12, r10\n\tbne 1b\n\t"
      "ldr r10, [lr, #28]\n\tcmp r10, #0\n\tblt 6f\n\t"
      "ldr r12, [lr, #0]\n\tmov r4, #4\n"
      "5:\n\t"
      "ldr r3, [lr, #8]\n\tldr r9, [r12, r3]\n\tldr r8, [r12], #4\n\t"
      "ldrd r0, r1, [lr, #12]\n\tadd r8, r8, r0\n\tadd r9, r9, r1\n\t"
      "ldr r2, [r8, r10]\n\tldr r3, [r9, r10]\n\tstr r2, [r11]\n\tstr r3, [r11, #8]\n\t"
      "add r11, r11, r4\n\teor r4, r4, #8\n\t"
      "ldr r0, [lr, #4]\n\tcmp r12, r0\n\tbne 5b\n"
      "6:"
      : "+r"(rd), "+r"(rj)
      :
      : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r12", "cc", "memory");
}
#else
static void copy_pair(uint32_t *d, const cp_job_t *j) {
  const int R2 = 4 * j->n4 + 2 * j->two;
  for (const uint32_t *const *r = j->ra; r != j->rae; r++, d += 2 * R2) {
    const uint32_t *a = (const uint32_t *)(const void *)((const char *)*r + j->ca);
    const uint32_t *b = (const uint32_t *)(const void *)((const char *)*(const uint32_t *const *)(const void *)(
                                                             (const char *)r + j->rb) + j->cb);
    for (int k = 0; k < R2; k += 2) {
      d[2 * k] = a[k]; d[2 * k + 1] = a[k + 1];
      d[2 * k + 2] = b[k]; d[2 * k + 3] = b[k + 1];
    }
  }
  if (j->last < 0) return;
  for (const uint32_t *const *r = j->ra; r != j->rae; r++) {
    const char *a = (const char *)*r + j->ca, *b = (const char *)*(const uint32_t *const *)(const void *)(
                                                      (const char *)r + j->rb) + j->cb;
    __builtin_memcpy(d, a + j->last, 4);
    __builtin_memcpy(d + 2, b + j->last, 4);
    d += (r - j->ra) % 2 ? 3 : 1;
  }
}
#endif

/* Byte offset of output column ox's kernel rows in a slot. */
static int32_t col_bytes(const win_t *w, int ox) {
  const int32_t e = ox * w->g->p->stride_w * w->g->C; /* elements (nat) */
  return 4 * (w->nat ? (e & 1) * w->RW + (e >> 1) : e / 2);
}

/* Other windows: the ring, pixel pairs in output order; rows[0] and rows[1] hold the kernel rows'
 * slots of the pair's output row(s). */
static void ring_pairs(const conv_geo_t *g, cw_tile_t *t, int8_t *y, int OC, uint64_t *ring, int first, int dbl) {
  win_t w;
  win_setup(g, ring, &w);
  if (first) {
    for (uint64_t *e = ring, *end = ring + hb_cw_ring_u64(g); e < end; e++) *e = 0;
    for (int s = 0; s < WIN_MAX_S; s++) w.held[s] = INT32_MIN;
  }
  const uint32_t *rows[2][WIN_MAX_S];
  const int R2 = w.R & ~1, B = (int)(g->npix / ((size_t)g->OH * g->OW));
  cp_job_t j = {0, 0, 0, 0, 0, R2 / 4, (R2 / 2) & 1, w.R & 1 ? 4 * R2 : -1};
  uint32_t *x = (uint32_t *)(void *)t->job.x;
  for (int b = 0; b < B; b++) {
    int8_t *yo = y + (size_t)b * g->OH * g->OW * OC + t->oc0;
    int oy = 0, ox = 0, ia = 0;
    win_rows(&w, b, 0, rows[0], dbl);
    for (;;) { /* A = (oy, ox), B the next pixel of the batch, if any */
      int oxb = ox + 1, ib = ia, two = 1;
      if (oxb == g->OW) {
        oxb = 0;
        if (oy + 1 == g->OH) {
          two = 0;
          oxb = ox;
        } else {
          ib = !ia;
          win_rows(&w, b, oy + 1, rows[ib], dbl);
        }
      }
      j.ra = rows[ia];
      j.rae = rows[ia] + g->KH;
      j.rb = (ib - ia) * (int32_t)sizeof rows[0];
      j.ca = col_bytes(&w, ox);
      j.cb = col_bytes(&w, oxb);
      copy_pair(x, &j);
      hb_cw_pair(t, yo, two ? (size_t)OC : 0);
      if (!two) break;
      yo += 2 * (size_t)OC;
      oy += ib != ia;
      ia = ib;
      if ((ox = oxb + 1) == g->OW) {
        ox = 0;
        if (++oy == g->OH) break;
        win_rows(&w, b, oy, rows[ia], dbl);
      }
    }
  }
}

void hb_cw_window(const conv_geo_t *g, cw_tile_t *t, int8_t *y, int OC, uint64_t *ring, int first, int dbl) {
  if (is_1x1(g))
    direct_1x1(g, t, y, OC, dbl);
  else
    ring_pairs(g, t, y, OC, ring, first, dbl);
}
#endif
