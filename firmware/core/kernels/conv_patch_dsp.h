/* CONV_2D's widened path, the patches: included by conv_wide_dsp.c only (one translation unit,
 * so that the pixel loop inlines them; a call per pixel cost 1-4 % on the MLPerf Tiny layers).
 * A pixel's window widened to pairs of x - in_zp, {x0,x2},{x1,x3} per 4 taps, into every second pair of the scratch (the
 * other pixel of the block goes between). Whole windows are one widen_run per kernel row;
 * windows that leave the input go through walk_patch (zeros outside); filter groups whose
 * channels are not a multiple of 4 (first layers) through an int8 patch with the zero point
 * outside the input, widened like whole groups. */
#ifndef HB_CONV_PATCH_DSP_H
#define HB_CONV_PATCH_DSP_H
#include "conv_common.h" /* QB (pairs between a pixel's groups): conv_wide_dsp.c's */
#include "conv_dsp.h"

/* n words at src -> pairs of x - in_zp at e, e + QB, ...; returns the end. The asm: 10
 * instructions per 2 words (plain LDRs: the input need not be word-aligned). */
static void *widen_run(void *e, const int8_t *src, int n, int32_t in_off) {
  const uint32_t off2 = hb_pack16(in_off, in_off);
  uint64_t *s = e;
#ifdef HB_DSP_ASM
  uint32_t v0, v1, l0, h0, l1, h1;
  __asm__("tst %[n], #1\n\t"
          "beq 2f\n\t"
          "ldr %[v0], [%[src]], #4\n\t"
          "sxtab16 %[l0], %[off], %[v0]\n\t"
          "sxtab16 %[h0], %[off], %[v0], ror #8\n\t"
          "strd %[l0], %[h0], [%[s]], #16\n"
          "2:\n\t"
          "lsrs %[n], %[n], #1\n\t"
          "beq 4f\n"
          "3:\n\t"
          "ldr %[v0], [%[src]], #4\n\t"
          "ldr %[v1], [%[src]], #4\n\t"
          "sxtab16 %[l0], %[off], %[v0]\n\t"
          "sxtab16 %[h0], %[off], %[v0], ror #8\n\t"
          "sxtab16 %[l1], %[off], %[v1]\n\t"
          "sxtab16 %[h1], %[off], %[v1], ror #8\n\t"
          "strd %[l0], %[h0], [%[s]], #16\n\t"
          "strd %[l1], %[h1], [%[s]], #16\n\t"
          "subs %[n], %[n], #1\n\t"
          "bne 3b\n"
          "4:"
          : [src] "+r"(src), [n] "+r"(n), [s] "+r"(s), [v0] "=&r"(v0), [v1] "=&r"(v1), [l0] "=&r"(l0),
            [h0] "=&r"(h0), [l1] "=&r"(l1), [h1] "=&r"(h1)
          : [off] "r"(off2)
          : "cc", "memory");
  return s;
#else
  for (; n > 0; n--, src += 4, s += QB) {
    const uint32_t v = hb_ld32(src);
    *s = hb_widen4_off(off2, v);
  }
  return s;
#endif
}

static void *zero_run(void *e, int n, int32_t in_off) {
  uint64_t *s = e;
  (void)in_off;
  for (; n > 0; n--, s += QB) *s = 0;
  return s;
}



/* n bytes of the input zero point (-in_off): taps outside the input, 0 once widened. */
static void *zero8(void *e, int n, int32_t in_off) {
  int8_t *t = e;
  for (; n > 0; n--) {
    *t++ = (int8_t)-in_off;
    HB_OPAQUE(t);
  }
  return t;
}

/* n bytes copied, a word at a time (unaligned words are single loads on Cortex-M3 and up). */
static void *run8(void *e, const int8_t *src, int n, int32_t in_off) {
  int8_t *t = e;
  (void)in_off;
  for (; n >= 4; n -= 4, t += 4, src += 4) {
    hb_st32(t, hb_ld32(src));
    HB_OPAQUE(t);
  }
  for (; n > 0; n--) {
    *t++ = *src++;
    HB_OPAQUE(t);
  }
  return t;
}

/* n rows of `row` bytes, `stride` bytes apart, copied to e one after the other; returns the end.
 * The asm: per row 3 instructions per word, 3 per remaining byte, 4 more. */
static void *rows8(void *e, const int8_t *src, int n, int row, size_t stride) {
  int8_t *t = e;
#ifdef HB_DSP_ASM
  const int words = row >> 2, bytes = row & 3;
  uint32_t v, k;
  __asm__("1:\n\t"
          "movs %[k], %[words]\n\t"
          "beq 3f\n"
          "2:\n\t"
          "ldr %[v], [%[src]], #4\n\t"
          "str %[v], [%[t]], #4\n\t"
          "subs %[k], %[k], #1\n\t"
          "bne 2b\n"
          "3:\n\t"
          "movs %[k], %[bytes]\n\t"
          "beq 5f\n"
          "4:\n\t"
          "ldrb %[v], [%[src]], #1\n\t"
          "strb %[v], [%[t]], #1\n\t"
          "subs %[k], %[k], #1\n\t"
          "bne 4b\n"
          "5:\n\t"
          "add %[src], %[src], %[skip]\n\t"
          "subs %[n], %[n], #1\n\t"
          "bne 1b"
          : [t] "+r"(t), [src] "+r"(src), [n] "+r"(n), [v] "=&r"(v), [k] "=&r"(k)
          : [words] "r"(words), [bytes] "r"(bytes), [skip] "r"(stride - (size_t)row)
          : "cc", "memory");
  return t;
#else
  for (; n > 0; n--, src += stride) t = run8(t, src, row, 0);
  return t;
#endif
}

/* How a patch is written: zero(e, n, in_off) and run(e, src, n, in_off) write n units from e
 * and return the end. PAIRS: a unit is 4 taps, one pair every QB; BYTES: one int8 tap. */
typedef struct {
  void *(*zero)(void *e, int n, int32_t in_off);
  void *(*run)(void *e, const int8_t *src, int n, int32_t in_off);
} patch_out_t;

static const patch_out_t PAIRS = {zero_run, widen_run};
static const patch_out_t BYTES = {zero8, run8};

/* Pixel q's patch (input xg, offset to the filter group) in tap order through o: x - in_zp
 * inside the input, 0 outside (BYTES: the input as it is, the zero point outside); u units per
 * tap. A row's taps inside the input are one run when they are adjacent (dil_w 1, one filter
 * group). Returns the end. */
static void *walk_patch(const conv_geo_t *g, const int8_t *xg, const pix_t *q, void *e, const patch_out_t *o, int u) {
  const hb_conv_params_t *p = g->p;
  const int8_t *xb = xg + (size_t)q->b * g->H * g->W * g->C;
  const hb_span_t ys = hb_out_span(q->oy, p->stride_h, p->pad_h, p->dil_h, g->KH, g->H);
  const hb_span_t xs = hb_out_span(q->ox, p->stride_w, p->pad_w, p->dil_w, g->KW, g->W);
  const int ky1 = xs.k0 < xs.k1 ? ys.k1 : ys.k0; /* a dilated window can miss the input */
  const int32_t off = g->in_off;
  e = o->zero(e, ys.k0 * g->KW * u, off);
  for (int ky = ys.k0; ky < ky1; ky++) {
    const int8_t *src = xb + ((size_t)(ys.i0 + p->dil_h * ky) * g->W + (size_t)(xs.i0 + p->dil_w * xs.k0)) * g->C;
    e = o->zero(e, xs.k0 * u, off);
    if (p->dil_w == 1 && g->C == g->FC) {
      e = o->run(e, src, (xs.k1 - xs.k0) * u, off);
    } else {
      for (int kx = xs.k0; kx < xs.k1; kx++, src += (size_t)p->dil_w * g->C) e = o->run(e, src, u, off);
    }
    e = o->zero(e, (g->KW - xs.k1) * u, off);
  }
  return o->zero(e, (g->KH - ky1) * g->KW * u, off); /* the rows below, or all */
}

/* widen_patch for any FC: the patch as int8 in t (the zero point outside the input), then
 * widened 4 taps at a time like a run of whole groups; the last group's extra taps meet zero
 * weights (the pad bytes are set: no uninitialised reads). */
static void widen_patch_any(const conv_geo_t *g, const int8_t *xg, const pix_t *q, uint64_t *s) {
  int8_t t[HB_ANY_MAX_K + 4], *e = t;
  const hb_conv_params_t *p = g->p;
  const int iy0 = q->oy * p->stride_h - p->pad_h, ix0 = q->ox * p->stride_w - p->pad_w, row = g->KW * g->C;
  if (iy0 >= 0 && ix0 >= 0 && iy0 + (g->KH - 1) * p->dil_h < g->H && ix0 + g->KW <= g->W && p->dil_w == 1 &&
      g->C == g->FC) { /* the whole window inside the input: KH runs */
    const int8_t *src = xg + (((size_t)q->b * g->H + (size_t)iy0) * g->W + (size_t)ix0) * g->C;
    e = rows8(e, src, g->KH, row, (size_t)p->dil_h * g->W * g->C);
  } else {
    e = walk_patch(g, xg, q, t, &BYTES, g->FC);
  }
  zero8(e, 3, g->in_off);
  widen_run(s, t, (g->K + 3) / 4, g->in_off);
}

/* Pixel q's patch (input xg, offset to the filter group) into every second pair from s. */
static void widen_patch(const conv_geo_t *g, const int8_t *xg, const pix_t *q, uint64_t *s) {
  if (g->FC % 4) {
    widen_patch_any(g, xg, q, s);
    return;
  }
  const hb_conv_params_t *p = g->p;
  const int iy0 = q->oy * p->stride_h - p->pad_h, ix0 = q->ox * p->stride_w - p->pad_w;
  if (iy0 >= 0 && ix0 >= 0 && iy0 + (g->KH - 1) * p->dil_h < g->H && ix0 + g->KW <= g->W && p->dil_w == 1 &&
      g->C == g->FC) { /* the whole window inside the input: KH runs of whole groups, no spans */
    const int8_t *src = xg + (((size_t)q->b * g->H + (size_t)iy0) * g->W + (size_t)ix0) * g->C;
    const size_t step = (size_t)p->dil_h * g->W * g->C;
    for (int ky = 0; ky < g->KH; ky++, src += step) s = widen_run(s, src, g->KW * g->FC / 4, g->in_off);
    return;
  }
  walk_patch(g, xg, q, s, &PAIRS, g->FC / 4);
}
#endif
