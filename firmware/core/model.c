/* Reads the TFLite flatbuffer (schema field ids in the comments) into the engine.
 * Only subgraph 0 is read; weights stay in the model buffer. */
#include "model.h"

#include "errfmt.h"
#include "fb.h"
#include "ops.h"

#define CORRUPT(...) hb_fail(err, HB_E_CORRUPT, "corrupt model: " __VA_ARGS__)

static int elem_size(int type) {
  switch (type) {
    case HB_FLOAT32: case HB_INT32: return 4;
    case HB_INT8: case HB_UINT8: case HB_BOOL: return 1;
    case HB_INT16: return 2;
    case HB_INT64: return 8;
    default: return 0;
  }
}

/* Buffer table: data:[ubyte] (0), offset:ulong (1), size:ulong (2). */
static int read_buffer(const hb_engine_t *e, const fb_table_t *b, int ti, const uint8_t **data, uint64_t *n,
                       hb_error_t *err) {
  fb_vec_t v;
  uint64_t off, size;
  if (fb_vector(b, 0, 1, &v) < 0) return CORRUPT("tensor %d buffer data out of bounds", ti);
  *data = v.n ? e->model + v.pos : 0;
  *n = v.n;
  if (fb_u64(b, 1, 0, &off) < 0 || fb_u64(b, 2, 0, &size) < 0)
    return CORRUPT("tensor %d buffer offset field out of bounds", ti);
  if (!v.n && off > 1) {  /* large-model layout: data outside the flatbuffer */
    if (off > e->model_len || size > e->model_len - off)
      return CORRUPT("tensor %d buffer offset %u out of range", ti, (unsigned)off);
    *data = e->model + off;
    *n = size;
  }
  return HB_OK;
}

/* QuantizationParameters: scale:[float] (2), zero_point:[long] (3), quantized_dimension (6). */
static int read_quant(hb_tensor_t *t, const fb_table_t *tt, int ti, hb_error_t *err) {
  fb_table_t q;
  fb_vec_t sc, zp;
  int r = fb_table(tt, 4, &q);
  if (r < 0) return CORRUPT("tensor %d quantization out of bounds", ti);
  if (r == 0) return HB_OK;
  if (fb_vector(&q, 2, 4, &sc) < 0 || fb_vector(&q, 3, 8, &zp) < 0 || fb_i32(&q, 6, 0, &t->qdim) < 0)
    return CORRUPT("tensor %d quantization fields out of bounds", ti);
  if (sc.n) {
    t->scale = fb_vec_f32(&sc, 0);
    t->qscales = sc.buf + sc.pos;
    t->nscales = sc.n;
  }
  if (zp.n) {
    int64_t z = fb_vec_i64(&zp, 0);
    if (z < -32768 || z > 65535) return CORRUPT("tensor %d zero point out of range", ti);
    t->zp = (int32_t)z;
  }
  return HB_OK;
}

/* What makes a tensor one we cannot run (checked again for the op that uses it, to name it). */
enum { T_OK, T_SPARSE, T_VARIABLE, T_TYPE, T_RANK, T_DIM };
static const char *const k_why[] = {"no kernel in this engine", "sparse tensors", "variable tensors",
                                    "tensor types we do not run", "tensors of more than 6 dims", "dynamic shapes"};

/* Tensor: shape:[int] (0), type (1), buffer:uint (2), quantization (4), is_variable (5), sparsity (6).
 * Returns T_* (*val: the type, rank or dim at fault) or -1 when a field is out of bounds. */
static int tensor_problem(const fb_table_t *tt, int *val) {
  fb_vec_t shape;
  fb_table_t sp;
  uint8_t type, is_var;
  if (fb_vector(tt, 0, 4, &shape) < 0 || fb_u8(tt, 1, 0, &type) < 0 || fb_u8(tt, 5, 0, &is_var) < 0) return -1;
  int sparse = fb_table(tt, 6, &sp);
  if (sparse < 0) return -1;
  if (sparse) return T_SPARSE;
  if (is_var) return T_VARIABLE;
  if (!elem_size(type)) return *val = type, T_TYPE;
  if (shape.n > HB_MAX_DIMS) return *val = (int)shape.n, T_RANK;
  for (uint32_t d = 0; d < shape.n; d++)
    if (fb_vec_i32(&shape, d) <= 0) return *val = fb_vec_i32(&shape, d), T_DIM;
  return T_OK;
}

/* Reads a tensor we can run; leaves one we cannot unread (first = -1): an op or graph
 * input/output that uses it is refused later, naming the op (check_tensors). */
static int read_tensor(hb_engine_t *e, int ti, const fb_table_t *tt, const fb_vec_t *buffers, hb_error_t *err) {
  hb_tensor_t *t = &e->tensors[ti];
  fb_vec_t shape;
  fb_table_t bt;
  uint8_t type;
  uint32_t bi;
  int val = 0, pb = tensor_problem(tt, &val);
  t->first = t->last = -1;
  if (pb < 0 || fb_u8(tt, 1, 0, &type) < 0 || fb_u32(tt, 2, 0, &bi) < 0 || fb_vector(tt, 0, 4, &shape) < 0)
    return CORRUPT("tensor %d fields out of bounds", ti);
  if (pb != T_OK) return HB_OK;
  const int es = elem_size(type);
  uint64_t bytes = (uint64_t)es;
  t->ndims = (uint8_t)shape.n;
  t->type = type;
  for (uint32_t d = 0; d < shape.n; d++) {
    int32_t v = fb_vec_i32(&shape, d);
    t->dims[d] = v;
    bytes *= (uint64_t)v;
    if (bytes > HB_MAX_TENSOR_BYTES)
      return hb_fail(err, HB_E_TOO_BIG, "model too big: tensor %d exceeds %u bytes", ti, HB_MAX_TENSOR_BYTES);
  }
  t->bytes = (uint32_t)bytes;
  if (bi >= buffers->n) return CORRUPT("tensor %d buffer index %u out of range (%u buffers)", ti, bi, buffers->n);
  if (fb_vec_table(buffers, bi, &bt) < 0) return CORRUPT("buffer %u out of bounds", bi);
  const uint8_t *data = 0;
  uint64_t n = 0;
  if (read_buffer(e, &bt, ti, &data, &n, err)) return err->code;
  if (data) {
    if (n != t->bytes) return CORRUPT("tensor %d buffer %u holds %u bytes, shape needs %u", ti, bi, (unsigned)n, t->bytes);
    if (es > 1 && ((uintptr_t)data % (uintptr_t)es))
      return CORRUPT("tensor %d data misaligned (model buffer must be 16-byte aligned)", ti);
    t->data = (uint8_t *)(uintptr_t)data;  /* never written: op outputs are checked non-constant */
    t->is_const = 1;
  }
  return read_quant(t, tt, ti, err);
}

/* OperatorCode: deprecated_builtin_code:byte (0), builtin_code:int (3); the real code is the larger. */
static int read_opcode(const fb_vec_t *codes, uint32_t oi, int idx, int *code, hb_error_t *err) {
  fb_table_t oc;
  uint8_t dep;
  int32_t bc;
  if (oi >= codes->n) return CORRUPT("node %d opcode index %u out of range (%u codes)", idx, oi, codes->n);
  if (fb_vec_table(codes, oi, &oc) < 0 || fb_u8(&oc, 0, 0, &dep) < 0 || fb_i32(&oc, 3, 0, &bc) < 0)
    return CORRUPT("operator code %u out of bounds", oi);
  *code = (int8_t)dep > bc ? (int8_t)dep : bc;
  return HB_OK;
}

static int read_tensor_list(const hb_engine_t *e, const fb_vec_t *v, int16_t *out, int max, int idx,
                            const char *what, hb_error_t *err) {
  if (v->n > (uint32_t)max)
    return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: %u %s (max %d)", hb_builtin_name(e->ops[idx].code),
                   idx, v->n, what, max);
  for (uint32_t i = 0; i < v->n; i++) {
    int32_t ti = fb_vec_i32(v, i);
    if (ti < -1 || ti >= e->num_tensors)
      return CORRUPT("node %d %s %u tensor index %d out of range (%d tensors)", idx, what, i, ti, e->num_tensors);
    out[i] = (int16_t)ti;
  }
  return HB_OK;
}

/* The first tensor of an op's inputs/outputs `v` we cannot run (T_*; *ti, *val say which and
 * why), T_OK, or -1 with err set for an index out of range. */
static int first_problem(const hb_engine_t *e, const fb_vec_t *tensors, const fb_vec_t *v, int idx, int *ti,
                         int *val, hb_error_t *err) {
  fb_table_t tt;
  for (uint32_t i = 0; i < v->n; i++) {
    int32_t t = fb_vec_i32(v, i);
    if (t < -1 || t >= e->num_tensors)
      return CORRUPT("node %d tensor %u index %d out of range (%d tensors)", idx, i, t, e->num_tensors), -1;
    int pb = t < 0 || fb_vec_table(tensors, (uint32_t)t, &tt) < 0 ? T_OK : tensor_problem(&tt, val);
    if (pb > T_OK) return *ti = (int)t, pb;
  }
  return T_OK;
}

/* "unsupported op LSTM at node 3: not supported (variable tensors)" for an op we have no kernel
 * for; "unsupported ADD at node 0: tensor 2 is a variable" for one we run, but not on that tensor. */
static int op_refused(int code, int idx, int have_kernel, int pb, int ti, int val, hb_error_t *err) {
  const char *const *why = k_why;
  const char *n = hb_builtin_name(code);  /* known whenever we have a kernel */
  if (!n) return hb_fail(err, HB_E_UNSUPPORTED, "unsupported op BUILTIN_%d at node %d: not supported (%s)", code, idx, why[pb]);
  if (!have_kernel) return hb_fail(err, HB_E_UNSUPPORTED, "unsupported op %s at node %d: not supported (%s)", n, idx, why[pb]);
  if (pb == T_SPARSE || pb == T_VARIABLE)
    return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: tensor %d is %s", n, idx, ti,
                   pb == T_SPARSE ? "sparse" : "a variable");
  if (pb == T_TYPE)
    return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: tensor %d has type %s", n, idx, ti, hb_type_name(val));
  if (pb == T_RANK)
    return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: tensor %d has %d dims (max %d)", n, idx, ti, val,
                   HB_MAX_DIMS);
  return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: tensor %d has a dim of %d (dynamic shape)", n, idx,
                 ti, val);
}

/* Operator: opcode_index (0), inputs (1), outputs (2), builtin_options (4). */
static int read_op(hb_engine_t *e, int idx, const fb_table_t *ot, const fb_vec_t *codes, const fb_vec_t *tensors,
                   hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  uint32_t oi;
  int code = 0, ti = -1, val = 0, pb;
  fb_vec_t ins, outs;
  fb_table_t opt;
  int16_t out[2];
  if (fb_u32(ot, 0, 0, &oi) < 0) return CORRUPT("node %d opcode index out of bounds", idx);
  if (read_opcode(codes, oi, idx, &code, err)) return err->code;
  op->code = (int16_t)(code > 32767 ? 32767 : code);
  const hb_kernel_t *k = hb_kernel_for(code, &op->kind);
  if (fb_vector(ot, 1, 4, &ins) < 0 || fb_vector(ot, 2, 4, &outs) < 0)
    return CORRUPT("node %d inputs/outputs out of bounds", idx);
  if ((pb = first_problem(e, tensors, &ins, idx, &ti, &val, err)) == T_OK)
    pb = first_problem(e, tensors, &outs, idx, &ti, &val, err);
  if (pb < 0) return err->code;
  if (!k || pb) return op_refused(code, idx, k != 0, pb, ti, val, err);
  if (read_tensor_list(e, &ins, op->in, HB_MAX_OP_INPUTS, idx, "inputs", err)) return err->code;
  if (outs.n != 1) return CORRUPT("node %d has %u outputs (needs 1)", idx, outs.n);
  if (read_tensor_list(e, &outs, out, 1, idx, "outputs", err)) return err->code;
  if (out[0] < 0) return CORRUPT("node %d output missing", idx);
  op->out = out[0];
  op->nin = (uint8_t)ins.n;
  if (ins.n < k->min_in || ins.n > k->max_in)
    return CORRUPT("%s at node %d has %u inputs", hb_builtin_name(code), idx, ins.n);
  for (int i = 0; i < k->min_in; i++)  /* only inputs past min_in may be absent (-1) */
    if (op->in[i] < 0) return CORRUPT("%s at node %d: input %d missing", hb_builtin_name(code), idx, i);
  int r = fb_table(ot, 4, &opt);
  if (r < 0) return CORRUPT("node %d builtin options out of bounds", idx);
  op->opt_pos = r ? opt.pos : 0;
  return HB_OK;
}

static int read_io(hb_engine_t *e, const fb_table_t *sg, hb_error_t *err) {
  fb_vec_t vi, vo;
  if (fb_vector(sg, 1, 4, &vi) < 0 || fb_vector(sg, 2, 4, &vo) < 0) return CORRUPT("subgraph inputs/outputs out of bounds");
  if (vi.n > HB_MAX_IO || vo.n > HB_MAX_IO)
    return hb_fail(err, HB_E_TOO_BIG, "model too big: %u inputs, %u outputs (max %d each)", vi.n, vo.n, HB_MAX_IO);
  if (!vo.n) return CORRUPT("subgraph has no outputs");
  e->num_inputs = (int)vi.n;
  e->num_outputs = (int)vo.n;
  for (uint32_t i = 0; i < vi.n + vo.n; i++) {
    int32_t ti = i < vi.n ? fb_vec_i32(&vi, i) : fb_vec_i32(&vo, i - vi.n);
    if (ti < 0 || ti >= e->num_tensors)
      return CORRUPT("graph %s %u tensor index %d out of range (%d tensors)", i < vi.n ? "input" : "output",
                     i < vi.n ? i : i - vi.n, ti, e->num_tensors);
    if (i < vi.n) e->inputs[i] = (int16_t)ti;
    else e->outputs[i - vi.n] = (int16_t)ti;
  }
  return HB_OK;
}

/* A graph input or output that no op uses can still be a tensor we cannot run. */
static int check_io(const hb_engine_t *e, const fb_vec_t *tensors, hb_error_t *err) {
  fb_table_t tt;
  for (int i = 0; i < e->num_inputs + e->num_outputs; i++) {
    const int in = i < e->num_inputs, ti = in ? e->inputs[i] : e->outputs[i - e->num_inputs];
    int val = 0, pb = fb_vec_table(tensors, (uint32_t)ti, &tt) < 0 ? -1 : tensor_problem(&tt, &val);
    if (pb < 0) return CORRUPT("tensor %d table out of bounds", ti);
    if (pb)
      return hb_fail(err, HB_E_UNSUPPORTED, "unsupported model: graph %s %d (tensor %d) is not supported (%s)",
                     in ? "input" : "output", in ? i : i - e->num_inputs, ti, k_why[pb]);
  }
  return HB_OK;
}

/* Model: operator_codes (1), subgraphs (2), buffers (4). SubGraph: tensors (0), inputs (1),
 * outputs (2), operators (3). */
int hb_model_read(hb_engine_t *e, hb_error_t *err) {
  fb_table_t m, sg, t;
  fb_vec_t codes, subgraphs, buffers, tensors, ops;
  if (fb_root(e->model, e->model_len, &m) < 0) return CORRUPT("root table out of bounds (%zu bytes)", e->model_len);
  if (fb_vector(&m, 1, 4, &codes) < 0) return CORRUPT("operator_codes out of bounds");
  if (fb_vector(&m, 2, 4, &subgraphs) < 0 || subgraphs.n < 1) return CORRUPT("no subgraph");
  if (fb_vector(&m, 4, 4, &buffers) < 0) return CORRUPT("buffers out of bounds");
  if (fb_vec_table(&subgraphs, 0, &sg) < 0) return CORRUPT("subgraph 0 out of bounds");
  if (fb_vector(&sg, 0, 4, &tensors) < 0) return CORRUPT("subgraph 0 tensors out of bounds");
  if (fb_vector(&sg, 3, 4, &ops) < 0) return CORRUPT("subgraph 0 operators out of bounds");
  if (tensors.n > HB_MAX_TENSORS)
    return hb_fail(err, HB_E_TOO_BIG, "model too big: %u tensors (HB_MAX_TENSORS %d)", tensors.n, HB_MAX_TENSORS);
  if (ops.n > HB_MAX_OPS) return hb_fail(err, HB_E_TOO_BIG, "model too big: %u ops (HB_MAX_OPS %d)", ops.n, HB_MAX_OPS);
  e->num_tensors = (int)tensors.n;
  e->num_ops = (int)ops.n;
  for (uint32_t i = 0; i < tensors.n; i++) {
    if (fb_vec_table(&tensors, i, &t) < 0) return CORRUPT("tensor %u table out of bounds", i);
    if (read_tensor(e, (int)i, &t, &buffers, err)) return err->code;
  }
  if (read_io(e, &sg, err)) return err->code;
  for (uint32_t i = 0; i < ops.n; i++) {
    if (fb_vec_table(&ops, i, &t) < 0) return CORRUPT("operator %u table out of bounds", i);
    if (read_op(e, (int)i, &t, &codes, &tensors, err)) return err->code;
  }
  return check_io(e, &tensors, err);
}
