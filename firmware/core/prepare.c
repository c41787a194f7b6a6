/* Shared prepare-time checks: each names the op, its node index and the tensor
 * role, so a rejected model says exactly what is wrong. */
#include "ops.h"
#include "fixedpoint.h"

const char *hb_type_name(int t) {
  static const char names[] = "float32\0float16\0int32\0uint8\0int64\0string\0bool\0int16\0complex64\0int8\0"
                              "float64\0complex128\0uint64\0resource\0variant\0uint32\0uint16\0int4\0bfloat16\0";
  const char *p = names;
  if (t < 0 || t > 18) return "unknown";
  while (t--) { while (*p) p++; p++; }
  return p;
}

static const char *op_name(const hb_engine_t *e, int idx) {
  const char *n = hb_builtin_name(e->ops[idx].code);
  return n ? n : "?";
}

int hb_unsupported(const hb_engine_t *e, int idx, const char *what, hb_error_t *err) {
  return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: %s", op_name(e, idx), idx, what);
}

int hb_bad_shape(const hb_engine_t *e, int idx, const char *what, hb_error_t *err) {
  return hb_fail(err, HB_E_CORRUPT, "corrupt model: %s at node %d: %s", op_name(e, idx), idx, what);
}

int hb_need_type(const hb_engine_t *e, int idx, const hb_tensor_t *t, int type, const char *role,
                 hb_error_t *err) {
  if (t->type == type) return HB_OK;
  return hb_fail(err, HB_E_UNSUPPORTED, "unsupported %s at node %d: %s type %s (needs %s)",
                 op_name(e, idx), idx, role, hb_type_name(t->type), hb_type_name(type));
}

int hb_need_quant(const hb_engine_t *e, int idx, const hb_tensor_t *t, const char *role, hb_error_t *err) {
  /* A usable scale is finite and > 0; zero points must be representable in int8. */
  if (!(t->scale > 0.0f && t->scale < 3.0e38f))
    return hb_fail(err, HB_E_CORRUPT, "corrupt model: %s at node %d: %s has no valid scale",
                   op_name(e, idx), idx, role);
  if (t->type == HB_INT8 && (t->zp < -128 || t->zp > 127))
    return hb_fail(err, HB_E_CORRUPT, "corrupt model: %s at node %d: %s zero point %d out of int8 range",
                   op_name(e, idx), idx, role, (int)t->zp);
  return HB_OK;
}

int hb_need_const(const hb_engine_t *e, int idx, const hb_tensor_t *t, const char *role, hb_error_t *err) {
  if (t->is_const) return HB_OK;
  return hb_unsupported(e, idx, role, err);
}

int hb_need_ndims(const hb_engine_t *e, int idx, const hb_tensor_t *t, int ndims, const char *role,
                  hb_error_t *err) {
  if (t->ndims == ndims) return HB_OK;
  return hb_fail(err, HB_E_CORRUPT, "corrupt model: %s at node %d: %s has %d dims (needs %d)",
                 op_name(e, idx), idx, role, t->ndims, ndims);
}

int hb_need_input(const hb_engine_t *e, int idx, int i, hb_error_t *err) {
  if (i < e->ops[idx].nin && e->ops[idx].in[i] >= 0) return HB_OK;
  return hb_fail(err, HB_E_CORRUPT, "corrupt model: %s at node %d: input %d missing", op_name(e, idx), idx, i);
}

uint32_t hb_elems(const hb_tensor_t *t) {
  uint32_t n = 1;
  for (int i = 0; i < t->ndims; i++) n *= (uint32_t)t->dims[i];  /* bounded at load */
  return n;
}

int hb_same_shape(const hb_tensor_t *a, const hb_tensor_t *b) {
  if (a->ndims != b->ndims) return 0;
  for (int i = 0; i < a->ndims; i++)
    if (a->dims[i] != b->dims[i]) return 0;
  return 1;
}

/* The reference quantises 0, 6 (or -1, 1) with a float divide and round. */
static int quantize_bound(float scale, int32_t zp, float v, int32_t *q) {
  float r = hb_roundf(v / scale);
  if (!(r >= -2147483648.0f && r <= 2147483520.0f)) return -1;
  *q = zp + (int32_t)r;
  return 0;
}

int hb_act_range(const hb_engine_t *e, int idx, int act, const hb_tensor_t *out, int32_t *lo, int32_t *hi,
                 hb_error_t *err) {
  int32_t q;
  *lo = out->type == HB_INT16 ? -32768 : -128;
  *hi = out->type == HB_INT16 ? 32767 : 127;
  if (act == 0) return HB_OK;
  if (act != 1 && act != 2 && act != 3) return hb_unsupported(e, idx, "fused activation", err);
  if (quantize_bound(out->scale, out->zp, act == 2 ? -1.0f : 0.0f, &q)) goto range;
  if (q > *lo) *lo = q;
  if (act == 1) return HB_OK;
  if (quantize_bound(out->scale, out->zp, act == 2 ? 1.0f : 6.0f, &q)) goto range;
  if (q < *hi) *hi = q;
  return HB_OK;
range:
  return hb_unsupported(e, idx, "activation bound overflows int32", err);
}

int hb_multiplier(const hb_engine_t *e, int idx, double real, int32_t *mult, int32_t *shift, hb_error_t *err) {
  int s;
  hb_quantize_multiplier(real, mult, &s);
  if (s > 30) return hb_unsupported(e, idx, "requantisation multiplier too large", err);
  *shift = s;
  return HB_OK;
}

int hb_conv_geometry(int padding, int in, int filter, int stride, int dil, int *out, int *pad) {
  int eff = (filter - 1) * dil + 1;
  if (padding == 0) *out = (in + stride - 1) / stride;      /* SAME */
  else if (padding == 1) *out = (in + stride - eff) / stride; /* VALID */
  else return -1;
  int total = (*out - 1) * stride + eff - in;
  *pad = total > 0 ? total / 2 : 0;
  return 0;
}

int32_t *hb_persist_i32(hb_engine_t *e, uint32_t count) {
  size_t bytes = (size_t)count * sizeof(int32_t);
  e->persist_need += bytes;
  if (e->persist_need > e->arena_len) return 0;
  e->persist_used = e->persist_need;
  return (int32_t *)(void *)(e->arena + e->arena_len - e->persist_used);
}

void hb_scratch_need(hb_engine_t *e, size_t bytes) {
  if (bytes > e->scratch_need) e->scratch_need = bytes;
}

int hb_options(const hb_engine_t *e, int idx, fb_table_t *opt) {
  if (!e->ops[idx].opt_pos) return 0;
  return fb_table_at(e->model, e->model_len, e->ops[idx].opt_pos, opt);
}

int hb_opt_corrupt(const hb_engine_t *e, int idx, hb_error_t *err) {
  return hb_fail(err, HB_E_CORRUPT, "corrupt model: %s at node %d: builtin options out of bounds",
                 op_name(e, idx), idx);
}
