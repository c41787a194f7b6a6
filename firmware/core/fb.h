/* Bounds-checked flatbuffer access. The buffer is hostile: every offset, vtable
 * and vector length is checked against the buffer before it is followed, and all
 * scalars are read byte by byte (little-endian, any alignment).
 * Return convention: 1 = present, 0 = absent (defaults apply), -1 = corrupt. */
#ifndef HB_FB_H
#define HB_FB_H
#include <stddef.h>
#include <stdint.h>

typedef struct { const uint8_t *buf; size_t len; } fb_buf_t;
typedef struct { const uint8_t *buf; size_t len; uint32_t pos, vt; uint16_t vt_size, tbl_size; } fb_table_t;
typedef struct { const uint8_t *buf; size_t len; uint32_t pos; uint32_t n; } fb_vec_t;  /* pos: first element */

static inline uint16_t fb_rd_u16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t fb_rd_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline int32_t fb_rd_i32(const uint8_t *p) { return (int32_t)fb_rd_u32(p); }
static inline uint64_t fb_rd_u64(const uint8_t *p) {
  return (uint64_t)fb_rd_u32(p) | ((uint64_t)fb_rd_u32(p + 4) << 32);
}
float fb_rd_f32(const uint8_t *p);

int fb_root(const uint8_t *buf, size_t len, fb_table_t *out);
int fb_table_at(const uint8_t *buf, size_t len, uint32_t pos, fb_table_t *out);
/* Position of field `id` if it is present and `size` bytes fit inside the table. */
int fb_field(const fb_table_t *t, int id, uint32_t size, uint32_t *pos);
int fb_u8(const fb_table_t *t, int id, uint8_t dflt, uint8_t *out);
int fb_i32(const fb_table_t *t, int id, int32_t dflt, int32_t *out);
int fb_u32(const fb_table_t *t, int id, uint32_t dflt, uint32_t *out);
int fb_u64(const fb_table_t *t, int id, uint64_t dflt, uint64_t *out);
int fb_f32(const fb_table_t *t, int id, float dflt, float *out);
int fb_table(const fb_table_t *t, int id, fb_table_t *out);
int fb_vector(const fb_table_t *t, int id, uint32_t elem_size, fb_vec_t *out);
int fb_vec_table(const fb_vec_t *v, uint32_t i, fb_table_t *out);  /* vector of tables */
static inline int32_t fb_vec_i32(const fb_vec_t *v, uint32_t i) { return fb_rd_i32(v->buf + v->pos + 4u * i); }
static inline int64_t fb_vec_i64(const fb_vec_t *v, uint32_t i) { return (int64_t)fb_rd_u64(v->buf + v->pos + 8u * i); }
static inline float fb_vec_f32(const fb_vec_t *v, uint32_t i) { return fb_rd_f32(v->buf + v->pos + 4u * i); }

#endif
