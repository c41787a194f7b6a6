/* What conv_dsp.c (the CONV_2D dispatcher and its 4-pixel path) shares with conv_wide_dsp.c
 * (the widened path): the op's geometry and the widened path's entry. */
#ifndef HB_CONV_DSP_H
#define HB_CONV_DSP_H
#include <stddef.h>
#include "../ops.h"

typedef struct {
  const int8_t *x;
  int H, W, C, KH, KW, FC, K; /* K: taps in a patch */
  int k0, kc, G;              /* 4-pixel path: the taps in the scratch, [k0, k0 + kc), G groups of 4 */
  int OH, OW;
  size_t npix;
  int32_t in_off;
  const hb_conv_params_t *p;
} conv_geo_t;

/* The op's geometry, with all of a patch's taps in the scratch. */
static inline conv_geo_t hb_conv_geo(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  conv_geo_t g = {(const int8_t *)in->data, in->dims[1], in->dims[2], in->dims[3], f->dims[1], f->dims[2],
                  f->dims[3], 0, 0, 0, 0, out->dims[1], out->dims[2], 0, p->in_offset, p};
  g.K = g.kc = g.KH * g.KW * g.FC;
  g.G = g.K / 4;
  g.npix = (size_t)in->dims[0] * g.OH * g.OW;
  return g;
}

/* A pixel of the output (batch, row, column), walked in order. */
typedef struct { int b, oy, ox; } pix_t;

/* conv_patch_dsp.h: a patch of channels not a multiple of 4 takes at most HB_ANY_MAX_K taps (a
 * stack buffer). */
#define HB_ANY_MAX_K 256

/* The widened path, if the shape suits it and it pays: 1 when done, 0 (having written
 * nothing) when the 4-pixel path is to run. It takes the whole op (and reads the geometry
 * again): passing the caller's geometry cost its loops more registers. */
int hb_conv_widened(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);

/* The widened path's blocks (conv_rows_dsp.c), widened by conv_wide_dsp.c: a tile of nb blocks of
 * QB output channels from oc0; each block {init c, init c+1, init c, init c+1}, then per group of 4
 * taps the pairs {c lo, c hi},{c+1 lo, c+1 hi} (lo, hi: the patch's pairing of the 4 taps). A
 * patch of a pixel pair A, B: per group {A lo, A hi},{B lo, B hi}, END_MARK after the last. */
#define QB 2
/* Lanes of -32768: no x - in_zp in [-255, 255], and a Thumb-2 immediate (CMP). */
#define END_MARK 0x80008000u

/* One pixel pair against a tile (conv_rows_dsp.c's asm takes it as its stack frame, in this
 * order): the channels' hb_rq_t, the outputs of A (B's at y + oc; oc = 0: A alone, B's sums are
 * computed from whatever its half of the patch holds and dropped), the blocks, the patch. */
typedef struct {
  const hb_rq_t *rq;  /* p->rq + oc0, or NULL (hb_conv_out requantises) */
  int8_t *y;
  int32_t nb;         /* blocks */
  int32_t oc;
  uint32_t lo4, hi4;  /* act_min, act_max in each byte */
  const uint64_t *x, *w;
} cw_job_t;

typedef struct cw_tile {
  cw_job_t job;
  void (*run)(const struct cw_tile *t); /* the pair routine for this tile (hb_cw_run picks it) */
  const hb_conv_params_t *p;
  int oc0, u;         /* first channel; the MAC loop's unrolling (1, 2 or 4 groups) */
} cw_tile_t;

/* Picks t->run for t's unrolling, activation range and requantisation. */
void hb_cw_run(cw_tile_t *t);
/* The pixel pair whose patches are at t->job.x: A's outputs to y, B's to y + oc (oc 0: A alone). */
static inline void hb_cw_pair(cw_tile_t *t, int8_t *y, size_t oc) {
  t->job.y = y;
  t->job.oc = (int32_t)oc;
  t->run(t);
}

/* conv_win_dsp.c: patches of one filter group with dil_w 1 (1x1: widened from the input; other
 * windows: copied from input rows widened once into a ring). Scratch u64 its ring needs, -1 when
 * the shape is not for it; patch words of one pixel; whether x - in_zp is doubled (dbl) there. */
long hb_cw_ring_u64(const conv_geo_t *g);
int hb_cw_patch_words(const conv_geo_t *g);
/* Every output pixel against the tile (ring: hb_cw_ring_u64 u64; first: the op's first tile, which
 * sets the ring up, later tiles reuse the rows it holds; job.x: the patch, its padding groups 0 and
 * END_MARK set). dbl: x - in_zp doubled (the weights are not). */
void hb_cw_window(const conv_geo_t *g, cw_tile_t *t, int8_t *y, int OC, uint64_t *ring, int first, int dbl);
#endif
