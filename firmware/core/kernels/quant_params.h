#ifndef HB_QUANT_PARAMS_H
#define HB_QUANT_PARAMS_H
#include "../ops.h"

/* Fills per-channel multiplier/shift arrays (nch entries each; per-tensor filters
 * are broadcast). qdim: the filter's expected quantized_dimension. */
int hb_channel_params(hb_engine_t *e, int idx, const hb_tensor_t *in, const hb_tensor_t *filter,
                      const hb_tensor_t *out, int nch, int qdim, int32_t **mult,
                      int32_t **shift, hb_error_t *err);
/* Optional int32 constant bias with one value per output channel. */
int hb_bias_check(const hb_engine_t *e, int idx, int bias_ti, int nch, hb_error_t *err);

#endif
