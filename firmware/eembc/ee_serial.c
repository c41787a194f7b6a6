/* The host's side of the MLPerf Tiny serial protocol, device end: characters gather into a
 * command until '%', the command runs, and every command ends with "m-ready". Errors are one
 * "e-[...]" line. Commands: name, profile, timestamp, help, db load N, db <hex>, db print,
 * infer [N [W]], results. Every length and number is checked before it is used: a command
 * longer than EE_CMD_MAX characters is refused whole, `db` never writes past the buffer. */
#include <string.h>

#include "ee_api.h"

#define MAX_TOKENS 4

uint8_t ee_buf[EE_BUF_BYTES];
size_t ee_buf_size, ee_buf_pos;

static char cmd[EE_CMD_MAX + 1];
static size_t cmd_len;
static int cmd_overflow;

/* Decimal without sign, at most 9 digits: 1 on success. */
static int parse_u32(const char *s, uint32_t *out) {
  uint32_t v = 0;
  size_t n = strlen(s);
  if (n == 0 || n > 9) return 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10u + (uint32_t)(s[i] - '0');
  }
  *out = v;
  return 1;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static void db_load(const char *arg) {
  uint32_t n;
  if (!arg) th_printf("e-[Command 'db load' requires the # of bytes]\r\n");
  else if (!parse_u32(arg, &n) || n == 0) th_printf("e-[Command 'db load' must be >0 bytes, got '%s']\r\n", arg);
  else if (n > EE_BUF_BYTES) th_printf("e-[db load %lu exceeds the buffer of %lu bytes]\r\n", (unsigned long)n,
                                       (unsigned long)EE_BUF_BYTES);
  else {
    ee_buf_size = n;
    ee_buf_pos = 0;
    th_printf("m-[Expecting %lu bytes]\r\n", (unsigned long)n);
  }
}

/* 1 when every character of `hex` is a hex digit and there is an even number of them. */
static int hex_ok(const char *hex) {
  size_t n = strlen(hex);
  if (n & 1u) {
    th_printf("e-[Insufficent number of hex digits]\r\n");
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    if (hex_value(hex[i]) < 0) {
      th_printf("e-[Invalid hex digit '%c']\r\n", hex[i]);
      return 0;
    }
  return 1;
}

static void db_data(const char *hex) {
  if (ee_buf_size == 0) {
    th_printf("e-[db data before 'db load N']\r\n");
  } else if (ee_buf_pos >= ee_buf_size) {
    th_printf("e-[db data after the %lu bytes were loaded]\r\n", (unsigned long)ee_buf_size);
  } else if (hex_ok(hex)) {
    for (size_t i = 0; hex[i] && ee_buf_pos < ee_buf_size; i += 2)  /* digits past N bytes: dropped */
      ee_buf[ee_buf_pos++] = (uint8_t)(hex_value(hex[i]) << 4 | hex_value(hex[i + 1]));
    if (ee_buf_pos == ee_buf_size) th_printf("m-load-done\r\n");
  }
}

static void db_print(void) {
  for (size_t i = 0; i < ee_buf_size; i++) {
    th_printf(i % 8u ? "-%02x" : "m-buffer-%02x", ee_buf[i]);
    if (i % 8u == 7u || i + 1u == ee_buf_size) th_printf("\r\n");
  }
}

static void db(char **tok, int ntok) {
  if (ntok < 2) th_printf("e-[Command 'db' requires a subcommand]\r\n");
  else if (strcmp(tok[1], "load") == 0) db_load(ntok > 2 ? tok[2] : 0);
  else if (strcmp(tok[1], "print") == 0) db_print();
  else db_data(tok[1]);
}

static void infer(char **tok, int ntok) {
  uint32_t n = 1, w = 10;  /* the reference's defaults */
  if (ntok > 1 && (!parse_u32(tok[1], &n) || n == 0))
    th_printf("e-[Inference iterations must be >0, got '%s']\r\n", tok[1]);
  else if (ntok > 2 && !parse_u32(tok[2], &w))
    th_printf("e-[Inference warmup must be >=0, got '%s']\r\n", tok[2]);
  else
    ee_infer(n, w);
}

static void help(void) {
  th_printf("%s\r\n\r\nhelp         : Print this information\r\nname         : Print the name of the device\r\n"
            "timestamp    : Generate a timestamp\r\ndb SUBCMD    : Manipulate a generic byte buffer\r\n"
            "  load N     : Allocate N bytes and set load counter\r\n  db HH[HH]* : Load 8-bit hex byte(s) until N "
            "bytes\r\n  print      : Print the buffer as hex\r\ninfer N [W=10]: Execute N inferences after W warmup "
            "loops\r\nresults      : Return the result vector\r\n", EE_FW_VERSION);
}

static void dispatch(char **tok, int ntok) {
  const char *c = tok[0];
  if (strcmp(c, "name") == 0) th_printf("m-name-dut-[%s]\r\n", ee_cfg->vendor);
  else if (strcmp(c, "timestamp") == 0) th_timestamp();
  else if (strcmp(c, "profile") == 0) th_printf("m-profile-[%s]\r\nm-model-[%s]\r\n", EE_FW_VERSION, ee_cfg->model_id);
  else if (strcmp(c, "help") == 0) help();
  else if (strcmp(c, "db") == 0) db(tok, ntok);
  else if (strcmp(c, "infer") == 0) infer(tok, ntok);
  else if (strcmp(c, "results") == 0) th_results();
  else th_printf("e-[Unknown command: %s]\r\n", c);
}

static void run_command(void) {
  char *tok[MAX_TOKENS];
  int ntok = 0;
  cmd[cmd_len] = '\0';
  for (char *p = cmd; *p && ntok < MAX_TOKENS;) {
    while (*p == ' ') *p++ = '\0';
    if (!*p) break;
    tok[ntok++] = p;
    while (*p && *p != ' ') p++;
  }
  if (cmd_overflow) th_printf("e-[Command longer than %lu characters]\r\n", (unsigned long)EE_CMD_MAX);
  else if (ntok) dispatch(tok, ntok);
  th_printf("m-ready\r\n");
}

void ee_serial_char(char c) {
  if (c == '%') {
    run_command();
    cmd_len = 0;
    cmd_overflow = 0;
  } else if (c == '\r' || c == '\n' || c == '\0') {
    /* line ends from a terminal: not part of a command */
  } else if (cmd_len < EE_CMD_MAX) {
    cmd[cmd_len++] = c >= 0x20 && c <= 0x7e ? c : '?';  /* errors echo the command: printable only */
  } else {
    cmd_overflow = 1;
  }
}
