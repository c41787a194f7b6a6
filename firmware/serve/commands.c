/* Serving frames: in-order execution within the session the last HELLO opened, a reply cache
 * keyed by each request's full identity (session, seq, CRC: go-back-N retries never re-run a
 * request, and a stale copy never passes for a new one), NAKs for everything else and for
 * damaged frames, HELLO with the boot id, the raw-rate tests, dispatch to cmd_model.c. */
#include "commands.h"

#include <string.h>

#include "errfmt.h"

#define PERSIST_MAGIC 0x48424231u  /* "HBB1" */

typedef struct {
  uint8_t raw[HB_FRAME_RAW];  /* head, body, room for the CRC */
  size_t len;                 /* head + body */
  uint32_t session, seq, req_crc;  /* the request this is the reply to */
  uint8_t valid;
} slot_t;

static hb_cmd_t cmd;
static slot_t slots[HB_WINDOW];
static uint8_t rx_buf[HB_FRAME_RAW];
static uint8_t hello_raw[HB_FRAME_RAW];  /* HELLO replies: never in a slot, never cached */
static uint32_t session;        /* opened by HELLO; 0: none, nothing but HELLO runs */
static uint32_t expected;       /* seq of the next new request */
static uint32_t boot_hi, boot_lo;

/* The image's build id (boards.mk writes build_id.h: a hash of sources, flags and compiler), so
 * the host can tell whether a board runs the firmware it just built; "dev" elsewhere. */
#if defined(__has_include)
#if __has_include("build_id.h")
#include "build_id.h"
#endif
#endif
#ifndef HB_BUILD_ID
#define HB_BUILD_ID "dev"
#endif

static size_t put_head(uint8_t *raw, uint8_t type, uint32_t sess, uint32_t seq) {
  raw[0] = type;
  hb_put_u32(hb_put_u32(raw + 1, sess), seq);
  return HB_FRAME_HEAD;
}

/* ---- HELLO: a JSON object built without stdio ---- */
typedef struct { uint8_t *p; size_t n, cap; } jbuf_t;

static void j_str(jbuf_t *j, const char *s) {
  while (*s && j->n < j->cap) j->p[j->n++] = (uint8_t)*s++;
}
static void j_u32(jbuf_t *j, uint32_t v) {
  char d[11];
  int k = 0;
  do { d[k++] = (char)('0' + v % 10u); v /= 10u; } while (v);
  while (k && j->n < j->cap) j->p[j->n++] = (uint8_t)d[--k];
}
static void j_hex(jbuf_t *j, uint32_t v) {
  for (int i = 7; i >= 0 && j->n < j->cap; i--) j->p[j->n++] = (uint8_t)"0123456789abcdef"[(v >> (4 * i)) & 15u];
}
static void j_kv_str(jbuf_t *j, const char *k, const char *v) { j_str(j, ",\""); j_str(j, k); j_str(j, "\":\""); j_str(j, v); j_str(j, "\""); }
static void j_kv_u32(jbuf_t *j, const char *k, uint32_t v) { j_str(j, ",\""); j_str(j, k); j_str(j, "\":"); j_u32(j, v); }

/* brief: only what a new session of a known target needs (version, boot id, nonce): a short
 * reply gets through a noisy link where the full one (~400 bytes) rarely does. */
static size_t hello_body(uint8_t *out, int boot, uint32_t nonce, int brief) {
  const hb_board_t *b = cmd.board;
  jbuf_t j = {out, 0, HB_MAX_BODY};
  j_str(&j, "{\"version\":");
  j_u32(&j, HB_PROTOCOL_VERSION);
  if (brief) {
    j_kv_u32(&j, "nonce", nonce);
    j_str(&j, ",\"boot_id\":\"");
    j_hex(&j, boot_hi);
    j_hex(&j, boot_lo);
    j_str(&j, "\"}");
    return j.n;
  }
  j_kv_str(&j, "board", b->board);
  j_kv_str(&j, "cpu", b->cpu);
  j_kv_str(&j, "build", HB_BUILD_ID);
  j_kv_str(&j, "timer", b->timer);
  j_kv_u32(&j, "clock_hz", b->clock_hz);
  j_kv_u32(&j, "max_body", HB_MAX_BODY);
  j_kv_u32(&j, "window", HB_WINDOW);
  j_kv_u32(&j, "arena_bytes", (uint32_t)b->arena_cap);
  j_kv_u32(&j, "max_model_bytes", (uint32_t)b->model_cap);
  j_kv_u32(&j, "boot", (uint32_t)boot);
  j_kv_u32(&j, "nonce", nonce);
  j_str(&j, ",\"boot_id\":\"");
  j_hex(&j, boot_hi);
  j_hex(&j, boot_lo);
  j_str(&j, "\",\"ops\":[");
  for (int i = 0; hb_engine_supported_op(i); i++) {
    j_str(&j, i ? ",\"" : "\"");
    j_str(&j, hb_engine_supported_op(i));
    j_str(&j, "\"");
  }
  j_str(&j, "]}");
  return j.n;
}

/* ---- raw byte rate of the stream (bench/perf_link.py) ---- */
static int h_sink(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  (void)out;
  *out_n = 0;
  if (n != 4) return hb_fail(&c->err, E_BAD_REQUEST, "SINK body is %zu bytes, not 4", n);
  for (uint32_t left = hb_get_u32(b); left; left--)
    if (port_getc() == 0) return hb_fail(&c->err, E_BAD_REQUEST, "SINK: a zero byte with %u bytes to go", left);
  return 0;
}

static int h_source(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  static const uint8_t zero = 0;
  uint8_t fill[64];
  memset(fill, 0x55, sizeof fill);
  (void)out;
  *out_n = 0;
  if (n != 4) return hb_fail(&c->err, E_BAD_REQUEST, "SOURCE body is %zu bytes, not 4", n);
  for (uint32_t left = hb_get_u32(b); left;) {
    uint32_t k = left < sizeof fill ? left : (uint32_t)sizeof fill;
    port_write(fill, k);
    left -= k;
  }
  port_write(&zero, 1);  /* ends the raw run as a (dropped) frame before the reply */
  return 0;
}

static int h_reset(hb_cmd_t *c, const uint8_t *b, size_t n, uint8_t *out, size_t *out_n) {
  (void)b; (void)n; (void)out;
  c->reset_after_reply = 1;
  *out_n = 0;
  return 0;
}

static const hb_handler_t handlers[] = {
  [M_LOAD_BEGIN] = hb_cmd_load_begin, [M_LOAD_CHUNK] = hb_cmd_load_chunk,
  [M_LOAD_END] = hb_cmd_load_end, [M_SET_INPUT] = hb_cmd_set_input, [M_INVOKE] = hb_cmd_invoke,
  [M_GET_OUTPUT] = hb_cmd_get_output, [M_GET_TENSOR] = hb_cmd_get_tensor,
  [M_TENSOR_INFO] = hb_cmd_tensor_info, [M_RESET] = h_reset, [M_SINK] = h_sink, [M_SOURCE] = h_source};

/* Runs one new request into its cache slot and sends the reply. */
static void execute(const uint8_t *f, size_t n, uint32_t seq, uint32_t crc) {
  slot_t *s = &slots[seq % HB_WINDOW];
  uint8_t type = f[0];
  hb_handler_t h = type < sizeof handlers / sizeof handlers[0] ? handlers[type] : 0;
  size_t out_n = 0;
  int rc = h ? h(&cmd, f + HB_FRAME_HEAD, n - HB_FRAME_HEAD, s->raw + HB_FRAME_HEAD, &out_n)
             : hb_fail(&cmd.err, E_BAD_REQUEST, "unknown request type %u", (unsigned)type);
  if (rc) {  /* ERROR: code u8, one line of text */
    size_t t = hb_strnlen(cmd.err.text, sizeof cmd.err.text);
    s->raw[HB_FRAME_HEAD] = (uint8_t)rc;
    memcpy(s->raw + HB_FRAME_HEAD + 1, cmd.err.text, t);
    out_n = 1 + t;
  }
  s->len = put_head(s->raw, rc ? M_ERROR : (uint8_t)(type | M_REPLY), session, seq) + out_n;
  s->session = session;
  s->seq = seq;
  s->req_crc = crc;
  s->valid = 1;
  hb_tx_frame(s->raw, s->len);
}

/* NAK: the (session, seq) expected in the head; why, and the session and seq received, and the
 * boot id in the body, so the host re-sends at once (and sees a reboot it missed). */
static void nak(uint8_t reason, uint32_t got_session, uint32_t got_seq) {
  uint8_t raw[HB_FRAME_HEAD + 9 + 16 + HB_FRAME_CRC];
  size_t n = put_head(raw, M_NAK, session, expected);
  raw[n] = reason;
  hb_put_u32(hb_put_u32(raw + n + 1, got_session), got_seq);
  jbuf_t j = {raw + n + 9, 0, 16};
  j_hex(&j, boot_hi);
  j_hex(&j, boot_lo);
  hb_tx_frame(raw, n + 9 + 16);
}

static void send_hello(uint32_t sess, uint32_t seq, int boot, uint32_t nonce, int brief) {
  size_t n = put_head(hello_raw, M_HELLO | M_REPLY, sess, seq);
  hb_tx_frame(hello_raw, n + hello_body(hello_raw + n, boot, nonce, brief));
}

static void on_frame(const uint8_t *f, size_t n, uint32_t crc) {
  uint8_t type = f[0];
  uint32_t sess = hb_get_u32(f + 1), seq = hb_get_u32(f + 5);
  if (type & M_REPLY) return;  /* our own kind of frame echoed back: not a request */
  if (type == M_HELLO) {       /* always answered; opens a session unless it repeats this one's */
    uint32_t nonce = n >= HB_FRAME_HEAD + 4 ? hb_get_u32(f + HB_FRAME_HEAD) : 0;
    int brief = n >= HB_FRAME_HEAD + 5 && (f[HB_FRAME_HEAD + 4] & HELLO_BRIEF);
    if (sess != session || sess == 0) {
      for (unsigned i = 0; i < HB_WINDOW; i++) slots[i].valid = 0;
      session = sess;
      expected = seq + 1u;
    }
    if (nonce) port_persist()->nonce = nonce;  /* mixed into the next boot's id */
    send_hello(sess, seq, 0, nonce, brief);
    return;
  }
  if (session != 0 && sess == session) {
    if (seq == expected) {
      execute(f, n, seq, crc);
      expected = seq + 1u;
      return;
    }
    slot_t *s = &slots[seq % HB_WINDOW];
    uint32_t age = expected - seq;  /* 1 = the last request run */
    if (age >= 1u && age <= HB_WINDOW && s->valid && s->session == sess && s->seq == seq && s->req_crc == crc) {
      hb_tx_frame(s->raw, s->len);  /* a retry: the same answer, not run again */
      return;
    }
  }
  nak(NAK_ORDER, sess, seq);  /* another session, a request after a lost one, or a stale copy */
}

static uint32_t mix(uint32_t x) {  /* an integer hash finaliser: spreads every input bit */
  x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; x ^= x >> 16;
  return x;
}

void hb_serve(const hb_board_t *board) {
  hb_rx_t rx;
  hb_persist_t *p = port_persist();
  cmd.board = board;
  if (p->magic != PERSIST_MAGIC) { p->magic = PERSIST_MAGIC; p->boots = 0; p->nonce = 0; }
  p->boots++;
  boot_hi = p->boots;
  boot_lo = mix(p->nonce ^ mix(port_clock()) ^ (uint32_t)(uintptr_t)p);
  send_hello(0, 0, 1, 0, 0);  /* the unsolicited boot announcement: session 0, seq 0 */
  hb_rx_init(&rx, rx_buf, sizeof rx_buf);
  for (;;) {
    uint32_t dropped = rx.dropped;
    size_t n = hb_rx_byte(&rx, (uint8_t)port_getc());
    if (rx.dropped != dropped) nak(NAK_DAMAGED, 0, 0);  /* the host re-sends without a timeout */
    if (n < HB_FRAME_HEAD) continue;
    on_frame(rx_buf, n, rx.crc);
    if (cmd.reset_after_reply) port_reset();
  }
}
