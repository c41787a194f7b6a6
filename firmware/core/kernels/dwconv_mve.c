/* DEPTHWISE_CONV_2D (depth multiplier 1, any kernel size, stride, dilation) with Helium (MVE,
 * Cortex-M55); mve.h says why the result is the reference's. Channels go 8 at a time as int16
 * lanes: per tap one VLDRB.S16 of input, one VLDRH of weights, VMULLB and VMULLT (the products
 * of the even and the odd channels as int32 lanes) and two adds, 6 instructions for 8 MACs.
 *
 * The input rows the windows need are copied once each into a ring of KH rows, with the zero
 * point around them (padding) and channel-group major ([group][column][8 channels]): every
 * window is whole, so acc0 = bias + in_offset * (sum of the channel's weights) is one constant
 * per channel, and a window's taps are at fixed offsets. The weights are widened once per
 * invoke to [group][tap][8 channels] int16 (zero past the last channel). The even and odd
 * channels' sums are requantised as two vectors, narrowed into one int16 vector in channel
 * order (VQMOVNB/VQMOVNT), clamped and stored as 8 bytes (fewer for the last group). */
#include "simd.h"
#ifdef HB_KERNELS_MVE
#include "conv_common.h"
#include "mve.h"

/* Even (e) and odd (o) channels of a group of 8. */
typedef struct { hb_mve_rq4_t e, o; } rq8_t;

static void rq8_fill(rq8_t *t, const hb_conv_params_t *p, const int8_t *w, int T, int C, const int32_t *bias) {
  for (int c = 0; c < (C + 7) / 8 * 8; c++) {
    int32_t *g = (int32_t *)(void *)((c & 1) ? &t[c / 8].o : &t[c / 8].e);
    const int lane = (c % 8) / 2;
    int32_t sum = 0;
    if (c < C)
      for (int k = 0; k < T; k++) sum += w[(size_t)k * C + c];
    const int32_t sh = c < C ? p->shift[c] : -1;
    g[lane] = (int32_t)((uint32_t)(c < C && bias ? bias[c] : 0) + (uint32_t)p->in_offset * (uint32_t)sum);
    g[4 + lane] = c < C ? p->mult[c] : 0;
    g[8 + lane] = sh > 0 ? sh : 0;
    g[12 + lane] = sh < 0 ? sh : 0;
    g[16 + lane] = sh < 0 ? -1 : 0;
  }
}

/* Weights as [group][tap][8] int16, zero past channel C. */
static void widen_weights(const int8_t *w, int T, int C, int16_t *dst) {
  for (int g = 0; g < (C + 7) / 8; g++)
    for (int t = 0; t < T; t++, dst += 8) {
      const mve_pred16_t q = vctp16q((uint32_t)(C - 8 * g));
      vstrhq_s16(dst, vldrbq_z_s16(w + (size_t)t * C + 8 * g, q));
    }
}

typedef struct {
  const hb_conv_params_t *p;
  int KH, KW, C, G, H, W, Wp; /* Wp: columns of a padded row */
  int right;                  /* every shift in [-31, -1] (hb_mve_right_only) */
  int8_t *ring;               /* KH rows of G * Wp * 8 bytes */
} dwg_t;

/* Input row iy (zero points outside the input) into ring slot s: column u = ix + pad_w. Whole
 * groups of 8 channels are one 8-byte copy; a last group's channels past C get the zero point
 * (their weights are 0). */
static void pad_row(const dwg_t *d, const int8_t *xb, int iy, int s) {
  const size_t gs = (size_t)d->Wp * 8;
  int8_t *row = d->ring + (size_t)s * d->G * gs;
  const uint64_t zp = (uint64_t)hb_bytes4(-d->p->in_offset) * 0x100000001u;
  const int full = d->C / 8, rows_in = iy >= 0 && iy < d->H;
  for (int u = 0; u < d->Wp; u++) {
    const int ix = u - d->p->pad_w, inside = rows_in && ix >= 0 && ix < d->W;
    int8_t *dst = row + (size_t)u * 8;
    if (!inside) {
      for (int g = 0; g < d->G; g++, dst += gs) __builtin_memcpy(dst, &zp, 8);
      continue;
    }
    const int8_t *src = xb + ((size_t)iy * d->W + (size_t)ix) * d->C;
    for (int g = 0; g < full; g++, dst += gs, src += 8) __builtin_memcpy(dst, src, 8);
    if (full < d->G) {
      uint64_t v = zp;
      for (int c = 0; c < d->C - 8 * full; c++)
        v = (v & ~((uint64_t)0xFF << (8 * c))) | (uint64_t)(uint8_t)src[c] << (8 * c);
      __builtin_memcpy(dst, &v, 8);
    }
  }
}

/* Requantisation of the even (q0) or odd (q1) channels' sums in place: rq4 vectors at [r3, #o]
 * (o: 0 for even, 80 for odd; acc0 is already the sums' start), the output offset in r4. */
#define DW_RQ(q, o, l, m, f, r)                                                                  \
  "vldrw.u32 q4, [r3, #" l "]\n\tvshl.s32 " q ", " q ", q4\n\t"                                \
  "vldrw.u32 q4, [r3, #" m "]\n\tvqrdmulh.s32 " q ", " q ", q4\n\t"                            \
  "vshr.s32 q5, " q ", #31\n\tvldrw.u32 q4, [r3, #" f "]\n\tvand q5, q5, q4\n\t"             \
  "vadd.i32 " q ", " q ", q5\n\tvldrw.u32 q4, [r3, #" r "]\n\tvrshl.s32 " q ", " q ", q4\n\t"  \
  "vadd.i32 " q ", " q ", r4\n\t"
/* One tap: input at [row, #x], weights at [r5, #w]. */
#define DW_TAP(row, x, w)                                                                        \
  "vldrb.s16 q2, [" row ", #" x "]\n\tvldrh.u16 q3, [r5, #" w "]\n\t"                          \
  "vmullb.s16 q4, q2, q3\n\tvmullt.s16 q5, q2, q3\n\t"                                         \
  "vadd.i32 q0, q0, q4\n\tvadd.i32 q1, q1, q5\n\t"

/* One output row of ng groups for a 3x3 window (dil_w 1): n pixels, the window of pixel k at
 * rows[0..2] + k * xs; weights wg (9 vectors a group); requantisation q (an rq8_t a group);
 * bytes to y, ys apart, predicate pr (the groups' channels); the next group's rows gs bytes on,
 * its outputs 8. 54 instructions of taps, 16-24 of requantisation and 8 of clamp, store and loop
 * a pixel, 16 a group (the asm advances r0-r2 and y in the job). */
typedef struct {
  const int8_t *r0, *r1, *r2; /*  0,  4,  8 */
  int32_t xs, n;              /* 12, 16 */
  int8_t *y;                  /* 20 */
  int32_t ys, off;            /* 24, 28 */
  uint32_t pr;                /* 32 */
  int32_t ng, gs;             /* 36, 40 */
} dw3_job_t;
_Static_assert(sizeof(rq8_t) == 160, "the asm steps 160 bytes a group's requantisation");

/* The requantisation when every shift is in [-31, -1]: no left shift, the -1 for negative values
 * in every lane (mve.h's hb_mve_requant_right). */
#define DW_RQ_RIGHT(q, m, r)                                                                        \
  "vldrw.u32 q4, [r3, #" m "]\n\tvqrdmulh.s32 " q ", " q ", q4\n\t"                               \
  "vshr.s32 q5, " q ", #31\n\tvadd.i32 " q ", " q ", q5\n\t"                                      \
  "vldrw.u32 q4, [r3, #" r "]\n\tvrshl.s32 " q ", " q ", q4\n\tvadd.i32 " q ", " q ", r4\n\t"
#define DW_RQ_ANY DW_RQ("q0", 0, "32", "16", "64", "48") DW_RQ("q1", 80, "112", "96", "144", "128")
#define DW_RQ_R DW_RQ_RIGHT("q0", "16", "48") DW_RQ_RIGHT("q1", "96", "128")
#define ROW3X3(name, RQ)                                                                                   \
  static void name(dw3_job_t *j, const int16_t *wg, const rq8_t *q, int16x8_t lo, int16x8_t hi) {           \
    register dw3_job_t *r6 __asm__("r6") = j;                                                              \
    register const int16_t *r5 __asm__("r5") = wg;                                                         \
    register const rq8_t *r3 __asm__("r3") = q;                                                            \
    register int16x8_t q6 __asm__("q6") = lo, q7 __asm__("q7") = hi;                                       \
    __asm__ volatile("ldm r6, {r0, r1, r2}\n\t"                                                             \
                     "ldrd r10, r12, [r6, #12]\n\t"                                                        \
                     "ldrd r7, r11, [r6, #20]\n\t"                                                         \
                     "ldr r4, [r6, #28]\n\t"                                                               \
                     "ldr r8, [r6, #32]\n\t"                                                               \
                     "vmsr p0, r8\n\t"                                                                     \
                     "ldr r9, [r6, #36]\n"                                                                 \
                     "1:\n\t"                                                                              \
                     "vldrw.u32 q0, [r3]\n\t"                                                              \
                     "vldrw.u32 q1, [r3, #80]\n\t"                                                         \
                     DW_TAP("r0", "0", "0") DW_TAP("r0", "8", "16") DW_TAP("r0", "16", "32")               \
                     DW_TAP("r1", "0", "48") DW_TAP("r1", "8", "64") DW_TAP("r1", "16", "80")              \
                     DW_TAP("r2", "0", "96") DW_TAP("r2", "8", "112") DW_TAP("r2", "16", "128") RQ         \
                     "vqmovnb.s32 q2, q0\n\t"                                                              \
                     "vqmovnt.s32 q2, q1\n\t"                                                              \
                     "vmax.s16 q2, q2, q6\n\t"                                                             \
                     "vmin.s16 q2, q2, q7\n\t"                                                             \
                     "vpst\n\t"                                                                            \
                     "vstrbt.16 q2, [r7]\n\t"                                                              \
                     "add r0, r0, r10\n\tadd r1, r1, r10\n\tadd r2, r2, r10\n\t"                          \
                     "add r7, r7, r11\n\t"                                                                 \
                     "subs r12, r12, #1\n\t"                                                               \
                     "bne 1b\n\t"                                                                          \
                     "subs r9, r9, #1\n\t" /* next group: rows gs on, y 8, weights 144, rq 160 */          \
                     "beq 2f\n\t"                                                                          \
                     "ldm r6, {r0, r1, r2}\n\tldr r8, [r6, #40]\n\t"                                      \
                     "add r0, r0, r8\n\tadd r1, r1, r8\n\tadd r2, r2, r8\n\tstm r6, {r0, r1, r2}\n\t"      \
                     "ldr r7, [r6, #20]\n\tadds r7, r7, #8\n\tstr r7, [r6, #20]\n\t"                      \
                     "ldr r12, [r6, #16]\n\tadd r5, r5, #144\n\tadd r3, r3, #160\n\tb 1b\n"              \
                     "2:"                                                                                  \
                     : "+r"(r6), "+r"(r5), "+r"(r3)                                                        \
                     : "w"(q6), "w"(q7)                                                                    \
                     : "r0", "r1", "r2", "r4", "r7", "r8", "r9", "r10", "r11", "r12", "q0", "q1", "q2", "q3",  \
                       "q4", "q5", "cc", "memory");                                                        \
  }
ROW3X3(row3x3_any, DW_RQ_ANY)
ROW3X3(row3x3_right, DW_RQ_R)
#undef ROW3X3
#undef DW_RQ_R
#undef DW_RQ_ANY
#undef DW_RQ_RIGHT
#undef DW_TAP
#undef DW_RQ

/* A 3x3 window (dil_w 1): one asm call for ng groups of nch channels each. */
static int is_3x3(const dwg_t *d) { return d->KH == 3 && d->KW == 3 && d->p->dil_w == 1; }

static void rows3x3(const dwg_t *d, const int8_t *const *rows, int OW, const int16_t *wg, const rq8_t *q, int nch,
                    int ng, int8_t *y) {
  const hb_conv_params_t *p = d->p;
  dw3_job_t j = {rows[0], rows[1], rows[2], p->stride_w * 8, OW, y, d->C, p->out_offset, vctp16q((uint32_t)nch),
                 ng, d->Wp * 8};
  (d->right ? row3x3_right : row3x3_any)(&j, wg, q, vdupq_n_s16((int16_t)p->act_min), vdupq_n_s16((int16_t)p->act_max));
}

/* One output row of one group, any window: pixels ox = 0..OW-1 (the ring's rows in rows[], the
 * window of ox at + ox * stride_w * 8). */
static void row8(const dwg_t *d, const int8_t *const *rows, int OW, const int16_t *wg, const rq8_t *q, int nch,
                 int8_t *y) {
  const hb_conv_params_t *p = d->p;
  const size_t xs = (size_t)p->stride_w * 8, ys = (size_t)d->C;
  const mve_pred16_t pr = vctp16q((uint32_t)nch);
  const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
  for (int ox = 0; ox < OW; ox++, y += ys) {
    int32x4_t ae = q->e.acc0, ao = q->o.acc0;
    const int16_t *w = wg;
    for (int ky = 0; ky < d->KH; ky++)
      for (int kx = 0; kx < d->KW; kx++, w += 8) {
        const int16x8_t xv = vldrbq_s16(rows[ky] + ox * xs + (size_t)kx * p->dil_w * 8), wv = vldrhq_s16(w);
        ae = vaddq_s32(ae, vmullbq_int_s16(xv, wv));
        ao = vaddq_s32(ao, vmulltq_int_s16(xv, wv));
      }
    hb_mve_rq4_t e = q->e, o = q->o;
    e.acc0 = o.acc0 = vdupq_n_s32(0); /* already the sums' start */
    const int32x4_t ve = vminq_s32(vmaxq_s32(hb_mve_requant(ae, &e, p->out_offset), lo), hi);
    const int32x4_t vo = vminq_s32(vmaxq_s32(hb_mve_requant(ao, &o, p->out_offset), lo), hi);
    vstrbq_p_s16(y, vqmovntq_s32(vqmovnbq_s32(vdupq_n_s16(0), ve), vo), pr);
  }
}

#define DW_MAX_KH 32

/* The scratch (the groups' requantisation, widened weights, a ring of KH rows) for the op, 0 when
 * the kernel leaves it. */
size_t hb_dwconv_mve_scratch_size(const hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int G = (HB_T(e, op, 0)->dims[3] + 7) / 8, KH = f->dims[1], OW = out->dims[2];
  const size_t Wp = (size_t)(OW - 1) * p->stride_w + (size_t)(f->dims[2] - 1) * p->dil_w + 1;
  const size_t need = (size_t)G * sizeof(rq8_t) + (size_t)G * KH * f->dims[2] * 16 + (size_t)KH * G * Wp * 8;
  return p->depth_mult != 1 || OW < 1 || KH > DW_MAX_KH || need > HB_DSP_SCRATCH_BYTES ? 0 : need;
}

int hb_dwconv_mve(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int B = in->dims[0], C = in->dims[3], OH = out->dims[1], OW = out->dims[2], T = f->dims[1] * f->dims[2];
  const size_t need = hb_dwconv_mve_scratch_size(e, op);
  if (!need || need > ctx->size) return 0;
  dwg_t d = {p, f->dims[1], f->dims[2], C, (C + 7) / 8, in->dims[1], in->dims[2],
             (OW - 1) * p->stride_w + (f->dims[2] - 1) * p->dil_w + 1, hb_mve_right_only(p->shift, C), 0};
  rq8_t *t = (rq8_t *)ctx->buf;
  int16_t *wt = (int16_t *)(void *)(t + d.G);
  d.ring = (int8_t *)(void *)(wt + (size_t)d.G * T * 8);
  rq8_fill(t, p, (const int8_t *)f->data, T, C, hb_conv_bias(e, op));
  widen_weights((const int8_t *)f->data, T, C, wt);
  const size_t gs = (size_t)d.Wp * 8; /* ring bytes per group and row */
  int8_t *y = (int8_t *)out->data;
  for (int b = 0; b < B; b++, y += (size_t)OH * OW * C) {
    const int8_t *xb = (const int8_t *)in->data + (size_t)b * d.H * d.W * C;
    int held[DW_MAX_KH];
    for (int s = 0; s < d.KH; s++) held[s] = INT32_MIN;
    for (int oy = 0; oy < OH; oy++) {
      int slot[DW_MAX_KH];
      for (int ky = 0; ky < d.KH; ky++) { /* a ring when a window's rows are adjacent, else slot ky */
        const int iy = oy * p->stride_h - p->pad_h + ky * p->dil_h;
        const int s = p->dil_h == 1 ? ((iy % d.KH) + d.KH) % d.KH : ky;
        if (held[s] != iy || p->dil_h != 1) pad_row(&d, xb, iy, s);
        held[s] = iy;
        slot[ky] = s;
      }
      for (int g = 0, ng; g < d.G; g += ng) { /* 3x3: the whole groups in one asm call */
        const int8_t *rows[DW_MAX_KH];
        for (int ky = 0; ky < d.KH; ky++) rows[ky] = d.ring + ((size_t)slot[ky] * d.G + (size_t)g) * gs;
        const int nch = C - 8 * g < 8 ? C - 8 * g : 8;
        ng = is_3x3(&d) && nch == 8 ? C / 8 - g : 1;
        int8_t *yg = y + (size_t)oy * OW * C + 8 * g;
        if (is_3x3(&d)) rows3x3(&d, rows, OW, wt + (size_t)g * T * 8, &t[g], nch, ng, yg);
        else row8(&d, rows, OW, wt + (size_t)g * T * 8, &t[g], nch, yg);
      }
    }
  }
  return 1;
}
#endif
