/* The op table and the helpers kernels share at prepare time. Each kernel file
 * provides a prepare (all checks, all precomputation) and an eval (no checks). */
#ifndef HB_OPS_H
#define HB_OPS_H
#include "engine.h"
#include "errfmt.h"
#include "fb.h"

typedef int (*hb_prepare_fn)(hb_engine_t *e, int op_idx, hb_error_t *err);
typedef void (*hb_eval_fn)(hb_engine_t *e, const hb_op_t *op);

typedef struct {
  int16_t code;          /* BuiltinOperator */
  uint8_t min_in, max_in;
  hb_prepare_fn prepare;
  hb_eval_fn eval;
} hb_kernel_t;

/* Kernel for a builtin code, or NULL when unsupported. Sets *kind. */
const hb_kernel_t *hb_kernel_for(int code, uint8_t *kind);
const hb_kernel_t *hb_kernel_by_kind(uint8_t kind);

/* ---- prepare helpers (prepare.c) ---- */
/* The activation type an op runs in: int16 (16x8 models, kernels/s16.h) or int8. */
static inline int hb_act_type(const hb_tensor_t *t) { return t->type == HB_INT16 ? HB_INT16 : HB_INT8; }
#define HB_T(e, op, i) (&(e)->tensors[(op)->in[i]])
#define HB_OUT(e, op) (&(e)->tensors[(op)->out])

/* Fails unless tensor `t` of op `idx` has type `type` (names the op and role). */
int hb_need_type(const hb_engine_t *e, int idx, const hb_tensor_t *t, int type, const char *role, hb_error_t *err);
int hb_need_quant(const hb_engine_t *e, int idx, const hb_tensor_t *t, const char *role, hb_error_t *err);
int hb_need_const(const hb_engine_t *e, int idx, const hb_tensor_t *t, const char *role, hb_error_t *err);
int hb_need_ndims(const hb_engine_t *e, int idx, const hb_tensor_t *t, int ndims, const char *role, hb_error_t *err);
int hb_need_input(const hb_engine_t *e, int idx, int i, hb_error_t *err);  /* input i present */
int hb_unsupported(const hb_engine_t *e, int idx, const char *what, hb_error_t *err);
const char *hb_type_name(int type);  /* TensorType name, "int8"; "unknown" past the schema's */
int hb_bad_shape(const hb_engine_t *e, int idx, const char *what, hb_error_t *err);
uint32_t hb_elems(const hb_tensor_t *t);
int hb_same_shape(const hb_tensor_t *a, const hb_tensor_t *b);
/* Fused activation -> clamp range in the output's quantised domain. */
int hb_act_range(const hb_engine_t *e, int idx, int act, const hb_tensor_t *out, int32_t *lo, int32_t *hi, hb_error_t *err);
/* Multiplier with a shift the kernels can apply (range-checked). */
int hb_multiplier(const hb_engine_t *e, int idx, double real, int32_t *mult, int32_t *shift, hb_error_t *err);
/* Output size and padding like the reference ComputePaddingHeightWidth. */
int hb_conv_geometry(int padding, int in, int filter, int stride, int dil, int *out, int *pad);
/* Persistent per-channel storage at the top of the arena (NULL: does not fit; the
 * load then fails with HB_E_ARENA and the total needed). */
int32_t *hb_persist_i32(hb_engine_t *e, uint32_t count);
/* At prepare: op needs `bytes` of kernel scratch (the engine reserves the largest at load). */
void hb_scratch_need(hb_engine_t *e, size_t bytes);
/* Builtin options table of op `idx`; 0 = absent (defaults), -1 = corrupt. */
int hb_options(const hb_engine_t *e, int idx, fb_table_t *opt);
int hb_opt_corrupt(const hb_engine_t *e, int idx, hb_error_t *err);

/* ---- kernels ---- */
int hb_prepare_conv(hb_engine_t *e, int idx, hb_error_t *err);
int hb_prepare_dwconv(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_conv(hb_engine_t *e, const hb_op_t *op);
void hb_eval_dwconv(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_fc(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_fc(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_avgpool(hb_engine_t *e, int idx, hb_error_t *err);
int hb_prepare_maxpool(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_avgpool(hb_engine_t *e, const hb_op_t *op);
void hb_eval_maxpool(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_add(hb_engine_t *e, int idx, hb_error_t *err);
int hb_prepare_mul(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_add(hb_engine_t *e, const hb_op_t *op);
void hb_eval_mul(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_softmax(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_softmax(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_logistic(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_logistic(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_quantize(hb_engine_t *e, int idx, hb_error_t *err);
int hb_prepare_dequantize(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_quantize_f32(hb_engine_t *e, const hb_op_t *op);
void hb_eval_requantize(hb_engine_t *e, const hb_op_t *op);
void hb_eval_dequantize(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_reshape(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_reshape(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_pad(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_pad(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_concat(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_concat(hb_engine_t *e, const hb_op_t *op);
int hb_prepare_mean(hb_engine_t *e, int idx, hb_error_t *err);
void hb_eval_mean(hb_engine_t *e, const hb_op_t *op);

#endif
