/* The command layer between frames (link.c) and the engine: one request in, one reply out.
 * Shared by commands.c (sessions, sequencing, reply cache, HELLO, raw-rate tests) and cmd_model.c
 * (load, inputs, invoke, outputs, tensors). docs/protocol.md is the contract. */
#ifndef HB_COMMANDS_H
#define HB_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "link.h"
#include "port.h"

#ifndef HB_MAX_BODY
#define HB_MAX_BODY 4096u      /* largest frame body either way */
#endif
#ifndef HB_WINDOW
#define HB_WINDOW 8u           /* replies cached = requests the host may keep in flight */
#endif
#define HB_PROTOCOL_VERSION 2
#define HB_FRAME_RAW (HB_FRAME_HEAD + HB_MAX_BODY + HB_FRAME_CRC)

enum { NAK_ORDER = 0, NAK_DAMAGED = 1 };  /* NAK reasons */
enum { HELLO_BRIEF = 1 };                  /* HELLO request flags */
enum { M_HELLO = 1, M_LOAD_BEGIN, M_LOAD_CHUNK, M_LOAD_END, M_SET_INPUT, M_INVOKE, M_GET_OUTPUT,
       M_GET_TENSOR, M_TENSOR_INFO, M_RESET, M_SINK, M_SOURCE, M_REPLY = 0x80, M_NAK = 0xFE, M_ERROR = 0xFF };
enum { E_BAD_REQUEST = 16, E_BAD_STATE = 17, E_SHA_MISMATCH = 18, E_TOO_LARGE = 19, E_INCOMPLETE = 20 };

typedef struct {
  const hb_board_t *board;
  hb_engine_t engine;
  int ready;                 /* a model is loaded and planned */
  int began;                 /* LOAD_BEGIN seen; model_buf holds (part of) its bytes */
  uint32_t size, covered;    /* announced size; bytes [0, covered) arrived */
  uint8_t sha[32];
  int reset_after_reply;
  hb_error_t err;
} hb_cmd_t;

/* A handler reads `body` (n bytes), writes its reply body to `out` (room: HB_MAX_BODY) and
 * sets *out_n; it returns 0, or an error code with c->err.text filled (hb_fail). */
typedef int (*hb_handler_t)(hb_cmd_t *c, const uint8_t *body, size_t n, uint8_t *out, size_t *out_n);

int hb_cmd_load_begin(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n);
int hb_cmd_load_chunk(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n);
int hb_cmd_load_end(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n);
int hb_cmd_set_input(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n);
int hb_cmd_invoke(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n);
int hb_cmd_get_output(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n);
int hb_cmd_get_tensor(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n);
int hb_cmd_tensor_info(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n);

static inline size_t hb_strnlen(const char *s, size_t max) {  /* strnlen is POSIX, not C11 */
  size_t n = 0;
  while (n < max && s[n]) n++;
  return n;
}

/* little-endian helpers */
static inline uint32_t hb_get_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint16_t hb_get_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint8_t *hb_put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
  return p + 4;
}
static inline uint8_t *hb_put_u16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  return p + 2;
}

#endif
