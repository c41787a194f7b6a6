/* Flatbuffer walking with every step checked; see fb.h for the conventions. */
#include "fb.h"

#include <string.h>

float fb_rd_f32(const uint8_t *p) {
  uint32_t u = fb_rd_u32(p);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

/* Follows the uoffset stored at `at` (which must itself be in bounds). */
static int follow(const uint8_t *buf, size_t len, uint32_t at, uint32_t *target) {
  uint64_t t = (uint64_t)at + fb_rd_u32(buf + at);
  if (t + 4u > len) return -1;
  *target = (uint32_t)t;
  return 1;
}

int fb_table_at(const uint8_t *buf, size_t len, uint32_t pos, fb_table_t *out) {
  if (len < 8 || len > 0x7fffffffu || (uint64_t)pos + 4u > len) return -1;
  int64_t vt = (int64_t)pos - fb_rd_i32(buf + pos);
  if (vt < 0 || (uint64_t)vt + 4u > len) return -1;
  uint16_t vt_size = fb_rd_u16(buf + vt), tbl_size = fb_rd_u16(buf + vt + 2);
  if (vt_size < 4 || (vt_size & 1u) || (uint64_t)vt + vt_size > len) return -1;
  if (tbl_size < 4 || (uint64_t)pos + tbl_size > len) return -1;
  out->buf = buf; out->len = len; out->pos = pos; out->vt = (uint32_t)vt;
  out->vt_size = vt_size; out->tbl_size = tbl_size;
  return 1;
}

int fb_root(const uint8_t *buf, size_t len, fb_table_t *out) {
  uint32_t pos;
  if (!buf || len < 8 || len > 0x7fffffffu) return -1;
  if (follow(buf, len, 0, &pos) < 0) return -1;
  return fb_table_at(buf, len, pos, out);
}

int fb_field(const fb_table_t *t, int id, uint32_t size, uint32_t *pos) {
  uint32_t slot = 4u + 2u * (uint32_t)id;
  if (id < 0 || slot + 2u > t->vt_size) return 0;
  uint16_t off = fb_rd_u16(t->buf + t->vt + slot);
  if (off == 0) return 0;
  if ((uint32_t)off + size > t->tbl_size) return -1;
  *pos = t->pos + off;
  return 1;
}

int fb_u8(const fb_table_t *t, int id, uint8_t dflt, uint8_t *out) {
  uint32_t p;
  int r = fb_field(t, id, 1, &p);
  *out = r == 1 ? t->buf[p] : dflt;
  return r;
}

int fb_i32(const fb_table_t *t, int id, int32_t dflt, int32_t *out) {
  uint32_t p;
  int r = fb_field(t, id, 4, &p);
  *out = r == 1 ? fb_rd_i32(t->buf + p) : dflt;
  return r;
}

int fb_u32(const fb_table_t *t, int id, uint32_t dflt, uint32_t *out) {
  uint32_t p;
  int r = fb_field(t, id, 4, &p);
  *out = r == 1 ? fb_rd_u32(t->buf + p) : dflt;
  return r;
}

int fb_u64(const fb_table_t *t, int id, uint64_t dflt, uint64_t *out) {
  uint32_t p;
  int r = fb_field(t, id, 8, &p);
  *out = r == 1 ? fb_rd_u64(t->buf + p) : dflt;
  return r;
}

int fb_f32(const fb_table_t *t, int id, float dflt, float *out) {
  uint32_t p;
  int r = fb_field(t, id, 4, &p);
  *out = r == 1 ? fb_rd_f32(t->buf + p) : dflt;
  return r;
}

int fb_table(const fb_table_t *t, int id, fb_table_t *out) {
  uint32_t p, target;
  int r = fb_field(t, id, 4, &p);
  if (r <= 0) return r;
  if (follow(t->buf, t->len, p, &target) < 0) return -1;
  return fb_table_at(t->buf, t->len, target, out);
}

int fb_vector(const fb_table_t *t, int id, uint32_t elem_size, fb_vec_t *out) {
  uint32_t p, target;
  out->buf = t->buf; out->len = t->len; out->pos = 0; out->n = 0;
  int r = fb_field(t, id, 4, &p);
  if (r <= 0) return r;
  if (follow(t->buf, t->len, p, &target) < 0) return -1;
  uint32_t n = fb_rd_u32(t->buf + target);
  if ((uint64_t)target + 4u + (uint64_t)n * elem_size > t->len) return -1;
  out->pos = target + 4u;
  out->n = n;
  return 1;
}

int fb_vec_table(const fb_vec_t *v, uint32_t i, fb_table_t *out) {
  uint32_t target;
  if (i >= v->n) return -1;
  if (follow(v->buf, v->len, v->pos + 4u * i, &target) < 0) return -1;
  return fb_table_at(v->buf, v->len, target, out);
}
