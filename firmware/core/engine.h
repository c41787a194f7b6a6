/* Portable int8 inference engine: reads a .tflite flatbuffer from RAM, plans its
 * tensors into a caller-provided arena and runs it bit-exactly like the TFLM
 * reference kernels. No malloc anywhere: the engine struct below is concrete so a
 * caller can place it statically; per-channel parameters live in the arena.
 * All checks happen in hb_engine_load(); hb_engine_invoke() only computes. */
#ifndef HB_ENGINE_H
#define HB_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- limits (override with -D; sized for the MLPerf Tiny models) ---- */
#ifndef HB_MAX_TENSORS
#define HB_MAX_TENSORS 256
#endif
#ifndef HB_MAX_OPS
#define HB_MAX_OPS 160
#endif
#ifndef HB_MAX_IO
#define HB_MAX_IO 8            /* graph inputs, and graph outputs */
#endif
#define HB_MAX_DIMS 6
#define HB_MAX_OP_INPUTS 10    /* CONCATENATION is the widest op */
#define HB_MAX_TENSOR_BYTES (64u * 1024u * 1024u)
#define HB_ARENA_ALIGN 16u

/* ---- error codes ---- */
enum {
  HB_OK = 0,
  HB_E_CORRUPT = 1,      /* malformed flatbuffer or inconsistent graph */
  HB_E_UNSUPPORTED = 2,  /* valid model using an op / type / option we do not run */
  HB_E_ARENA = 3,        /* arena too small (text gives bytes needed vs available) */
  HB_E_TOO_BIG = 4,      /* model exceeds a compile-time limit above */
  HB_E_BAD_INPUT = 5,    /* bad argument from the caller (index, NULL, ...) */
  HB_E_NOT_LOADED = 6    /* invoke/query before a successful load */
};

typedef struct { int code; char text[120]; } hb_error_t;

/* Tensor element types: the TFLite schema's TensorType numbers. */
enum { HB_FLOAT32 = 0, HB_FLOAT16 = 1, HB_INT32 = 2, HB_UINT8 = 3, HB_INT64 = 4,
       HB_BOOL = 6, HB_INT16 = 7, HB_INT8 = 9 };

typedef struct {
  int type;
  int ndims;
  int32_t dims[HB_MAX_DIMS];
  size_t bytes;
  float scale;          /* per-tensor (first) scale; 0 when not quantised */
  int32_t zero_point;
} hb_tensor_info_t;

/* ---- internal structures (public so callers can allocate hb_engine_t) ---- */
typedef struct {
  uint8_t *data;          /* model buffer (constants) or arena (after planning) */
  uint32_t bytes;
  int32_t dims[HB_MAX_DIMS];
  uint8_t ndims, type, is_const, readable;
  float scale;
  int32_t zp;
  const uint8_t *qscales; /* little-endian float32 vector in the model, may be unaligned */
  uint32_t nscales;
  int32_t qdim;           /* quantized_dimension */
  int16_t first, last;    /* lifetime in op indices; first = -1: not in the arena */
  uint32_t offset;        /* arena offset from the planner */
} hb_tensor_t;

/* One output channel's requantisation in the DSP kernels' form (kernels/requant_fast.h):
 * 16 bytes, one LDM. */
typedef struct { int32_t bias2, mult, k, r; } hb_rq_t;

typedef struct {  /* CONV_2D, DEPTHWISE_CONV_2D */
  int16_t stride_w, stride_h, dil_w, dil_h, pad_w, pad_h, depth_mult;
  uint8_t acc32;          /* int16 kernels: an int32 accumulator (int32 bias), else int64 */
  int32_t in_offset, out_offset, act_min, act_max;
  int32_t *mult, *shift;  /* per output channel, in the arena */
  hb_rq_t *rq;            /* DSP builds: per channel, or NULL when a channel rules it out */
} hb_conv_params_t;

typedef struct {
  int32_t in_offset, filter_offset, out_offset, act_min, act_max;
  int32_t batches, out_depth, accum_depth;
  int32_t *mult, *shift;
  uint8_t acc32;          /* int16 kernels: an int32 accumulator (int32 bias), else int64 */
  hb_rq_t *rq;            /* DSP builds: one for all channels (requant_fast.h), or NULL */
} hb_fc_params_t;

typedef struct {
  int16_t stride_w, stride_h, filter_w, filter_h, pad_w, pad_h;
  int32_t act_min, act_max;
} hb_pool_params_t;

typedef struct {  /* ADD and MUL, with broadcast */
  int32_t in1_offset, in2_offset, out_offset, act_min, act_max;
  int32_t in1_mult, in2_mult, out_mult;
  int8_t in1_shift, in2_shift, out_shift, left_shift;
  uint8_t broadcast;
  int32_t out_dims[HB_MAX_DIMS];         /* output shape padded to 6-D */
  int32_t str1[HB_MAX_DIMS], str2[HB_MAX_DIMS]; /* input strides, 0 on broadcast dims */
  int32_t count;
} hb_binary_params_t;

typedef struct {
  int32_t mult, shift, diff_min, outer, depth;
} hb_softmax_params_t;

typedef struct {
  int32_t zp, radius, mult, shift, count;
} hb_logistic_params_t;

typedef struct {  /* QUANTIZE, DEQUANTIZE */
  int32_t in_zp, out_zp, mult, shift, count;
  float scale;
} hb_quant_params_t;

typedef struct {  /* PAD, CONCATENATION, RESHAPE: byte movers */
  int32_t elem, ndims, axis_outer, fill;
  int32_t in_dims[HB_MAX_DIMS], before[HB_MAX_DIMS];
} hb_move_params_t;

typedef struct {
  int32_t in_zp, out_zp, mult, shift, n, outputs;
  int32_t kept_dims[HB_MAX_DIMS], kept_str[HB_MAX_DIMS];
  int32_t red_dims[HB_MAX_DIMS], red_str[HB_MAX_DIMS];
} hb_mean_params_t;

typedef struct {
  uint8_t kind;           /* internal kernel id */
  uint8_t nin;
  int16_t code;           /* TFLite BuiltinOperator */
  int16_t in[HB_MAX_OP_INPUTS];  /* -1 = optional input absent */
  int16_t out;
  uint32_t opt_pos;       /* builtin_options table position in the model, 0 = none */
  union {
    hb_conv_params_t conv;
    hb_fc_params_t fc;
    hb_pool_params_t pool;
    hb_binary_params_t bin;
    hb_softmax_params_t softmax;
    hb_logistic_params_t logistic;
    hb_quant_params_t quant;
    hb_move_params_t move;
    hb_mean_params_t mean;
  } p;
} hb_op_t;

/* Memory a kernel borrows for one op (CMSIS-NN's context): the engine reserves, at load, the most
 * any op's kernel asks for (each kernel's *_scratch_size) at the top of the arena and hands it to
 * the kernels as their context; a kernel that tiles works in whatever size it is given. */
typedef struct {
  void *buf;   /* 16-byte aligned (NULL when no op asked for any) */
  size_t size;
} hb_ctx_t;

typedef struct hb_engine {
  const uint8_t *model;
  size_t model_len;
  uint8_t *arena;         /* aligned start */
  size_t arena_len;       /* usable bytes from the aligned start */
  size_t persist_used;    /* per-channel params, at the top of the arena */
  size_t persist_need;    /* what they would need (may exceed the arena) */
  size_t plan_bytes;      /* tensor plan size, from the bottom */
  size_t scratch_need;    /* the most an op's kernel asked for (hb_scratch_need at prepare) */
  hb_ctx_t scratch;       /* that many bytes below the per-channel params, after planning */
  int loaded, preserve_all;
  int num_tensors, num_ops, num_inputs, num_outputs;
  int16_t inputs[HB_MAX_IO], outputs[HB_MAX_IO];
  hb_tensor_t tensors[HB_MAX_TENSORS];
  hb_op_t ops[HB_MAX_OPS];
} hb_engine_t;

/* ---- API ---- */
int hb_engine_load(hb_engine_t *e, const uint8_t *model, size_t model_len, uint8_t *arena,
                   size_t arena_len, int preserve_all, hb_error_t *err);
int hb_engine_num_inputs(const hb_engine_t *e);
int hb_engine_num_outputs(const hb_engine_t *e);
int hb_engine_num_ops(const hb_engine_t *e);
int hb_engine_num_tensors(const hb_engine_t *e);
int hb_engine_input_info(const hb_engine_t *e, int idx, hb_tensor_info_t *info);
int hb_engine_output_info(const hb_engine_t *e, int idx, hb_tensor_info_t *info);
int hb_engine_tensor_info(const hb_engine_t *e, int tensor_idx, hb_tensor_info_t *info);
uint8_t *hb_engine_input(hb_engine_t *e, int idx);
uint8_t *hb_engine_output(hb_engine_t *e, int idx);
/* NULL if not readable (e.g. its memory was reused and preserve_all was off). */
const uint8_t *hb_engine_tensor(hb_engine_t *e, int tensor_idx, size_t *len);
const char *hb_engine_op_name(const hb_engine_t *e, int op_idx);
int hb_engine_op_output_tensor(const hb_engine_t *e, int op_idx);
int hb_engine_input_tensor(const hb_engine_t *e, int idx);   /* graph input -> tensor index */
int hb_engine_output_tensor(const hb_engine_t *e, int idx);  /* graph output -> tensor index */

typedef uint32_t (*hb_clock_fn)(void);
int hb_engine_invoke(hb_engine_t *e, hb_clock_fn clock, uint32_t *op_ticks, hb_error_t *err);
size_t hb_engine_arena_used(const hb_engine_t *e);
/* Bytes of arena the last load asked for (also set when it failed with HB_E_ARENA). */
size_t hb_engine_arena_needed(const hb_engine_t *e);
size_t hb_engine_sizeof(void);
const char *hb_builtin_name(int code);  /* "CONV_2D"; NULL for codes this table does not know */
/* The i-th op this engine runs (for a HELLO op list); NULL past the end. */
const char *hb_engine_supported_op(int i);

#ifdef __cplusplus
}
#endif
#endif
