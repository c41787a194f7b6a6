/* dwconv3x3_dsp.c: the fast DEPTHWISE_CONV_2D 3x3 (stride 1 or 2) kernel of the DSP set. */
#ifndef HB_DWCONV3X3_DSP_H
#define HB_DWCONV3X3_DSP_H
#include "../ops.h"

/* Returns 0 (having written nothing) for a shape or quantisation it leaves to dwconv_dsp.c. */
int hb_dw3x3_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);
/* dwconv3x3_small_dsp.c: the small maps of those (the same checks made), 0 when it leaves the op. */
int hb_dw3x3_small_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);
#endif
