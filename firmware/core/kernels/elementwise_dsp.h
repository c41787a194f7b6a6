/* elementwise_dsp.c: the DSP set's ADD and AVERAGE_POOL_2D. Each returns 0 (having written
 * nothing) for a shape or quantisation it leaves to the C kernel. */
#ifndef HB_ELEMENTWISE_DSP_H
#define HB_ELEMENTWISE_DSP_H
#include "../ops.h"

int hb_add_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op);
/* ADD's scratch: its two tables of 256 words, when it takes the op. */
size_t hb_add_dsp_scratch_size(const hb_op_t *op);
int hb_avgpool_dsp(hb_engine_t *e, const hb_op_t *op);
#endif
