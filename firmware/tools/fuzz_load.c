/* libFuzzer entry: load arbitrary bytes as a model (both plan modes), and when the
 * load succeeds, invoke once and read every tensor. Build: make -C firmware fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"

static hb_engine_t engine;
static uint8_t arena[1u << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A private, exactly sized, aligned copy so overreads hit ASan's redzone. */
  uint8_t *model = malloc(size ? size : 1);
  if (!model) return 0;
  memcpy(model, data, size);
  hb_error_t err;
  int preserve = size > 0 && (data[size - 1] & 1);
  if (hb_engine_load(&engine, model, size, arena, sizeof arena, preserve, &err) == HB_OK) {
    for (int i = 0; i < hb_engine_num_inputs(&engine); i++) {
      hb_tensor_info_t info;
      hb_engine_input_info(&engine, i, &info);
      memset(hb_engine_input(&engine, i), 0x5a, info.bytes);
    }
    hb_engine_invoke(&engine, NULL, NULL, &err);
    volatile uint8_t sink = 0;
    for (int t = 0; t < hb_engine_num_tensors(&engine); t++) {
      size_t n;
      const uint8_t *p = hb_engine_tensor(&engine, t, &n);
      for (size_t k = 0; p && k < n; k++) sink ^= p[k];
    }
    (void)sink;
  }
  free(model);
  return 0;
}
