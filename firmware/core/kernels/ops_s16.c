/* The int16 kernel table: an op's int8 prepare switches it here (kind | HB_KIND_S16) when its
 * activations are int16. Prepares in this table run only for ops the int8 table lacks (TANH);
 * RESHAPE, CONCATENATION, PAD and MEAN handle int8 and int16 elements in their int8 kernels. */
#include "s16.h"

#include "../fixedpoint.h"

enum { /* BuiltinOperator codes */
  OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONV_2D = 3, OP_DEPTHWISE_CONV_2D = 4, OP_DEQUANTIZE = 6,
  OP_FULLY_CONNECTED = 9, OP_LOGISTIC = 14, OP_MAX_POOL_2D = 17, OP_MUL = 18, OP_SOFTMAX = 25, OP_TANH = 28,
  OP_QUANTIZE = 114
};

static const hb_kernel_t k_s16[] = {
  { OP_CONV_2D, 2, 3, hb_prepare_conv, hb_eval_conv_s16 },
  { OP_DEPTHWISE_CONV_2D, 2, 3, hb_prepare_dwconv, hb_eval_dwconv_s16 },
  { OP_FULLY_CONNECTED, 2, 3, hb_prepare_fc, hb_eval_fc_s16 },
  { OP_AVERAGE_POOL_2D, 1, 1, hb_prepare_avgpool, hb_eval_avgpool_s16 },
  { OP_MAX_POOL_2D, 1, 1, hb_prepare_maxpool, hb_eval_maxpool_s16 },
  { OP_ADD, 2, 2, hb_prepare_add, hb_eval_add_s16 },
  { OP_MUL, 2, 2, hb_prepare_mul, hb_eval_mul_s16 },
  { OP_SOFTMAX, 1, 1, hb_prepare_softmax, hb_eval_softmax_s16 },
  { OP_LOGISTIC, 1, 1, hb_prepare_logistic, hb_eval_logistic_s16 },
  { OP_TANH, 1, 1, hb_prepare_tanh, hb_eval_tanh_s16 },
  { OP_QUANTIZE, 1, 1, hb_prepare_quantize, hb_eval_requantize_s16 },
  { OP_DEQUANTIZE, 1, 1, hb_prepare_dequantize, hb_eval_dequantize_s16 },
  { -OP_QUANTIZE, 1, 1, hb_prepare_quantize, hb_eval_quantize_f32_s16 },  /* float32 -> int16 */
};

#define S16_COUNT (sizeof k_s16 / sizeof k_s16[0])

uint8_t hb_kind_s16(int code) {
  for (unsigned i = 0; i < S16_COUNT; i++)
    if (k_s16[i].code == code) return (uint8_t)(HB_KIND_S16 | i);
  return 0;  /* every caller passes a code of the table */
}

const hb_kernel_t *hb_kernel_for_s16(int code, uint8_t *kind) {
  if (code != OP_TANH) return 0;  /* the only op without an int8 kernel */
  *kind = hb_kind_s16(code);
  return &k_s16[*kind & ~HB_KIND_S16];
}

const hb_kernel_t *hb_kernel_by_kind_s16(uint8_t kind) {
  unsigned i = kind & ~HB_KIND_S16;
  return i < S16_COUNT ? &k_s16[i] : 0;
}

const char *hb_supported_op_s16(int i) { return i == 0 ? hb_builtin_name(OP_TANH) : 0; }

int hb_need_sym16(const hb_engine_t *e, int idx, const hb_tensor_t *t, const char *role, hb_error_t *err) {
  if (t->type != HB_INT16 || t->zp == 0) return HB_OK;
  return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: int16 %s zero point %d (int16 activations "
                 "must be symmetric, zero point 0)", hb_builtin_name(e->ops[idx].code), idx, role, (int)t->zp);
}

/* |accumulator| <= 65536 taps * 128 * 32768 = 2^38 (prepare's depth limit). */
#define ACC_BOUND ((int64_t)1 << 38)
#define X_BOUND ((int64_t)1 << 47)

int hb_check_requant64(const hb_engine_t *e, int idx, const int32_t *shift, int n, int bias_ti, hb_error_t *err) {
  const hb_tensor_t *b = bias_ti >= 0 ? &e->tensors[bias_ti] : 0;
  for (int c = 0; c < n; c++) {
    if (shift && shift[c] > 14) return hb_unsupported(e, idx, "requantisation multiplier too large", err);
    if (!b || b->type != HB_INT64) continue;
    const int64_t v = (int64_t)fb_rd_u64(b->data + 8u * (uint32_t)c);
    if (v >= X_BOUND - ACC_BOUND || v <= -(X_BOUND - ACC_BOUND))
      return hb_unsupported(e, idx, "int64 bias beyond +-2^47 (TFLM's int64 requantisation domain)", err);
  }
  return HB_OK;
}

int hb_bias_check_s16(const hb_engine_t *e, int idx, int nch, int int32_ok, hb_error_t *err) {
  const hb_op_t *op = &e->ops[idx];
  const int bi = op->nin > 2 ? op->in[2] : -1;
  if (bi < 0) return HB_OK;
  const hb_tensor_t *b = &e->tensors[bi];
  if (b->type != HB_INT64 && (!int32_ok || b->type != HB_INT32))
    return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: bias type %s with int16 input (needs int64%s)",
                   hb_builtin_name(op->code), idx, hb_type_name(b->type), int32_ok ? " or int32" : "");
  if (!b->is_const) return hb_unsupported(e, idx, "non-constant bias", err);
  if (hb_elems(b) != (uint32_t)nch) return hb_bad_shape(e, idx, "bias size does not match the output channels", err);
  return HB_OK;
}

int hb_acc32_s16(const hb_engine_t *e, int idx, int opt_field) {
  const hb_op_t *op = &e->ops[idx];
  fb_table_t t;
  uint8_t type = 0;
  if (op->nin > 2 && op->in[2] >= 0) return e->tensors[op->in[2]].type == HB_INT32;
  if (opt_field < 0 || hb_options(e, idx, &t) <= 0 || fb_u8(&t, opt_field, 0, &type) < 0) return 0;
  return type == HB_INT32;  /* quantized_bias_type: the accumulator type without a bias */
}
