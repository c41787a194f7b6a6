/* batch.elf: the engine on a QEMU MPS board for bulk proofs (tests/firmware/qemu_batch.py).
 * Not a product image: no link, no commands. QEMU's loader places a blob of cases in RAM
 * (`-device loader,file=BLOB,addr=HB_BATCH_ADDR,force-raw=on`); each case is loaded, run on
 * each of its input samples, and its outputs stream out of UART0 (`-serial file:OUT`):
 *
 *   blob   = "HBB1" u32 ncases, then per case (16-aligned):
 *            u32 model_len, u32 nsamples, u32 in_bytes (one sample, all inputs in order), u32 0,
 *            model (padded to 16), nsamples * in_bytes (padded to 16)
 *   output = per case: u32 index, u32 status (0, an hb_error_t code, or 100: the sample size
 *            does not match the inputs), u32 n, then n bytes: every sample's outputs in order,
 *            or the error text; finally "HBBE". A fault ends QEMU with exit code 3 instead. */
#include <stdint.h>
#include <string.h>

#include "engine.h"
#include "port.h"

#ifndef HB_BATCH_ADDR
#define HB_BATCH_ADDR 0x21000000u /* mps2-an386/an500 PSRAM, 16 MB */
#endif

extern uint8_t __arena_start[], __arena_end[];
const char *port_init(void);
void port_exit(int code);

static hb_engine_t engine;

static uint32_t rd32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

static void put32(uint32_t v) {
  const uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  port_write(b, 4);
}

static void record(uint32_t index, uint32_t status, const uint8_t *data, uint32_t n) {
  put32(index);
  put32(status);
  put32(n);
  port_write(data, n);
}

static uint32_t io_bytes(int outputs) {
  uint32_t sum = 0;
  int n = outputs ? hb_engine_num_outputs(&engine) : hb_engine_num_inputs(&engine);
  for (int i = 0; i < n; i++) {
    hb_tensor_info_t info;
    if (outputs) hb_engine_output_info(&engine, i, &info);
    else hb_engine_input_info(&engine, i, &info);
    sum += (uint32_t)info.bytes;
  }
  return sum;
}

/* Runs one sample (its inputs back to back at `x`) and streams its outputs. */
static int run_sample(const uint8_t *x, hb_error_t *err) {
  for (int i = 0; i < hb_engine_num_inputs(&engine); i++) {
    hb_tensor_info_t info;
    hb_engine_input_info(&engine, i, &info);
    memcpy(hb_engine_input(&engine, i), x, info.bytes);
    x += info.bytes;
  }
  if (hb_engine_invoke(&engine, 0, 0, err) != HB_OK) return err->code;
  for (int j = 0; j < hb_engine_num_outputs(&engine); j++) {
    hb_tensor_info_t info;
    hb_engine_output_info(&engine, j, &info);
    port_write(hb_engine_output(&engine, j), info.bytes);
  }
  return HB_OK;
}

static const uint8_t *run_case(uint32_t index, const uint8_t *p) {
  const uint32_t model_len = rd32(p), nsamples = rd32(p + 4), in_bytes = rd32(p + 8);
  const uint8_t *model = p + 16, *x = model + ((model_len + 15u) & ~15u);
  hb_error_t err;
  if (hb_engine_load(&engine, model, model_len, __arena_start, (size_t)(__arena_end - __arena_start), 0, &err)) {
    record(index, (uint32_t)err.code, (const uint8_t *)err.text, (uint32_t)strlen(err.text));
  } else if (io_bytes(0) != in_bytes) {
    static const char text[] = "sample size does not match the model's inputs";
    record(index, 100, (const uint8_t *)text, sizeof text - 1);
  } else {
    put32(index);
    put32(0);
    put32(nsamples * io_bytes(1));
    for (uint32_t k = 0; k < nsamples; k++)
      if (run_sample(x + k * in_bytes, &err)) port_exit(5);  /* invoke cannot fail after a load */
  }
  return x + ((nsamples * in_bytes + 15u) & ~15u);
}

int main(void) {
  const uint8_t *blob = (const uint8_t *)HB_BATCH_ADDR;
  (void)port_init();
  if (memcmp(blob, "HBB1", 4) != 0) return 1;
  const uint32_t ncases = rd32(blob + 4);
  const uint8_t *p = blob + 16;
  for (uint32_t i = 0; i < ncases; i++) p = run_case(i, p);
  port_write((const uint8_t *)"HBBE", 4);
  return 0;
}
