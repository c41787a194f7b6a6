/* DEPTHWISE_CONV_2D 3x3, stride 1 or 2, no dilation, depth multiplier 1, C % 4 == 0, with the
 * fast requantisation (p->rq): 1.96 instructions per MAC on a Cortex-M4 for 32x32x64,
 * everything included. Other shapes stay with dwconv_dsp.c. This file: the geometry, the weight
 * sets, the drivers; the widening is dwconv3x3_fill_dsp.c, the row loops dwconv3x3_rows_dsp.c
 * (bytes collected, then clamped: any activation range) and dwconv3x3_direct_dsp.c (outputs
 * saturated and stored straight when the range is all of int8; small maps widened whole).
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
 * (u = 4j, padded column u = ix + pad_w) at word 24j + 8s + 2i: one pointer reaches every
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

/* Rows of the output go along the input's columns (transposed) when the map is narrow and tall:
 * blocks of 4 outputs then waste less (kws 25x5: 7 blocks a column for 25 outputs against 2 a row
 * for 5). */
static int d3_transpose(int OH, int OW) { return OW % 4 && OH >= 3 * OW; }

/* The op, as the drivers see it: rows (outputs along ys bytes, yr bytes apart) of the output, in
 * the orientation taken. */
typedef struct {
  d3_t d;
  int B, OH, OW, ph, stride, kind, tr;
  size_t ys, yr, ob; /* output bytes: along a row, from a row to the next, a batch */
  int8_t *y;
  const int8_t *w, *x; /* filter, input */
  int32_t words[HB_RQ_MAX_R + 1]; /* the shift word of each r */
  uint32_t *scratch;              /* the context's scratch: sw words */
  size_t sw;
} d3_op_t;

/* The ring's rows for output row oy (rotation t): the input rows it lacks widened. */
static int ring_rows(d3_op_t *o, int oy, int held[3]) {
  const int iy0 = oy * o->stride - o->ph, t = ((iy0 % 3) + 3) % 3;
  for (int ky = 0; ky < 3; ky++) {
    const int s = (t + ky) % 3;
    if (held[s] != iy0 + ky) hb_d3_fill(&o->d, iy0 + ky, o->d.ring + D3_SLOT * s, 1);
    held[s] = iy0 + ky;
  }
  return t;
}

/* The collecting kernel (any activation range): sets, ring and the collected bytes in the scratch. */
static int ring_collect(d3_op_t *o, uint32_t *st, size_t st_words) {
  d3_t *d = &o->d;
  const hb_conv_params_t *p = d->p;
  const size_t words = o->sw, per4 = 4 * (size_t)D3_CH + (size_t)d->nj * D3_BLK;
  if (words < st_words + per4) return 0;
  const int ct_max = 4 * (int)((words - st_words) / per4), step = 96 * o->stride;
  const uint32_t dd = hb_bytes4(p->act_max - p->act_min), ll = hb_bytes4(p->act_min);
  int32_t *sets = (int32_t *)(void *)(st + st_words);
  for (int r = 1; r <= HB_RQ_MAX_R; r++) o->words[r] = hb_d3_shift_word(o->stride, r);
  for (d->c0 = 0; d->c0 < d->C; d->c0 += d->ct) {
    d->ct = d->C - d->c0 < ct_max ? d->C - d->c0 : ct_max;
    d->ring = (uint32_t *)(void *)(sets + (size_t)d->ct * D3_CH);
    hb_d3_zero_pads(d, d->ring, 1, 0, d->ct / 4); /* the ring moves with the tile's size */
    hb_d3_fill_tile(d);
    const d3_sets_t sa = {p, o->w, o->words, d->C, o->tr, 3, 1, 0, 0, 0};
    hb_d3_sets(&sa, d->c0, d->ct, sets);
    for (int b = 0; b < o->B; b++) {
      d->x = o->x + (size_t)b * d->H * d->W * d->C;
      int held[3] = {INT32_MIN, INT32_MIN, INT32_MIN}; /* the input row in each slot */
      for (int oy = 0; oy < o->OH; oy++) {
        const int t = ring_rows(o, oy, held);
        d3_job_t job = {d->ring, step * (o->OW / 4), sets + t * D3_SET + 3, (uint8_t *)st, 16 * d->nb - 1,
                        o->y + (size_t)b * o->ob + (size_t)oy * o->yr + d->c0, (int32_t)o->ys, o->OW / 4,
                        o->OW % 4, dd, ll, 4 * d->gw, d->ct / 4, step * d->nb - 8, hb_d3_part(o->stride, o->OW % 4)};
        hb_d3_rows(&job, o->stride);
      }
    }
  }
  return 1;
}

/* Map rows of 6 or 3 outputs at stride 1 go through the narrow kernel (asm builds). */
static int d3_narrow(const d3_op_t *o, int mp) {
#ifdef HB_DSP_ASM
  return mp && o->stride == 1 && (o->OW == 6 || o->OW == 3);
#else
  (void)o, (void)mp;
  return 0;
#endif
}

/* Words a map row when the narrow kernel takes the rows (its row stride). */
static int d3_narrow_row_words(void) {
#ifdef HB_DSP_ASM
  return hb_d5_row_bytes() / 4;
#else
  return D4_NJ * 8;
#endif
}

/* The map's rows of every channel of the tile (job: the general loop's, set up for them; rw: words
 * a map row). */
static void d3_map_rows(const d3_op_t *o, d4_job_t *job, int narrow, int rw) {
#ifdef HB_DSP_ASM
  if (narrow) {
    const d5_job_t j5 = {job->p, job->y, job->wp, job->wpe, job->wstep, job->ys, job->ys3,
                         (int32_t)o->yr - (o->OW == 6 ? 4 * job->ys : 0), o->OH * rw * 4, 0};
    hb_d5_rows(&j5, o->OW);
    return;
  }
#endif
  (void)narrow, (void)rw;
  hb_d4_rows(job, o->kind);
}

/* The direct kernel (activation range all of int8): map (mp) or ring; sets after the zero points. */
static int direct(d3_op_t *o, uint32_t *sp, int mp) {
  d3_t *d = &o->d;
  const int Hp = (o->OH - 1) * o->stride + 3, nrot = mp ? 1 : 3, set_words = nrot * D4_SET;
  const size_t words = o->sw - (size_t)(sp - o->scratch);
  const int narrow = d3_narrow(o, mp), rw = narrow ? d3_narrow_row_words() : D4_NJ * 8; /* words a map row */
  d->bw = mp ? 8 : D3_BLK;
  d->cw = 2;
  d->gw = mp ? Hp * rw : d->nj * D3_BLK;
  const size_t per4 = 4 * (size_t)set_words + (size_t)d->gw;
  if ((mp && 8 * d->nj > rw) || words < per4) return 0;
  const int ct_max = 4 * (int)(words / per4), bl = mp ? 32 : 96;
  o->kind = (mp ? D4_MAP_S1 : D4_RING_S1) + o->stride - 1;
  for (int r = 1; r <= HB_RQ_MAX_R; r++)
    o->words[r] = narrow ? hb_d5_shift_word(o->OW, r) : hb_d4_shift_word(o->kind, r);
  int32_t *sets = (int32_t *)sp;
  d->ring = (uint32_t *)(void *)(sets + (size_t)ct_max * set_words); /* in place for every tile: the map's zeros */
  hb_d3_zero_pads(d, d->ring, mp ? Hp : 1, (size_t)rw, (ct_max < d->C ? ct_max : d->C) / 4);
  for (d->c0 = 0; d->c0 < d->C; d->c0 += d->ct) {
    d->ct = d->C - d->c0 < ct_max ? d->C - d->c0 : ct_max;
    hb_d3_fill_tile(d);
    const d3_sets_t sa = {d->p, o->w, o->words, d->C, o->tr, nrot, 0, d->gw, d->cw, hb_d3_in(d->ring)};
    hb_d3_sets(&sa, d->c0, d->ct, sets);
    d4_job_t job = {d->ring, bl * o->stride * (o->OW / 4), sets + 3, (int32_t)o->ys, 3 * (int32_t)o->ys, 0, o->OH,
                    D4_NJ * 32 * o->stride, (int32_t)o->yr, hb_d4_part(o->kind, o->OW % 4),
                    sets + 3 + (size_t)d->ct * set_words, 4 * set_words, 0, 0, 0,
                    hb_d4_entry(o->kind, o->OW / 4, o->OW % 4)};
    for (int b = 0; b < o->B; b++) {
      d->x = o->x + (size_t)b * d->H * d->W * d->C;
      job.y = o->y + (size_t)b * o->ob + d->c0;
      if (mp) { /* every map row: the padding rows' zeros, the others' input */
        for (int r = 0; r < Hp; r++) /* the padding rows' zeros stay from the first tile on */
          hb_d3_fill(d, r - o->ph, d->ring + (size_t)r * rw, d->c0 == 0 && b == 0);
        d3_map_rows(o, &job, narrow, rw);
        continue;
      }
      int held[3] = {INT32_MIN, INT32_MIN, INT32_MIN};
      for (int oy = 0; oy < o->OH; oy++, job.y += o->yr) {
        const int t = ring_rows(o, oy, held);
        job.wp = sets + t * D4_SET + 3;
        job.wpe = job.wp + (size_t)d->ct * set_words;
        hb_d4_rows(&job, o->kind);
      }
    }
  }
  return 1;
}

int hb_dw3x3_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int stride = p->stride_w;
  if (!p->rq || f->dims[1] != 3 || f->dims[2] != 3 || stride != p->stride_h || stride < 1 || stride > 2 ||
      p->dil_w != 1 || p->dil_h != 1 || p->depth_mult != 1 || in->dims[3] % 4)
    return 0;
  if (hb_dw3x3_small_dsp(ctx, e, op)) return 1; /* small maps: channel-vectorised, no padding taps */
  const int C = in->dims[3], tr = d3_transpose(out->dims[1], out->dims[2]);
  d3_op_t o = {{p, 0, in->dims[1 + tr], in->dims[2 - tr], C, tr ? in->dims[2] * C : C, tr ? C : in->dims[2] * C,
                tr ? p->pad_h : p->pad_w, 0, 0, 0, 0, 0, 0, D3_BLK, 2, 0, 0, 0, 0, 0, {0}, 0, 0, {0}, 0},
               in->dims[0], out->dims[1 + tr], out->dims[2 - tr], tr ? p->pad_w : p->pad_h, stride, 0, tr,
               tr ? (size_t)out->dims[2] * C : (size_t)C, tr ? (size_t)C : (size_t)out->dims[2] * C,
               (size_t)out->dims[1] * out->dims[2] * C, (int8_t *)out->data, (const int8_t *)f->data,
               (const int8_t *)in->data, {0}, (uint32_t *)ctx->buf, ctx->size / 4};
  if (o.OW < 1 || o.OH < 1) return 0;
  o.d.nb = (o.OW + 3) / 4;
  o.d.nj = (stride * (o.OW - 1) + 3 + 3) / 4; /* the blocks the row loops read */
  o.d.gw = o.d.nj * D3_BLK;
  /* the collecting kernel's bytes first in the scratch */
  const size_t st_words = 4 * (size_t)o.d.nb;
  uint32_t *scratch = o.scratch;
  if (st_words >= o.sw) return 0;
  if (!hb_d3_fill_plan(&o.d)) return 0;
  if (p->act_min == -128 && p->act_max == 127 && (direct(&o, scratch + st_words, 1) || direct(&o, scratch + st_words, 0)))
    return 1;
  o.d.bw = D3_BLK;
  o.d.cw = 2;
  o.d.gw = o.d.nj * D3_BLK;
  return ring_collect(&o, scratch, st_words);
}
#endif
