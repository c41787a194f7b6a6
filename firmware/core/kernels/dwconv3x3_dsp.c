/* DEPTHWISE_CONV_2D 3x3, stride 1 or 2, no dilation, depth multiplier 1, C % 4 == 0, with the
 * fast requantisation (p->rq): 1.96 instructions per MAC on a Cortex-M4 for 32x32x64,
 * everything included. Other shapes stay with dwconv_dsp.c. This file: the ring, the weight
 * sets, the op; the MAC/requantisation/store loops of a row are in dwconv3x3_rows_dsp.c.
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
 * pointer as well. Output block b (columns 4b..4b+3) reads words 2b..2b+2 of each slot at
 * stride 1, words 4b..4b+4 (ring blocks 2b..2b+2) at stride 2.
 *
 * The weights are per channel and ring rotation (which slot holds which kernel row),
 * doubled for the requantisation's doubled accumulator (requant_fast.h), with the
 * accumulator's start (bias2) and the constants {m, k', r} (r twice: the shift word, which is
 * the address of its asm tail, and r itself): one set of 11 words. k' folds
 * -act_min into the rounding constant (exact: a multiple of 2^r), so USAT #8 gives
 * min(y - act_min, 255) >= 0; the outputs of one group are collected as bytes
 * [pixel][channel] and a word per pixel then takes the upper clamp (USUB8/SEL against
 * act_max - act_min), adds act_min back (UADD8) and is stored: the 4 channels of a pixel
 * are adjacent in NHWC.
 *
 * Instructions per block of 4 outputs (36 MACs) on the Arm path: 33 loads and MACs, 10
 * requantisation (SMMLAR and its sign, the ASR folded into USAT by a per-shift tail), 8
 * USAT and byte stores, 2 loop; 5 for the clamp and store per pixel group; about 6 for
 * the widening (23 instructions per 16 input elements). */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "dwconv3x3_dsp.h"
#include "dwconv3x3_rows.h"
#include "requant_fast.h"

typedef struct {
  const hb_conv_params_t *p;
  const int8_t *x;      /* the batch's input */
  int H, W, C;          /* ring rows (input rows; columns when transposed), their length, channels */
  int xs, rs, pw;       /* input bytes from a pixel of a ring row to the next, from a row to the next;
                           the padding before a row */
  int nb, nj;           /* output blocks of 4 columns per row; ring blocks (stride * nb + 1) */
  int c0, ct;           /* the tile's channels [c0, c0 + ct) */
  uint32_t *ring;       /* ct / 4 groups of nj blocks */
  const int8_t *zprow;  /* C input zero points: the padding pixels */
} d3_t;

/* Widening: two pixels' words a, b (4 channels each) give, by PKHBT and PKHTB, the bytes
 * {a0,a1,b0,b1} and {a2,a3,b2,b3}; SXTAB16 with the offset (and ROR 8) then gives each
 * channel's two columns {x - zp} directly: per 2 pixels 2 packs and 4 extends. */

/* Ring blocks q .. qe (exclusive, D3_BLK words apart) of one group and slot from the 4
 * channels at xp, pixels C bytes apart: per 4 pixels 4 loads, 4 packs, 8 extends, 4
 * double-word stores; 23 instructions. */
#ifdef HB_DSP_ASM
__attribute__((noinline)) static void d3_widen(const int8_t *xp, int32_t C, uint32_t off2, uint32_t *q,
                                               const uint32_t *qe) {
  register const int8_t *rx __asm__("r0") = xp;
  register int32_t rc __asm__("r1") = C;
  register uint32_t ro __asm__("r2") = off2;
  register uint32_t *rq __asm__("r3") = q;
  register const uint32_t *rqe __asm__("r12") = qe;
  __asm__ volatile(
      "add r10, %[c], %[c]\n\t"
      "add r11, r10, %[c]\n\t"
      "1:\n\t"
      "ldr r4, [%[x]]\n\tldr r5, [%[x], %[c]]\n\tldr r6, [%[x], r10]\n\tldr r7, [%[x], r11]\n\t"
      "add %[x], %[x], %[c], lsl #2\n\t"
      "pkhbt r8, r4, r5, lsl #16\n\tpkhtb r4, r5, r4, asr #16\n\t" /* pixels 0, 1 */
      "pkhbt r9, r6, r7, lsl #16\n\tpkhtb r6, r7, r6, asr #16\n\t" /* pixels 2, 3 */
      "sxtab16 r5, %[o], r8, ror #8\n\tsxtab16 r7, %[o], r9, ror #8\n\t"
      "strd r5, r7, [%[q], #24]\n\t" /* channel 1 */
      "sxtab16 r5, %[o], r4\n\tsxtab16 r7, %[o], r6\n\t"
      "strd r5, r7, [%[q], #48]\n\t" /* channel 2 */
      "sxtab16 r5, %[o], r4, ror #8\n\tsxtab16 r7, %[o], r6, ror #8\n\t"
      "strd r5, r7, [%[q], #72]\n\t" /* channel 3 */
      "sxtab16 r5, %[o], r8\n\tsxtab16 r7, %[o], r9\n\t"
      "strd r5, r7, [%[q]], #96\n\t" /* channel 0 */
      "cmp %[q], %[qe]\n\t"
      "bne 1b"
      : [x] "+r"(rx), [q] "+r"(rq)
      : [c] "r"(rc), [o] "r"(ro), [qe] "r"(rqe)
      : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
}
#else
/* Channels 0-3 of pixels a, b: ring words w[0], w[6], w[12], w[18] (one ring block apart). */
static inline void d3_widen2(uint32_t a, uint32_t b, uint32_t off2, uint32_t *w) {
  const uint32_t lo = hb_pack16((int32_t)a, (int32_t)b), hi = hb_pkhtb(b, a);
  w[0] = hb_sxtab16(off2, lo); w[6] = hb_sxtab16_ror8(off2, lo);
  w[12] = hb_sxtab16(off2, hi); w[18] = hb_sxtab16_ror8(off2, hi);
}

static void d3_widen(const int8_t *xp, int32_t C, uint32_t off2, uint32_t *q, const uint32_t *qe) {
  for (; q != qe; q += D3_BLK, xp += 4 * (size_t)C) {
    d3_widen2(hb_ld32(xp), hb_ld32(xp + C), off2, q);
    d3_widen2(hb_ld32(xp + 2 * C), hb_ld32(xp + 3 * C), off2, q + 1);
  }
}
#endif

/* One ring block (and slot) in every group of the tile, [q, qe) gs bytes apart, from 4
 * pixel pointers that advance 4 channels a group (padding pixels: a row of zero points):
 * the blocks with padding columns. 27 instructions a group. */
#ifdef HB_DSP_ASM
#define D3_EDGE_ASM(pa, pb, o)                                                                   \
  "ldr r4, [" pa "], #4\n\tldr r5, [" pb "], #4\n\t"                                             \
  "pkhbt r6, r4, r5, lsl #16\n\tpkhtb r4, r5, r4, asr #16\n\t"                                   \
  "sxtab16 r5, %[o], r6\n\tstr r5, [%[q], #" #o "]\n\t"                                          \
  "sxtab16 r5, %[o], r6, ror #8\n\tstr r5, [%[q], #" #o "+24]\n\t"                               \
  "sxtab16 r5, %[o], r4\n\tstr r5, [%[q], #" #o "+48]\n\t"                                       \
  "sxtab16 r5, %[o], r4, ror #8\n\tstr r5, [%[q], #" #o "+72]\n\t"
__attribute__((noinline)) static void d3_widen_edge(const int8_t *const px[4], uint32_t off2, uint32_t *q,
                                                    const uint32_t *qe, int32_t gs) {
  register const int8_t *p0 __asm__("r0") = px[0], *p1 __asm__("r1") = px[1], *p2 __asm__("r2") = px[2],
                        *p3 __asm__("r3") = px[3];
  register uint32_t *rq __asm__("r9") = q, ro __asm__("r10") = off2;
  register const uint32_t *rqe __asm__("r11") = qe;
  register int32_t rgs __asm__("r12") = gs;
  __asm__ volatile("1:\n\t" D3_EDGE_ASM("%[p0]", "%[p1]", 0) D3_EDGE_ASM("%[p2]", "%[p3]", 4)
                   "add %[q], %[q], %[gs]\n\t"
                   "cmp %[q], %[qe]\n\t"
                   "bne 1b"
                   : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [p3] "+r"(p3), [q] "+r"(rq)
                   : [o] "r"(ro), [qe] "r"(rqe), [gs] "r"(rgs)
                   : "r4", "r5", "r6", "cc", "memory");
}
#undef D3_EDGE_ASM
#else
static void d3_widen_edge(const int8_t *const px[4], uint32_t off2, uint32_t *q, const uint32_t *qe, int32_t gs) {
  for (size_t n = 0; q != qe; q += gs / 4, n += 4) {
    d3_widen2(hb_ld32(px[0] + n), hb_ld32(px[1] + n), off2, q);
    d3_widen2(hb_ld32(px[2] + n), hb_ld32(px[3] + n), off2, q + 1);
  }
}
#endif

/* Input row iy (zeros outside the input) into ring slot s of every group of the tile:
 * the blocks inside the input group by group, the others block by block. */
static void d3_fill_row(const d3_t *d, int iy, int s) {
  const uint32_t off2 = hb_pack16(d->p->in_offset, d->p->in_offset);
  const int pw = d->pw, inside = iy >= 0 && iy < d->H, G = d->ct / 4;
  const int8_t *xrow = d->x + (size_t)(inside ? iy : 0) * d->rs + d->c0;
  const size_t gw = (size_t)d->nj * D3_BLK; /* words per group */
  /* ring blocks whose 4 columns are all inside the input: [j0, j1) */
  int j0 = (pw + 3) / 4, j1 = d->W + pw >= 4 ? (d->W + pw - 4) / 4 + 1 : 0;
  if (j1 > d->nj) j1 = d->nj;
  if (j1 < j0) j1 = j0;
  uint32_t *ring = d->ring + 2 * s;
  if (!inside) { /* a padding row: zeros */
    for (uint32_t *q = ring, *end = ring + (size_t)G * gw; q != end; q += D3_BLK)
      for (int i = 0; i < 4; i++) q[6 * i] = q[6 * i + 1] = 0;
    return;
  }
  for (int g = 0; g < G && j1 > j0; g++)
    d3_widen(xrow + (size_t)(4 * j0 - pw) * d->xs + 4 * g, d->xs, off2, ring + g * gw + (size_t)j0 * D3_BLK,
             ring + g * gw + (size_t)j1 * D3_BLK);
  for (int j = 0; j < d->nj; j++) {
    if (j == j0 && j1 > j0) j = j1;
    if (j >= d->nj) break;
    const int8_t *px[4];
    for (int k = 0; k < 4; k++) {
      const int ix = 4 * j + k - pw;
      px[k] = ix >= 0 && ix < d->W ? xrow + (size_t)ix * d->xs : d->zprow + d->c0;
    }
    d3_widen_edge(px, off2, ring + (size_t)j * D3_BLK, ring + (size_t)G * gw + (size_t)j * D3_BLK, (int32_t)(4 * gw));
  }
}

/* Channel c's 3 weight sets, one per ring rotation t (slot s holds kernel row (s - t) mod 3):
 * m, k' (act_min folded in), the shift word (words[r]), bias2, {W01, W12} doubled for slots 1,
 * 2, 0 (kernel rows 1 2 0, then 0 1 2, then 2 0 1), r. */
static void d3_weight_sets(const hb_conv_params_t *p, const int8_t *w, int C, int c, const int32_t *words,
                           int tr, int32_t *set) {
  const hb_rq_t *q = &p->rq[c];
  const int8_t *wc = w + c;
  const size_t along = tr ? 3 * (size_t)C : (size_t)C, across = tr ? (size_t)C : 3 * (size_t)C; /* tr: transposed */
  int32_t rows[6]; /* {W01, W12} of kernel rows 0-2 */
  for (int ky = 0; ky < 3; ky++, wc += across) {
    const int32_t k0 = wc[0], k1 = wc[along], k2 = wc[2 * along];
    rows[2 * ky] = (int32_t)hb_pack16(2 * k0, 2 * k1);
    rows[2 * ky + 1] = (int32_t)hb_pack16(2 * k1, 2 * k2);
  }
  const int32_t m = q->mult, k = (int32_t)((uint32_t)q->k - ((uint32_t)p->act_min << q->r)), sw = words[q->r];
  const int32_t b2 = q->bias2, r = q->r;
  const int32_t all[3 * D3_SET] = {m, k, sw, b2, rows[2], rows[3], rows[4], rows[5], rows[0], rows[1], r,
                                   m, k, sw, b2, rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], r,
                                   m, k, sw, b2, rows[4], rows[5], rows[0], rows[1], rows[2], rows[3], r};
  __builtin_memcpy(set, all, sizeof all);
}

/* Rows of the output go along the input's columns (transposed) when the map is narrow and tall:
 * blocks of 4 outputs then waste less (kws 25x5: 7 blocks a column for 25 outputs against 2 a row
 * for 5). */
static int d3_transpose(int OH, int OW) { return OW % 4 && OH >= 3 * OW; }

int hb_dw3x3_dsp(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int stride = p->stride_w;
  if (!p->rq || f->dims[1] != 3 || f->dims[2] != 3 || stride != p->stride_h || stride < 1 || stride > 2 ||
      p->dil_w != 1 || p->dil_h != 1 || p->depth_mult != 1 || in->dims[3] % 4)
    return 0;
  const int B = in->dims[0], C = in->dims[3], tr = d3_transpose(out->dims[1], out->dims[2]);
  const int OH = out->dims[1 + tr], OW = out->dims[2 - tr], ph = tr ? p->pad_w : p->pad_h;
  const size_t ys = tr ? (size_t)out->dims[2] * C : (size_t)C; /* output bytes along a row */
  const size_t yr = tr ? (size_t)C : (size_t)out->dims[2] * C; /* and from a row to the next */
  d3_t d = {p, 0, in->dims[1 + tr], in->dims[2 - tr], C, tr ? in->dims[2] * C : C, tr ? C : in->dims[2] * C,
            tr ? p->pad_h : p->pad_w, 0, 0, 0, 0, 0, 0};
  if (OW < 1 || OH < 1) return 0;
  d.nb = (OW + 3) / 4;
  d.nj = stride * d.nb + 1;
  /* channels per tile: weight sets, rings and the collected bytes in the scratch */
  const size_t words = HB_DSP_SCRATCH_BYTES / 4, st_words = 4 * (size_t)d.nb + (size_t)d.C / 4;
  const size_t per4 = 4 * (size_t)D3_CH + (size_t)d.nj * D3_BLK;
  if (words < st_words + per4) return 0;
  const int ct_max = 4 * (int)((words - st_words) / per4);
  uint32_t *scratch = (uint32_t *)(void *)hb_dsp_scratch, *st = scratch;
  int32_t *sets = (int32_t *)(void *)(st + st_words);
  int8_t *zprow = (int8_t *)(st + 4 * (size_t)d.nb);
  for (int c = 0; c < d.C; c++) zprow[c] = (int8_t)-p->in_offset;
  d.zprow = zprow;
  const uint32_t dd = hb_bytes4(p->act_max - p->act_min), ll = hb_bytes4(p->act_min);
  const int8_t *w = (const int8_t *)f->data;
  const int32_t step = 96 * stride; /* ring bytes per block of 4 outputs */
  int32_t shift_words[HB_RQ_MAX_R + 1]; /* the shift word of each r */
  for (int r = 1; r <= HB_RQ_MAX_R; r++) shift_words[r] = hb_d3_shift_word(stride, r);
  for (d.c0 = 0; d.c0 < d.C; d.c0 += d.ct) {
    d.ct = d.C - d.c0 < ct_max ? d.C - d.c0 : ct_max;
    d.ring = (uint32_t *)(void *)(sets + (size_t)d.ct * D3_CH);
    for (int c = 0; c < d.ct; c++) d3_weight_sets(p, w, d.C, d.c0 + c, shift_words, tr, sets + (size_t)c * D3_CH);
    for (int b = 0; b < B; b++) {
      d.x = (const int8_t *)in->data + (size_t)b * d.H * d.W * d.C;
      int held[3] = {INT32_MIN, INT32_MIN, INT32_MIN}; /* the input row in each slot */
      for (int oy = 0; oy < OH; oy++) {
        const int iy0 = oy * stride - ph, t = ((iy0 % 3) + 3) % 3;
        for (int ky = 0; ky < 3; ky++) {
          const int s = (t + ky) % 3;
          if (held[s] != iy0 + ky) d3_fill_row(&d, iy0 + ky, s);
          held[s] = iy0 + ky;
        }
        d3_job_t job = {d.ring, step * (OW / 4), sets + t * D3_SET + 3, (uint8_t *)st, 16 * d.nb - 1,
                        (int8_t *)out->data + (size_t)b * OH * OW * d.C + (size_t)oy * yr + d.c0, (int32_t)ys,
                        OW / 4, OW % 4, dd, ll, 4 * d.nj * D3_BLK, d.ct / 4, step * d.nb - 24,
                        hb_d3_part(stride, OW % 4)};
        hb_d3_rows(&job, stride);
      }
    }
  }
  return 1;
}
#endif
