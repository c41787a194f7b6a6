/* Which builtin ops we run, and with which kernels. The kind index is what
 * hb_op_t.kind stores; a prepare may switch an op to a sibling kind (QUANTIZE
 * from float32 vs int8). */
#include "ops.h"
#include "kernels/s16.h"

enum { /* BuiltinOperator codes we implement */
  OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONCATENATION = 2, OP_CONV_2D = 3,
  OP_DEPTHWISE_CONV_2D = 4, OP_DEQUANTIZE = 6, OP_FULLY_CONNECTED = 9, OP_LOGISTIC = 14,
  OP_MAX_POOL_2D = 17, OP_MUL = 18, OP_RESHAPE = 22, OP_SOFTMAX = 25, OP_PAD = 34,
  OP_MEAN = 40, OP_PADV2 = 60, OP_QUANTIZE = 114
};

static const hb_kernel_t k_table[] = {
  { OP_CONV_2D, 2, 3, hb_prepare_conv, hb_eval_conv },
  { OP_DEPTHWISE_CONV_2D, 2, 3, hb_prepare_dwconv, hb_eval_dwconv },
  { OP_FULLY_CONNECTED, 2, 3, hb_prepare_fc, hb_eval_fc },
  { OP_AVERAGE_POOL_2D, 1, 1, hb_prepare_avgpool, hb_eval_avgpool },
  { OP_MAX_POOL_2D, 1, 1, hb_prepare_maxpool, hb_eval_maxpool },
  { OP_ADD, 2, 2, hb_prepare_add, hb_eval_add },
  { OP_MUL, 2, 2, hb_prepare_mul, hb_eval_mul },
  { OP_RESHAPE, 1, 2, hb_prepare_reshape, hb_eval_reshape },
  { OP_SOFTMAX, 1, 1, hb_prepare_softmax, hb_eval_softmax },
  { OP_QUANTIZE, 1, 1, hb_prepare_quantize, hb_eval_requantize },
  { OP_DEQUANTIZE, 1, 1, hb_prepare_dequantize, hb_eval_dequantize },
  { OP_LOGISTIC, 1, 1, hb_prepare_logistic, hb_eval_logistic },
  { OP_PAD, 2, 2, hb_prepare_pad, hb_eval_pad },
  { OP_PADV2, 3, 3, hb_prepare_pad, hb_eval_pad },
  { OP_MEAN, 2, 2, hb_prepare_mean, hb_eval_mean },
  { OP_CONCATENATION, 1, HB_MAX_OP_INPUTS, hb_prepare_concat, hb_eval_concat },
  /* sibling kinds selected by a prepare, never by code lookup */
  { -1, 1, 1, hb_prepare_quantize, hb_eval_quantize_f32 },
};

#define K_COUNT (sizeof k_table / sizeof k_table[0])

const hb_kernel_t *hb_kernel_for(int code, uint8_t *kind) {
  for (unsigned i = 0; i < K_COUNT; i++) {
    if (k_table[i].code == code && code >= 0) { *kind = (uint8_t)i; return &k_table[i]; }
  }
  return hb_kernel_for_s16(code, kind);  /* ops only the int16 table has */
}

const hb_kernel_t *hb_kernel_by_kind(uint8_t kind) {
  if (kind & HB_KIND_S16) return hb_kernel_by_kind_s16(kind);
  return kind < K_COUNT ? &k_table[kind] : 0;
}

uint8_t hb_kind_quantize_f32(void) { return (uint8_t)(K_COUNT - 1); }

const char *hb_engine_supported_op(int i) {
  for (unsigned k = 0; k < K_COUNT && i >= 0; k++)  /* siblings (code < 0) are not listed */
    if (k_table[k].code >= 0 && i-- == 0) return hb_builtin_name(k_table[k].code);
  return i >= 0 ? hb_supported_op_s16(i) : 0;
}
