/* hb_engine_load / invoke and the accessors. Load = read, check order, prepare
 * every op (all checks and precomputation), plan the arena. */
#include "engine.h"

#include <string.h>

#include "errfmt.h"
#include "model.h"
#include "ops.h"

size_t hb_engine_sizeof(void) { return sizeof(hb_engine_t); }

static int prepare_ops(hb_engine_t *e, hb_error_t *err) {
  for (int i = 0; i < e->num_ops; i++) {
    const hb_kernel_t *k = hb_kernel_by_kind(e->ops[i].kind);
    if (k->prepare(e, i, err)) return err->code;
  }
  return HB_OK;
}

/* given: the caller's arena length, before alignment trimming. */
static int place(hb_engine_t *e, size_t given, hb_error_t *err) {
  hb_plan_offsets(e);
  if (e->scratch_need) { /* below the per-channel params, 16-byte aligned */
    e->persist_need = (e->persist_need + e->scratch_need + HB_ARENA_ALIGN - 1u) & ~(size_t)(HB_ARENA_ALIGN - 1u);
    e->scratch.size = e->scratch_need;
  }
  if (e->plan_bytes + e->persist_need > e->arena_len)
    return hb_fail(err, HB_E_ARENA, "arena too small: need %zu bytes, have %zu", hb_engine_arena_needed(e), given);
  e->persist_used = e->persist_need;
  if (e->scratch_need) e->scratch.buf = e->arena + e->arena_len - e->persist_used;
  for (int i = 0; i < e->num_tensors; i++) {
    hb_tensor_t *t = &e->tensors[i];
    if (t->first >= 0) t->data = e->arena + t->offset;
  }
  return HB_OK;
}

int hb_engine_load(hb_engine_t *e, const uint8_t *model, size_t model_len, uint8_t *arena, size_t arena_len,
                   int preserve_all, hb_error_t *err) {
  hb_error_t local;
  if (!err) err = &local;
  err->code = HB_OK;
  err->text[0] = '\0';
  if (!e) return hb_fail(err, HB_E_BAD_INPUT, "no engine");
  memset(e, 0, sizeof *e);
  if (!model || !arena) return hb_fail(err, HB_E_BAD_INPUT, "model or arena is NULL");
  /* Align the arena start; keep a 16-byte multiple so persistent data stays aligned. */
  size_t skew = (HB_ARENA_ALIGN - ((uintptr_t)arena % HB_ARENA_ALIGN)) % HB_ARENA_ALIGN;
  e->model = model;
  e->model_len = model_len;
  e->arena = arena + (arena_len > skew ? skew : 0);
  e->arena_len = arena_len > skew ? (arena_len - skew) & ~(size_t)(HB_ARENA_ALIGN - 1u) : 0;
  e->preserve_all = preserve_all ? 1 : 0;
  if (hb_model_read(e, err) || hb_plan_lifetimes(e, err) || prepare_ops(e, err) || place(e, arena_len, err)) {
    e->num_tensors = e->num_ops = e->num_inputs = e->num_outputs = 0;
    return err->code ? err->code : HB_E_CORRUPT;
  }
  e->loaded = 1;
  return HB_OK;
}

int hb_engine_invoke(hb_engine_t *e, hb_clock_fn clock, uint32_t *op_ticks, hb_error_t *err) {
  if (!e || !e->loaded) return hb_fail(err, HB_E_NOT_LOADED, "no model loaded");
  for (int i = 0; i < e->num_ops; i++) {
    const hb_op_t *op = &e->ops[i];
    uint32_t t0 = clock ? clock() : 0;
    hb_kernel_by_kind(op->kind)->eval(e, op);
    if (clock && op_ticks) op_ticks[i] = clock() - t0;
  }
  if (err) { err->code = HB_OK; err->text[0] = '\0'; }
  return HB_OK;
}

int hb_engine_num_inputs(const hb_engine_t *e) { return e && e->loaded ? e->num_inputs : 0; }
int hb_engine_num_outputs(const hb_engine_t *e) { return e && e->loaded ? e->num_outputs : 0; }
int hb_engine_num_ops(const hb_engine_t *e) { return e && e->loaded ? e->num_ops : 0; }
int hb_engine_num_tensors(const hb_engine_t *e) { return e && e->loaded ? e->num_tensors : 0; }
size_t hb_engine_arena_used(const hb_engine_t *e) {
  if (!e || !e->loaded) return 0;
  return e->plan_bytes + e->persist_used;
}
size_t hb_engine_arena_needed(const hb_engine_t *e) {
  return e ? e->plan_bytes + e->persist_need + HB_ARENA_ALIGN : 0;
}

int hb_engine_tensor_info(const hb_engine_t *e, int ti, hb_tensor_info_t *info) {
  if (!e || !e->loaded || ti < 0 || ti >= e->num_tensors || !info) return HB_E_BAD_INPUT;
  const hb_tensor_t *t = &e->tensors[ti];
  memset(info, 0, sizeof *info);
  info->type = t->type;
  info->ndims = t->ndims;
  for (int i = 0; i < t->ndims; i++) info->dims[i] = t->dims[i];
  info->bytes = t->bytes;
  info->scale = t->scale;
  info->zero_point = t->zp;
  return HB_OK;
}

int hb_engine_input_tensor(const hb_engine_t *e, int idx) {
  return e && e->loaded && idx >= 0 && idx < e->num_inputs ? e->inputs[idx] : -1;
}
int hb_engine_output_tensor(const hb_engine_t *e, int idx) {
  return e && e->loaded && idx >= 0 && idx < e->num_outputs ? e->outputs[idx] : -1;
}
int hb_engine_input_info(const hb_engine_t *e, int idx, hb_tensor_info_t *info) {
  return hb_engine_tensor_info(e, hb_engine_input_tensor(e, idx), info);
}
int hb_engine_output_info(const hb_engine_t *e, int idx, hb_tensor_info_t *info) {
  return hb_engine_tensor_info(e, hb_engine_output_tensor(e, idx), info);
}

uint8_t *hb_engine_input(hb_engine_t *e, int idx) {
  int ti = hb_engine_input_tensor(e, idx);
  return ti < 0 ? 0 : e->tensors[ti].data;
}
uint8_t *hb_engine_output(hb_engine_t *e, int idx) {
  int ti = hb_engine_output_tensor(e, idx);
  return ti < 0 ? 0 : e->tensors[ti].data;
}

const uint8_t *hb_engine_tensor(hb_engine_t *e, int ti, size_t *len) {
  if (len) *len = 0;
  if (!e || !e->loaded || ti < 0 || ti >= e->num_tensors) return 0;
  const hb_tensor_t *t = &e->tensors[ti];
  if (!t->data || !t->readable) return 0;
  if (len) *len = t->bytes;
  return t->data;
}

const char *hb_engine_op_name(const hb_engine_t *e, int op_idx) {
  if (!e || !e->loaded || op_idx < 0 || op_idx >= e->num_ops) return 0;
  const char *n = hb_builtin_name(e->ops[op_idx].code);
  return n ? n : "?";
}

int hb_engine_op_output_tensor(const hb_engine_t *e, int op_idx) {
  if (!e || !e->loaded || op_idx < 0 || op_idx >= e->num_ops) return -1;
  return e->ops[op_idx].out;
}
