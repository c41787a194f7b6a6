/* fc_pairs_dsp.c: FULLY_CONNECTED's fast DSP path. */
#ifndef HB_FC_PAIRS_DSP_H
#define HB_FC_PAIRS_DSP_H
#include "../ops.h"

/* Returns 0 (having written nothing) for a shape, alignment or quantisation it leaves to
 * fully_connected.c's loops. */
int hb_fc_pairs_dsp(const hb_ctx_t *ctx, const hb_fc_params_t *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                    int8_t *y);
/* Its scratch for p: the widened input and the accumulators (0 when it leaves the op). */
size_t hb_fc_pairs_dsp_scratch_size(const hb_fc_params_t *p);
#endif
