/* CONV_2D with Helium (MVE, Cortex-M55); mve.h says why the results are the reference's. Every
 * sum is a run of VMLADAVA.S8 (16 MACs each) of int8 weights against the raw int8 input.
 *
 * CONV_2D: a pixel's window is KH runs of KW * C taps: straight from the input when the window
 * lies inside it (dil_w 1, one filter group), else from an int8 patch with the zero point outside
 * the input (x - zp = 0 there, as acc0 assumes), one run per kernel row, each padded to 16 bytes.
 * The weights of 4 output channels are packed once per invoke (a tile of channel groups at a time)
 * as, per run and 16 taps, the 4 channels' 16 bytes one after the other, zero-padded: one pointer
 * walks them. A block of 2 pixels x 4 channels keeps its 8 sums in the 8 even registers
 * (VMLADAVA's Rda): per 16 taps 2 loads of input, 4 of weights and 8 VMLADAVA, 16 instructions
 * with the loop for 128 MACs. Channels go 4 at a time; when their count is not a multiple of 4
 * the last group is the last 4 channels (recomputing a few: the same bytes).
 *
 * Shapes it does not take (groups, under 4 output channels, patches that do not fit the scratch)
 * go to the DSP kernels. fc_mve.c shares hb_mve_rq_fill. */
#include "simd.h"
#ifdef HB_KERNELS_MVE
#include "conv_common.h"
#include "mve.h"

/* sum of n int8 at w */
static int32_t sum8(const int8_t *w, int n) {
  int32_t s = 0;
  for (; n >= 16; n -= 16, w += 16) s = vaddvaq_s8(s, vldrbq_s8(w));
  if (n > 0) {
    const mve_pred16_t p = vctp8q((uint32_t)n);
    s = vaddvaq_p_s8(s, vldrbq_z_s8(w, p), p);
  }
  return s;
}

/* Channel c into lane `lane` of the group at g (5 vectors of 4 lanes). */
static void rq_lane(int32_t *g, int lane, const hb_mve_rq_src_t *s, int c) {
  const int32_t sum = sum8(s->w + (size_t)c * s->wstride, s->K), sh = s->shift[c * s->mstep];
  g[lane] = (int32_t)((uint32_t)(s->bias ? s->bias[c] : 0) + (uint32_t)s->in_offset * (uint32_t)sum);
  g[4 + lane] = s->mult[c * s->mstep];
  g[8 + lane] = sh > 0 ? sh : 0;
  g[12 + lane] = sh < 0 ? sh : 0;
  g[16 + lane] = sh < 0 ? -1 : 0;
}

/* Group j holds channels min(4 j, n - 4) + lane (n >= 4). */
int hb_mve_group_c0(int j, int n) { return 4 * j < n - 4 ? 4 * j : n - 4; }

void hb_mve_rq_fill(hb_mve_rq4_t *t, int n, const hb_mve_rq_src_t *s) {
  for (int j = 0; j < (n + 3) / 4; j++)
    for (int lane = 0; lane < 4; lane++) rq_lane((int32_t *)(void *)&t[j], lane, s, hb_mve_group_c0(j, n) + lane);
}

/* The 2 x 4 blocks of a pixel pair: for each of ng groups (packed weights one after the other
 * from w: per run, per 16 taps, 4 x 16 bytes), the runs of xa and xb (nseg runs of len bytes;
 * `skip` bytes from a run's end to the next) against the group's weights; 8 sums a group to
 * `sums` (pixel A's 4 channels, then B's). The 8 sums live in the 8 even registers (VMLADAVA's
 * Rda); the loop state in the job (r9). The sums leave through memory, not by VMOV of
 * two registers to two lanes: QEMU 7.2 fills that instruction's lanes the other way round from
 * GCC 12 (vcreateq_s32(a | b << 32, c | d << 32) reads back as {c, d, a, b} there). */
typedef struct {
  const int8_t *xa, *xb; /*  0,  4 */
  int32_t skip, full;    /*  8, 12: bytes between runs, 16-byte chunks in a run */
  int32_t tail, nseg;    /* 16, 20: bytes after the chunks, runs */
  int32_t ng;            /* 24: groups left */
  int32_t *sums;         /* 28 */
} mac_job_t;

static void mac_pair(mac_job_t *j, const int8_t *w) {
  register mac_job_t *r9 __asm__("r9") = j;
  register const int8_t *r5 __asm__("r5") = w;
#define MAC_W(ra, rb) "vldrb.u8 q2, [r5], #16\n\tvmlava.s8 " ra ", q0, q2\n\tvmlava.s8 " rb ", q1, q2\n\t"
#define MAC_16 MAC_W("r0", "r8") MAC_W("r2", "r10") MAC_W("r4", "r12") MAC_W("r6", "lr")
  __asm__ volatile("0:\n\t" /* group */
                   "ldrd r1, r3, [r9]\n\t"
                   "ldr r11, [r9, #20]\n\t"
                   "movs r0, #0\n\tmovs r2, #0\n\tmovs r4, #0\n\tmovs r6, #0\n\t"
                   "mov r8, #0\n\tmov r10, #0\n\tmov r12, #0\n\tmov lr, #0\n"
                   "1:\n\t" /* run */
                   "ldr r7, [r9, #12]\n\t"
                   "cbz r7, 3f\n"
                   "2:\n\t"
                   "vldrb.u8 q0, [r1], #16\n\t"
                   "vldrb.u8 q1, [r3], #16\n\t" MAC_16
                   "subs r7, r7, #1\n\t"
                   "bne 2b\n"
                   "3:\n\t"
                   "ldr r7, [r9, #16]\n\t"
                   "cbz r7, 4f\n\t"
                   "vctp.8 r7\n\t"
                   "vpstt\n\t"
                   "vldrbt.u8 q0, [r1]\n\t"
                   "vldrbt.u8 q1, [r3]\n\t" MAC_16
                   "add r1, r1, r7\n\t"
                   "add r3, r3, r7\n"
                   "4:\n\t"
                   "ldr r7, [r9, #8]\n\t"
                   "add r1, r1, r7\n\t"
                   "add r3, r3, r7\n\t"
                   "subs r11, r11, #1\n\t"
                   "bne 1b\n\t"
                   "ldr r7, [r9, #28]\n\t"
                   "stm r7!, {r0, r2, r4, r6}\n\t"
                   "stm r7!, {r8, r10, r12, lr}\n\t"
                   "str r7, [r9, #28]\n\t"
                   "ldr r7, [r9, #24]\n\t"
                   "subs r7, r7, #1\n\t"
                   "str r7, [r9, #24]\n\t"
                   "bne 0b"
                   : "+r"(r9), "+r"(r5)
                   :
                   : "r0", "r1", "r2", "r3", "r4", "r6", "r7", "r8", "r10", "r11", "r12", "lr", "q0", "q1", "q2",
                     "cc", "memory");
#undef MAC_16
#undef MAC_W
}

/* A window as runs: nrun runs of len taps (len16: rounded up to 16). By kernel rows (nrun = KH,
 * len = KW * C: whole windows read from the input), or flat (nrun 1, len = K: every pixel gets a
 * patch) when the rows' padding to 16 would cost more MACs than the patches. */
typedef struct {
  const hb_tensor_t *in;
  const hb_conv_params_t *p;
  int KH, KW, C, nrun, len, len16, OH, OW;
} geo_t;

/* Channels c0..c0+3's weights (K = nrun * len each) packed as mac_pair reads them. */
static void pack4(const int8_t *w, const geo_t *g, int c0, int8_t *dst) {
  const int K = g->nrun * g->len;
  for (int s = 0; s < g->nrun; s++)
    for (int j = 0; j < g->len; j += 16)
      for (int c = 0; c < 4; c++, dst += 16) {
        const mve_pred16_t q = vctp8q((uint32_t)(g->len - j));
        vstrbq_s8(dst, vldrbq_z_s8(w + (size_t)(c0 + c) * K + (size_t)s * g->len + j, q));
      }
}

/* n bytes from src to dst, or n zero points (z: the zero point in every byte) where src is NULL:
 * a tail-predicated loop (WLSTP/LETP), 16 bytes an iteration. Returns dst + n (the loop's
 * post-increments step 16 even in its last, partial iteration). */
static inline int8_t *copy_run(int8_t *dst, const int8_t *src, int n, int8x16_t z) {
  int8_t *const end = dst + n;
  if (src)
    __asm__ volatile("wlstp.8 lr, %[n], 2f\n"
                     "1:\n\t"
                     "vldrb.u8 q0, [%[s]], #16\n\t"
                     "vstrb.8 q0, [%[d]], #16\n\t"
                     "letp lr, 1b\n"
                     "2:"
                     : [d] "+r"(dst), [s] "+r"(src)
                     : [n] "r"(n)
                     : "q0", "lr", "memory");
  else
    __asm__ volatile("wlstp.8 lr, %[n], 2f\n"
                     "1:\n\t"
                     "vstrb.8 %q[z], [%[d]], #16\n\t"
                     "letp lr, 1b\n"
                     "2:"
                     : [d] "+r"(dst)
                     : [n] "r"(n), [z] "w"(z)
                     : "lr", "memory");
  return end;
}

/* Pixel P's patch in pb: kernel row ky at ky * (len16 by rows, KW * C flat), the zero point
 * where the window leaves the input: per kernel row at most 3 runs (zero points, input, zero
 * points). Everything it reads is in locals first (the byte stores could alias it otherwise). */
static void patch8(const geo_t *g, size_t P, int8_t *pb) {
  const hb_conv_params_t *p = g->p;
  const int H = g->in->dims[1], W = g->in->dims[2], C = g->C, KH = g->KH, KW = g->KW, OW = g->OW;
  const int dh = p->dil_h, dw = p->dil_w, run = KW * C;
  const int b = (int)(P / ((size_t)g->OH * OW)), r = (int)(P % ((size_t)g->OH * OW));
  const int8x16_t z = vdupq_n_s8((int8_t)-p->in_offset);
  const size_t rs = g->nrun == 1 ? (size_t)run : (size_t)g->len16, rowb = (size_t)W * C;
  const hb_span_t xs = hb_out_span(r % OW, p->stride_w, p->pad_w, dw, KW, W);
  const int8_t *xb = (const int8_t *)g->in->data + (size_t)b * H * rowb;
  for (int ky = 0; ky < KH; ky++, pb += rs) {
    const int iy = (r / OW) * p->stride_h - p->pad_h + ky * dh;
    if (iy < 0 || iy >= H || xs.k0 >= xs.k1) {
      copy_run(pb, 0, run, z);
      continue;
    }
    const int8_t *src = xb + (size_t)iy * rowb + (size_t)(xs.i0 + dw * xs.k0) * C;
    int8_t *e = copy_run(pb, 0, xs.k0 * C, z);
    if (dw == 1) {
      e = copy_run(e, src, (xs.k1 - xs.k0) * C, z);
    } else {
      for (int kx = xs.k0; kx < xs.k1; kx++, src += (size_t)dw * C) e = copy_run(e, src, C, z);
    }
    copy_run(e, 0, (KW - xs.k1) * C, z);
  }
}

/* Pixel P's first run when its window lies inside the input (by rows, dil_w 1), else NULL. */
static const int8_t *window(const geo_t *g, size_t P) {
  const hb_conv_params_t *p = g->p;
  const int H = g->in->dims[1], W = g->in->dims[2];
  if (g->nrun != g->KH) return 0;
  const int b = (int)(P / ((size_t)g->OH * g->OW)), r = (int)(P % ((size_t)g->OH * g->OW));
  const int iy = (r / g->OW) * p->stride_h - p->pad_h, ix = (r % g->OW) * p->stride_w - p->pad_w;
  if (p->dil_w != 1 || iy < 0 || iy + (g->KH - 1) * p->dil_h >= H || ix < 0 || ix + g->KW > W) return 0;
  return (const int8_t *)g->in->data + (((size_t)b * H + (size_t)iy) * W + (size_t)ix) * g->C;
}

/* Requantised sums of groups [j0, j0 + n) (8 sums each: pixel A, then B) to pixels ya and yb.
 * Everything the loop reads is in locals first: the byte stores could alias it otherwise. */
#define REQUANT_PAIR(name, RQ)                                                                            \
  static void name(const int32_t *sums, const hb_mve_rq4_t *t, int j0, int n, int OC, const hb_conv_params_t *p,   \
                   int8_t *ya, int8_t *yb) {                                                                       \
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);                                   \
    const int32_t off = p->out_offset;                                                                             \
    for (int j = j0; j < j0 + n; j++, sums += 8) {                                                                 \
      const hb_mve_rq4_t q = t[j];                                                                                 \
      const int c0 = hb_mve_group_c0(j, OC);                                                                       \
      const int32x4_t a = RQ(vldrwq_s32(sums), &q, off), b = RQ(vldrwq_s32(sums + 4), &q, off);                    \
      vstrbq_s32(ya + c0, vminq_s32(vmaxq_s32(a, lo), hi));                                                        \
      if (yb) vstrbq_s32(yb + c0, vminq_s32(vmaxq_s32(b, lo), hi));                                                \
    }                                                                                                              \
  }
REQUANT_PAIR(requant_pair_any, hb_mve_requant)
REQUANT_PAIR(requant_pair_right, hb_mve_requant_right) /* every shift in [-31, -1] */

/* Groups [j0, j1) (weights packed at pk) against every pixel pair; sums in `sums`. */
static void conv_tile(const geo_t *g, size_t npix, int OC, int j0, int j1, const int8_t *pk, const hb_mve_rq4_t *t,
                      int8_t *pa, int8_t *pb, int32_t *sums, int8_t *y) {
  const int right = hb_mve_right_only(g->p->shift, OC);
  const size_t row = (size_t)g->p->dil_h * g->in->dims[2] * g->C; /* input bytes between runs */
  for (size_t P = 0; P < npix; P += 2) {
    const size_t Q = P + 1 < npix ? P + 1 : P;
    mac_job_t job = {window(g, P), window(g, Q), (int32_t)(row - (size_t)g->len), g->len >> 4, g->len & 15, g->nrun,
                     j1 - j0, sums};
    if (!job.xa || !job.xb) {
      patch8(g, P, pa);
      patch8(g, Q, pb);
      job.xa = pa, job.xb = pb, job.skip = g->len16 - g->len;
    }
    mac_pair(&job, pk);
    (right ? requant_pair_right : requant_pair_any)(sums, t, j0, j1 - j0, OC, g->p, y + P * OC,
                                                    Q != P ? y + Q * OC : 0);
  }
}

/* Whether flat runs cost fewer instructions than runs by kernel rows (kh runs of c1 chunks of 16
 * taps, or one of ck), per pixel pair and ng groups: about 16 a chunk, 11 a run, 21 a group, and
 * 450 for the two patches that flat runs build for every pixel. */
static int flat_pays(int kh, int c1, int ck, int ng) {
  return ng * (16 * ck + 11) + 450 < ng * kh * (16 * c1 + 11);
}

size_t hb_conv_mve_scratch_size(const hb_engine_t *e, const hb_op_t *op) {
  (void)e, (void)op;
  return HB_DSP_SCRATCH_BYTES;
}

int hb_conv_mve(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int C = in->dims[3], OC = out->dims[3], ng = (OC + 3) / 4;
  const int KH = f->dims[1], KW = f->dims[2], K = KH * KW * C;
  geo_t g = {in, p, KH, KW, C, KH, KW * C, 0, out->dims[1], out->dims[2]};
  if (flat_pays(KH, (KW * C + 15) / 16, (K + 15) / 16, ng)) g.nrun = 1, g.len = K;
  g.len16 = (g.len + 15) & ~15;
  /* scratch: the rq4 of every group, 2 patches, then per group of the tile its sums and packed weights */
  const size_t tbytes = (size_t)ng * sizeof(hb_mve_rq4_t), patches = 2 * (size_t)g.nrun * g.len16;
  const size_t wbytes = 4 * (size_t)g.nrun * g.len16, per_group = wbytes + 32;
  if (f->dims[3] != C || OC < 4 || tbytes + patches + per_group > ctx->size) return 0;
  hb_mve_rq4_t *t = (hb_mve_rq4_t *)ctx->buf;
  int8_t *pa = (int8_t *)(void *)(t + ng), *pb = pa + patches / 2, *pk = pa + patches;
  const int tile = (int)((ctx->size - tbytes - patches) / per_group);
  int32_t *sums = (int32_t *)(void *)(pk + (size_t)(tile < ng ? tile : ng) * wbytes);
  const hb_mve_rq_src_t src = {(const int8_t *)f->data, K, K, hb_conv_bias(e, op), p->mult,
                               p->shift, 1, p->in_offset};
  hb_mve_rq_fill(t, OC, &src);
  const size_t npix = (size_t)in->dims[0] * g.OH * g.OW;
  for (int j0 = 0; j0 < ng; j0 += tile) {
    const int j1 = ng - j0 < tile ? ng : j0 + tile;
    for (int j = j0; j < j1; j++) pack4((const int8_t *)f->data, &g, hb_mve_group_c0(j, OC), pk + (size_t)(j - j0) * wbytes);
    conv_tile(&g, npix, OC, j0, j1, pk, t, pa, pb, sums, (int8_t *)out->data);
  }
  return 1;
}

#endif
