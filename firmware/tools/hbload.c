/* hbload: loads each .tflite given on the command line into the engine, fills the
 * inputs with a fixed pattern, invokes once and reads every tensor. Prints one
 * line per file: "OK <ops> <arena bytes>" or "ERROR <code> <text>". Built with
 * sanitizers it is the corruption test's oracle: any crash is a bug. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static hb_engine_t engine;

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  /* Exactly n bytes in a malloc'd (16-aligned) block, so ASan sees any overread. */
  unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  *len = (size_t)(n > 0 ? n : 0);
  return buf;
}

static void run_one(const char *path, size_t arena_len, int preserve) {
  size_t len;
  unsigned char *model = read_file(path, &len);
  if (!model) { printf("ERROR io cannot read %s\n", path); return; }
  unsigned char *arena = malloc(arena_len);
  hb_error_t err;
  if (hb_engine_load(&engine, model, len, arena, arena_len, preserve, &err) != HB_OK) {
    printf("ERROR %d %s\n", err.code, err.text);
  } else {
    for (int i = 0; i < hb_engine_num_inputs(&engine); i++) {
      hb_tensor_info_t info;
      hb_engine_input_info(&engine, i, &info);
      uint8_t *p = hb_engine_input(&engine, i);
      for (size_t k = 0; k < info.bytes; k++) p[k] = (uint8_t)(k * 37u + 11u);
    }
    hb_engine_invoke(&engine, NULL, NULL, &err);
    unsigned long sum = 0;
    for (int t = 0; t < hb_engine_num_tensors(&engine); t++) {
      size_t n;
      const uint8_t *p = hb_engine_tensor(&engine, t, &n);
      for (size_t k = 0; p && k < n; k++) sum += p[k];
    }
    printf("OK %d %zu %lu\n", hb_engine_num_ops(&engine), hb_engine_arena_used(&engine), sum);
  }
  fflush(stdout);
  free(arena);
  free(model);
}

int main(int argc, char **argv) {
  size_t arena_len = 1u << 20;
  int preserve = 0, first = 1;
  if (argc > 2 && strcmp(argv[1], "--arena") == 0) { arena_len = (size_t)strtoul(argv[2], NULL, 0); first = 3; }
  if (argc > first && strcmp(argv[first], "--preserve") == 0) { preserve = 1; first++; }
  if (argc <= first) {
    fprintf(stderr, "usage: hbload [--arena BYTES] [--preserve] model.tflite...\n");
    return 2;
  }
  for (int i = first; i < argc; i++) run_one(argv[i], arena_len, preserve);
  return 0;
}
