/* libFuzzer entry for the link: the frame decoder (serve/link.c) and the command layer it
 * feeds (serve/commands.c, cmd_model.c, the engine), from arbitrary bytes. Build: make -C
 * firmware fuzz (build/fuzz/fuzz_link); `make fuzz-replay [SAN=1]` builds the same code with
 * a main() that runs saved inputs (tests/firmware/test_fuzz.py).
 *
 * Input format: records, the last one possibly cut short by the end of the input:
 *   record := tag u8 | len u16 le | payload[len]
 *   tag even:  raw bytes, put on the wire as they are (damaged frames, stray delimiters, the
 *              raw runs SINK reads);
 *   tag odd:   a frame's type u8 | session u32 | seq u32 | body; the harness adds the CRC,
 *              COBS and the 0x00 with the firmware's own encoder (hb_tx_frame), so mutated
 *              bodies get past the CRC and reach the sessions, the reply cache and the
 *              dispatcher. Payloads shorter than the head (9 bytes) go on the wire raw.
 * The resulting byte stream is checked twice:
 *   1. decoders with small buffers (13, 64, 300 bytes) and one of HB_FRAME_RAW bytes take it
 *      byte by byte in lockstep: a frame that fits a buffer must come out identical from
 *      every decoder, and no frame may come out of a buffer it does not fit;
 *   2. the real main loop (hb_serve) reads it through port_getc, on an in-memory port; every
 *      byte the target sends must decode as a well-formed frame of at most HB_FRAME_RAW
 *      bytes (the raw run of a SOURCE excepted), and every reply must name the session the
 *      target is in (NAKs and HELLO replies excepted: they name what they answer). RESET reboots: commands.c's statics are
 *      zeroed as startup code zeroes .bss, the persist cell and RAM buffers survive, and
 *      serving goes on with the rest of the stream. The end of the stream (or more than
 *      OUT_BUDGET bytes sent: a huge SOURCE) ends the run, like a host that hangs up. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Included, not linked: a reboot must zero this file's statics (cmd, slots, session...),
 * which nothing outside it can reach. The Makefile does not compile it separately. */
#include "commands.c"

#define MODEL_CAP (64u << 10)
#define ARENA_CAP (64u << 10)
#define OUT_BUDGET (1u << 20)
enum { RUN_END = 1, RUN_REBOOT = 2 };

static _Alignas(16) uint8_t model_buf[MODEL_CAP];
static _Alignas(16) uint8_t arena_buf[ARENA_CAP];
static hb_persist_t persist;
static jmp_buf run_stop;

/* The byte stream (target input) and where port_write's bytes go. */
static const uint8_t *in_p;
static size_t in_len, in_pos;
static uint8_t *wire;           /* building: the stream being assembled */
static size_t wire_len, wire_cap;
static int serving;             /* 0: port_write appends to `wire`; 1: to the reply check */
static hb_rx_t reply_rx;
static uint8_t reply_buf[HB_FRAME_RAW];
static size_t out_total, reply_frames, reply_errors;
static int reply_at_start, reply_fill_only;  /* the frame so far is all SOURCE fill (0x55) */
static uint32_t ticks;

static void fail(const char *what, size_t a, size_t b) {
  fprintf(stderr, "fuzz_link: %s (%zu, %zu)\n", what, a, b);
  abort();
}

/* ---- the port: an in-memory byte stream, a deterministic clock ---- */
int port_getc(void) {
  if (in_pos == in_len) longjmp(run_stop, RUN_END);
  return in_p[in_pos++];
}

static void reply_byte(uint8_t c) {
  uint32_t dropped = reply_rx.dropped;
  size_t n = hb_rx_byte(&reply_rx, c);
  if (reply_rx.dropped != dropped && !reply_fill_only) fail("damaged reply frame", reply_frames, dropped);
  reply_fill_only = c == 0x55u && (reply_fill_only || reply_at_start);
  reply_at_start = c == 0;
  if (n == 0) return;
  uint8_t t = reply_buf[0];
  if (!(t & M_REPLY)) fail("reply frame of a request type", t, n);
  if (t != M_NAK && t != (M_HELLO | M_REPLY) && hb_get_u32(reply_buf + 1) != session)
    fail("reply outside the target's session", t, hb_get_u32(reply_buf + 1));
  reply_frames++;
  reply_errors += t == M_ERROR;
}

void port_write(const uint8_t *p, size_t n) {
  if (!serving) {
    if (n > wire_cap - wire_len) fail("stream bound exceeded", wire_len, n);
    memcpy(wire + wire_len, p, n);
    wire_len += n;
    return;
  }
  for (size_t i = 0; i < n; i++) reply_byte(p[i]);
  out_total += n;
  if (out_total > OUT_BUDGET) longjmp(run_stop, RUN_END);
}

uint32_t port_clock(void) { return ticks += 1000u; }
void port_clock_sync(void) {}
hb_persist_t *port_persist(void) { return &persist; }
void port_reset(void) { longjmp(run_stop, RUN_REBOOT); }

/* ---- input records -> the byte stream ---- */
static void put_frame(const uint8_t *payload, size_t len) {
  uint8_t *raw = malloc(len + HB_FRAME_CRC);  /* hb_tx_frame writes the CRC after the frame */
  if (!raw) abort();
  memcpy(raw, payload, len);
  hb_tx_frame(raw, len);
  free(raw);
}

/* Assembles the stream into `wire`; every record grows by at most twice its own size. */
static void build_stream(const uint8_t *data, size_t size) {
  wire_cap = 2 * size + 16;
  wire = malloc(wire_cap);
  if (!wire) abort();
  wire_len = 0;
  serving = 0;
  for (size_t pos = 0; pos < size;) {
    uint8_t tag = data[pos];
    size_t len = pos + 3 <= size ? (size_t)hb_get_u16(data + pos + 1) : 0;
    pos = pos + 3 < size ? pos + 3 : size;
    if (len > size - pos) len = size - pos;
    if ((tag & 1u) && len >= HB_FRAME_HEAD) put_frame(data + pos, len);
    else port_write(data + pos, len);
    pos += len;
  }
}

/* ---- check 1: the decoder does not depend on its buffer size ---- */
static uint8_t buf_min[HB_FRAME_HEAD + HB_FRAME_CRC], buf64[64], buf300[300], buf_big[HB_FRAME_RAW];

static void check_decoders(const uint8_t *s, size_t n) {
  uint8_t *bufs[3] = {buf_min, buf64, buf300};
  const size_t caps[3] = {sizeof buf_min, sizeof buf64, sizeof buf300};
  hb_rx_t big, small[3];
  size_t ends[3] = {0, 0, 0}, big_ends = 0;  /* frames each decoder returned */
  hb_rx_init(&big, buf_big, sizeof buf_big);
  for (int k = 0; k < 3; k++) hb_rx_init(&small[k], bufs[k], caps[k]);
  for (size_t i = 0; i < n; i++) {
    size_t nb = hb_rx_byte(&big, s[i]);
    big_ends += nb != 0;
    for (int k = 0; k < 3; k++) {
      size_t ns = hb_rx_byte(&small[k], s[i]);
      size_t want = nb + HB_FRAME_CRC <= caps[k] ? nb : 0;
      if (ns != want || memcmp(bufs[k], buf_big, ns) != 0) fail("decoders disagree", ns, want);
      ends[k] += ns != 0;
    }
  }
  for (int k = 0; k < 3; k++)  /* a frame lost to a small buffer is counted as dropped */
    if (ends[k] + small[k].dropped != big_ends + big.dropped) fail("frame count", k, small[k].dropped);
}

/* ---- check 2: the firmware's main loop over the stream ---- */
static const hb_board_t board = {"fuzz", "host", "ns", 1000000000u, model_buf, MODEL_CAP, arena_buf, ARENA_CAP};

static void zero_bss(void) {  /* what startup code does to commands.c at every boot */
  memset(&cmd, 0, sizeof cmd);
  memset(slots, 0, sizeof slots);
  memset(rx_buf, 0, sizeof rx_buf);
  memset(hello_raw, 0, sizeof hello_raw);
  session = expected = 0;
  boot_hi = boot_lo = 0;
}

static void serve_stream(void) {
  in_p = wire;
  in_len = wire_len;
  in_pos = 0;
  serving = 1;
  out_total = reply_frames = reply_errors = 0;
  hb_rx_init(&reply_rx, reply_buf, sizeof reply_buf);
  reply_at_start = 1;
  reply_fill_only = 0;
  for (;;) {
    zero_bss();
    int why = setjmp(run_stop);
    if (why == 0) hb_serve(&board);  /* returns only through run_stop */
    if (why != RUN_REBOOT) return;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  build_stream(data, size);
  check_decoders(wire, wire_len);
  memset(&persist, 0, sizeof persist);  /* a cold start for every input: reproducible runs */
  memset(model_buf, 0, sizeof model_buf);
  memset(arena_buf, 0, sizeof arena_buf);
  ticks = 0;
  serve_stream();
  free(wire);
  wire = NULL;
  return 0;
}

#ifdef HB_FUZZ_REPLAY
/* Replays saved inputs without libFuzzer: `fuzz_link_replay FILE...`, one line each:
 * "OK name replies=R errors=E" (reply frames the target sent, ERROR frames among them). */
static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "%s: cannot open\n", path);
    return 1;
  }
  uint8_t *data = NULL;
  size_t n = 0, cap = 0, got;
  do {
    if (n == cap && !(data = realloc(data, cap = 2 * cap + 4096))) abort();
    got = fread(data + n, 1, cap - n, f);
    n += got;
  } while (got);
  fclose(f);
  LLVMFuzzerTestOneInput(data, n);
  free(data);
  printf("OK %s replies=%zu errors=%zu\n", path, reply_frames, reply_errors);
  return 0;
}

int main(int argc, char **argv) {
  int rc = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);  /* the lines before a crash still reach the test */
  for (int i = 1; i < argc; i++) rc |= replay_file(argv[i]);
  return rc;
}
#endif
