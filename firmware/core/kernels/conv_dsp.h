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
int hb_conv_widened(hb_engine_t *e, const hb_op_t *op);
#endif
