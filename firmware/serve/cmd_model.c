/* Model commands: chunked upload into the board's model buffer, then the engine. Every
 * length and offset from the host is checked against the buffer it addresses. */
#include <string.h>

#include "commands.h"
#include "errfmt.h"
#include "sha256.h"

#define NEED(cond, ...) do { if (!(cond)) return hb_fail(&c->err, E_BAD_REQUEST, __VA_ARGS__); } while (0)

static uint32_t op_ticks[HB_MAX_OPS];

int hb_cmd_load_begin(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  (void)out;
  *out_n = 0;
  NEED(n == 36, "LOAD_BEGIN body is %zu bytes, not 36", n);
  c->ready = c->began = 0;  /* the buffer is about to change under the engine */
  uint32_t size = hb_get_u32(b);
  if (size > c->board->model_cap)
    return hb_fail(&c->err, E_TOO_LARGE, "model is %u bytes; this target holds at most %zu", size, c->board->model_cap);
  c->size = size;
  c->covered = 0;
  memcpy(c->sha, b + 4, 32);
  c->began = 1;
  return 0;
}

int hb_cmd_load_chunk(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  *out_n = 0;
  if (!c->began) return hb_fail(&c->err, E_BAD_STATE, "LOAD_CHUNK without LOAD_BEGIN");
  NEED(n >= 4, "LOAD_CHUNK body is %zu bytes, shorter than its offset", n);
  uint32_t off = hb_get_u32(b), len = (uint32_t)(n - 4);
  NEED(off <= c->size && len <= c->size - off, "LOAD_CHUNK %u+%u is outside the %u-byte model", off, len, c->size);
  c->ready = 0; /* the bytes under the engine change: LOAD_END must hash and plan them again */
  memcpy(c->board->model_buf + off, b + 4, len);
  if (off <= c->covered && off + len > c->covered) c->covered = off + len;
  hb_put_u32(hb_put_u32(out, off), len);
  *out_n = 8;
  return 0;
}

static uint8_t *put_info(uint8_t *p, const hb_tensor_info_t *t) {
  *p++ = (uint8_t)t->type;
  *p++ = (uint8_t)t->ndims;
  for (int i = 0; i < t->ndims; i++) p = hb_put_u32(p, (uint32_t)t->dims[i]);
  p = hb_put_u32(p, (uint32_t)t->bytes);
  uint32_t s;
  memcpy(&s, &t->scale, 4);
  p = hb_put_u32(p, s);
  return hb_put_u32(p, (uint32_t)t->zero_point);
}

int hb_cmd_load_end(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  *out_n = 0;
  NEED(n == 5, "LOAD_END body is %zu bytes, not 5", n);
  if (!c->began) return hb_fail(&c->err, E_BAD_STATE, "LOAD_END without LOAD_BEGIN");
  if (c->covered < c->size)
    return hb_fail(&c->err, E_INCOMPLETE, "model bytes missing from offset %u of %u", c->covered, c->size);
  uint8_t sha[32];
  hb_sha256(c->board->model_buf, c->size, sha);
  if (memcmp(sha, c->sha, 32) != 0)
    return hb_fail(&c->err, E_SHA_MISMATCH, "the %u uploaded bytes do not hash to the announced sha256", c->size);
  size_t limit = hb_get_u32(b + 1), arena = c->board->arena_cap;
  if (limit && limit < arena) arena = limit;
  c->ready = 0;
  hb_engine_t *e = &c->engine;
  int rc = hb_engine_load(e, c->board->model_buf, c->size, c->board->arena, arena, b[0] & 1u, &c->err);
  if (rc) return rc;
  c->ready = 1;
  uint8_t *p = out;
  *p++ = (uint8_t)hb_engine_num_inputs(e);
  *p++ = (uint8_t)hb_engine_num_outputs(e);
  p = hb_put_u16(p, (uint32_t)hb_engine_num_ops(e));
  p = hb_put_u16(p, (uint32_t)hb_engine_num_tensors(e));
  p = hb_put_u32(p, (uint32_t)hb_engine_arena_used(e));
  p = hb_put_u32(p, (uint32_t)arena);
  hb_tensor_info_t t;  /* at most 2 * HB_MAX_IO infos of <= 38 bytes: well inside the body */
  for (int i = 0; i < hb_engine_num_inputs(e); i++) { hb_engine_input_info(e, i, &t); p = put_info(p, &t); }
  for (int i = 0; i < hb_engine_num_outputs(e); i++) { hb_engine_output_info(e, i, &t); p = put_info(p, &t); }
  *out_n = (size_t)(p - out);
  return 0;
}

static int not_ready(hb_cmd_t *c) { return hb_fail(&c->err, HB_E_NOT_LOADED, "no model loaded"); }

int hb_cmd_set_input(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  (void)out;
  *out_n = 0;
  if (!c->ready) return not_ready(c);
  NEED(n >= 5, "SET_INPUT body is %zu bytes, shorter than its header", n);
  hb_tensor_info_t t;
  if (hb_engine_input_info(&c->engine, b[0], &t))
    return hb_fail(&c->err, HB_E_BAD_INPUT, "input %u does not exist (the model has %d)", b[0], hb_engine_num_inputs(&c->engine));
  uint32_t off = hb_get_u32(b + 1), len = (uint32_t)(n - 5);
  if (off > t.bytes || len > t.bytes - off)
    return hb_fail(&c->err, HB_E_BAD_INPUT, "SET_INPUT %u+%u is outside input %u (%zu bytes)", off, len, b[0], t.bytes);
  memcpy(hb_engine_input(&c->engine, b[0]) + off, b + 5, len);
  return 0;
}

int hb_cmd_invoke(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  *out_n = 0;
  if (!c->ready) return not_ready(c);
  NEED(n == 3, "INVOKE body is %zu bytes, not 3", n);
  uint32_t count = hb_get_u16(b), profile = b[2] & 1u;
  uint32_t nops = profile ? (uint32_t)hb_engine_num_ops(&c->engine) : 0u;
  NEED(count >= 1 && 4u + 4u * (count + nops) <= HB_MAX_BODY, "INVOKE count %u does not fit a reply", count);
  uint8_t *p = hb_put_u16(hb_put_u16(out, count), nops);
  for (uint32_t i = 0; i < count; i++) {
    int last = i + 1 == count && profile;
    port_clock_sync();
    uint32_t t0 = port_clock();
    int rc = hb_engine_invoke(&c->engine, last ? port_clock : 0, last ? op_ticks : 0, &c->err);
    uint32_t t1 = port_clock();
    if (rc) return rc;
    p = hb_put_u32(p, t1 - t0);
  }
  for (uint32_t i = 0; i < nops; i++) p = hb_put_u32(p, op_ticks[i]);
  *out_n = (size_t)(p - out);
  return 0;
}

/* Bytes [off, off+want) of a buffer of `size`, clipped to the reply body. */
static int read_range(hb_cmd_t *c, const uint8_t *src, size_t size, uint32_t off, uint32_t want, uint8_t *out,
                      size_t *out_n) {
  if (off > size) return hb_fail(&c->err, HB_E_BAD_INPUT, "offset %u is past the tensor's %zu bytes", off, size);
  size_t k = size - off;
  if (k > want) k = want;
  if (k > HB_MAX_BODY) k = HB_MAX_BODY;
  memcpy(out, src + off, k);
  *out_n = k;
  return 0;
}

int hb_cmd_get_output(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  *out_n = 0;
  if (!c->ready) return not_ready(c);
  NEED(n == 9, "GET_OUTPUT body is %zu bytes, not 9", n);
  hb_tensor_info_t t;
  if (hb_engine_output_info(&c->engine, b[0], &t))
    return hb_fail(&c->err, HB_E_BAD_INPUT, "output %u does not exist (the model has %d)", b[0], hb_engine_num_outputs(&c->engine));
  return read_range(c, hb_engine_output(&c->engine, b[0]), t.bytes, hb_get_u32(b + 1), hb_get_u32(b + 5), out, out_n);
}

int hb_cmd_get_tensor(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  *out_n = 0;
  if (!c->ready) return not_ready(c);
  NEED(n == 10, "GET_TENSOR body is %zu bytes, not 10", n);
  int idx = hb_get_u16(b);
  size_t len = 0;
  const uint8_t *data = idx < hb_engine_num_tensors(&c->engine) ? hb_engine_tensor(&c->engine, idx, &len) : 0;
  if (!data) return hb_fail(&c->err, HB_E_BAD_INPUT, "tensor %d is not readable (absent, or reused: load with preserve_all)", idx);
  return read_range(c, data, len, hb_get_u32(b + 2), hb_get_u32(b + 6), out, out_n);
}

int hb_cmd_tensor_info(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  *out_n = 0;
  if (!c->ready) return not_ready(c);
  NEED(n == 2, "TENSOR_INFO body is %zu bytes, not 2", n);
  int idx = hb_get_u16(b), producer = -1;
  hb_tensor_info_t t;
  if (hb_engine_tensor_info(&c->engine, idx, &t))
    return hb_fail(&c->err, HB_E_BAD_INPUT, "tensor %d does not exist (the model has %d)", idx, hb_engine_num_tensors(&c->engine));
  for (int i = 0; i < hb_engine_num_ops(&c->engine); i++)
    if (hb_engine_op_output_tensor(&c->engine, i) == idx) producer = i;
  uint8_t *p = hb_put_u16(put_info(out, &t), (uint32_t)(uint16_t)producer);
  const char *name = producer >= 0 ? hb_engine_op_name(&c->engine, producer) : "";
  size_t k = name ? hb_strnlen(name, 64) : 0;
  *p++ = (uint8_t)k;
  memcpy(p, name, k);
  *out_n = (size_t)(p + k - out);
  return 0;
}
