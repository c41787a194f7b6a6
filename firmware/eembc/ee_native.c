/* The MLPerf Tiny protocol image as a process on this machine: commands on stdin, replies on
 * stdout, the model read from a file. Tests drive its parser with hostile commands under
 * ASan/UBSan (`make -C firmware eembc-native SAN=1`).
 * usage: eembc MODEL.tflite [MODEL_ID [INPUT_ENC [RESULTS_FMT]]]   (ee_api.h: EE_IN_*, EE_RES_*) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "ee_api.h"
#include "port.h"

/* The stdio port of the framed-protocol native target (port_getc, port_write, port_clock, …),
 * without its main and its frame server: one stdio port for both native builds. */
#define main hb_native_target_main
#define hb_serve(board) ((void)(board))
#include "../tools/native_target.c"
#undef main
#undef hb_serve

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  uint8_t *buf = aligned_alloc(16, 16u << 20);
  *len = buf ? fread(buf, 1, 16u << 20, f) : 0;
  fclose(f);
  return buf;
}

int main(int argc, char **argv) {
  static ee_config_t cfg;
  if (argc < 2 || !(cfg.model = read_file(argv[1], &cfg.model_len))) {
    fprintf(stderr, "usage: %s MODEL.tflite [MODEL_ID [INPUT_ENC [RESULTS_FMT]]]\n", argv[0]);
    return 2;
  }
  cfg.arena_len = 4u << 20;
  cfg.arena = aligned_alloc(16, cfg.arena_len);
  cfg.model_id = argc > 2 ? argv[2] : "kws01";
  cfg.vendor = "hb-engine-native";
  cfg.input_enc = argc > 3 ? atoi(argv[3]) : EE_IN_DEFAULT;
  cfg.results_fmt = argc > 4 ? atoi(argv[4]) : EE_RES_DEFAULT;
  cfg.ticks_per_us = 1000u;
  ee_start(&cfg);
  for (;;) ee_serial_char((char)port_getc());  /* port_getc flushes replies first, exits at EOF */
}
