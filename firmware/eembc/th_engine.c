/* The submitter side of the MLPerf Tiny API over our engine (firmware/core): the model compiled
 * into the image is loaded at boot, `db` bytes become the input tensor as the reference
 * submissions expect them (th_load_tensor), th_infer runs the engine, th_results prints the
 * outputs in the model's reference format, th_timestamp prints the microsecond clock. */
#include <string.h>

#include "ee_api.h"
#include "engine.h"
#include "port.h"

const ee_config_t *ee_cfg;
static hb_engine_t engine;
static hb_error_t load_err;
static int ready, input_ok, input_enc, results_fmt;
/* The engine may reuse the input tensor's bytes for later tensors (as TFLM may), so each
 * th_infer starts from this copy: every inference of `infer N W` runs on the uploaded input. */
static uint8_t staged[EE_BUF_BYTES];
static size_t staged_len;
static uint64_t ticks_acc;
static uint32_t ticks_last;

uint64_t ee_ticks(void) {
  uint32_t now = port_clock();
  ticks_acc += (uint32_t)(now - ticks_last);  /* exact while reads are < 2^32 ticks apart */
  ticks_last = now;
  return ticks_acc;
}

static void print_lap(uint64_t us) { th_printf("m-lap-us-%lu\r\n", (unsigned long)(uint32_t)us); }

void th_timestamp(void) { print_lap(ee_ticks() / ee_cfg->ticks_per_us); }

void th_timestamp_initialize(void) {
  th_printf("m-timestamp-mode-performance\r\n");
  th_timestamp();
}

/* The reference submissions' conventions per model id; ee_config_t may override them. */
static void resolve_formats(void) {
  const char *id = ee_cfg->model_id;
  int uint8_in = strcmp(id, "vww01") == 0 || strcmp(id, "ic01") == 0, ad = strcmp(id, "ad01") == 0;
  input_enc = ad ? EE_IN_FLOAT32 : uint8_in ? EE_IN_UINT8 : EE_IN_INT8;
  results_fmt = ad ? EE_RES_SCORE : strcmp(id, "kws01") == 0 ? EE_RES_TRUNC3 : EE_RES_ROUND3;
  if (ee_cfg->input_enc != EE_IN_DEFAULT) input_enc = ee_cfg->input_enc;
  if (ee_cfg->results_fmt != EE_RES_DEFAULT) results_fmt = ee_cfg->results_fmt;
}

void th_final_initialize(void) {
  resolve_formats();
  ready = hb_engine_load(&engine, ee_cfg->model, ee_cfg->model_len, ee_cfg->arena, ee_cfg->arena_len, 0,
                         &load_err) == HB_OK;
  if (!ready) th_printf("e-[model not loaded: %s]\r\n", load_err.text);
}

/* round(f / scale) + zp like TFLM's QuantizeFloatToInt8 (half away from zero), saturated. */
static int8_t quantize(float f, float scale, int32_t zp) {
  float r = f / scale;
  if (!(r == r)) return (int8_t)zp;  /* NaN */
  if (r > 1000.0f) r = 1000.0f;
  if (r < -1000.0f) r = -1000.0f;
  float a = r < 0.0f ? -r : r;
  int32_t k = (int32_t)a;
  if (a - (float)k >= 0.5f) k++;
  int32_t q = (r < 0.0f ? -k : k) + zp;
  return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

void th_load_tensor(void) {
  hb_tensor_info_t in;
  input_ok = 0;
  if (!ready || hb_engine_input_info(&engine, 0, &in) != HB_OK) return;
  size_t elems = in.type == HB_FLOAT32 ? in.bytes / 4u : in.bytes;
  int as_float = in.type == HB_FLOAT32 || input_enc == EE_IN_FLOAT32;
  size_t need = as_float ? elems * 4u : elems;
  if (in.type != HB_INT8 && in.type != HB_FLOAT32) {
    th_printf("e-[input tensor type %d is not int8 or float32]\r\n", in.type);
  } else if (ee_buf_pos != need || ee_buf_size != need) {
    th_printf("e-[Input db has %lu bytes, expected %lu]\r\n", (unsigned long)ee_buf_pos, (unsigned long)need);
  } else {
    uint8_t *dst = hb_engine_input(&engine, 0);
    if (in.type == HB_FLOAT32 || input_enc == EE_IN_INT8) {
      memcpy(dst, ee_buf, need);
    } else if (input_enc == EE_IN_UINT8) {
      for (size_t i = 0; i < elems; i++) dst[i] = (uint8_t)(ee_buf[i] - 128u);
    } else {
      for (size_t i = 0; i < elems; i++) {
        float f;
        memcpy(&f, ee_buf + 4u * i, 4u);
        dst[i] = (uint8_t)quantize(f, in.scale, in.zero_point);
      }
    }
    staged_len = in.bytes;
    memcpy(staged, dst, staged_len);
    input_ok = 1;
  }
}

void th_infer(void) {
  if (!input_ok) return;
  memcpy(hb_engine_input(&engine, 0), staged, staged_len);
  (void)hb_engine_invoke(&engine, 0, 0, 0);
}
void th_pre(void) {}
void th_post(void) {}

/* Element i of output `o` as the float the reference prints. */
static float out_value(const hb_tensor_info_t *t, const uint8_t *p, size_t i) {
  float f;
  if (t->type == HB_FLOAT32) {
    memcpy(&f, p + 4u * i, 4u);
    return f;
  }
  return (float)((int32_t)(int8_t)p[i] - t->zero_point) * t->scale;
}

/* Input element i as a float: the value the host sent when it sent floats, else dequantised. */
static float in_value(const hb_tensor_info_t *t, const uint8_t *p, size_t i) {
  float f;
  if (t->type == HB_FLOAT32 || input_enc != EE_IN_FLOAT32) return out_value(t, p, i);
  memcpy(&f, ee_buf + 4u * i, 4u);
  return f;
}

/* ad01's score: mean squared difference of the dequantised output and the float input. */
static float anomaly_score(void) {
  hb_tensor_info_t in, out;
  hb_engine_input_info(&engine, 0, &in);
  hb_engine_output_info(&engine, 0, &out);
  const uint8_t *x = hb_engine_input(&engine, 0), *y = hb_engine_output(&engine, 0);
  size_t n = out.type == HB_FLOAT32 ? out.bytes / 4u : out.bytes;
  size_t nin = in.type == HB_FLOAT32 ? in.bytes / 4u : in.bytes;
  float sum = 0.0f;
  for (size_t i = 0; i < n && i < nin; i++) {
    float d = out_value(&out, y, i) - in_value(&in, x, i);
    sum += d * d;
  }
  return n ? sum / (float)n : 0.0f;
}

static void print_value(float v, int first) {
  char num[32];
  if (!first) ee_write(",", 1);
  ee_write(num, ee_fmt3(num, v, results_fmt == EE_RES_TRUNC3));
}

void th_results(void) {
  th_printf("m-results-[");
  if (ready && results_fmt == EE_RES_SCORE) {
    print_value(anomaly_score(), 1);
  } else if (ready) {
    int first = 1;
    for (int o = 0; o < hb_engine_num_outputs(&engine); o++) {
      hb_tensor_info_t t;
      hb_engine_output_info(&engine, o, &t);
      const uint8_t *p = hb_engine_output(&engine, o);
      size_t n = t.type == HB_FLOAT32 ? t.bytes / 4u : t.bytes;
      for (size_t i = 0; i < n; i++, first = 0) {
        if (results_fmt == EE_RES_INT8 && t.type == HB_INT8) th_printf(first ? "%d" : ",%d", (int)(int8_t)p[i]);
        else print_value(out_value(&t, p, i), first);
      }
    }
  }
  th_printf("]\r\n");
}

/* `infer N W`: only th_pre, the N inferences and th_post lie between the two clock reads; both
 * stamps print afterwards (the reference prints the first inside the window). The second stamp
 * is the first plus the window's exact tick count in µs, rounded: under QEMU -icount the
 * difference repeats exactly, whatever the first stamp's phase. */
void ee_infer(uint32_t n, uint32_t w) {
  if (!ready) {
    th_printf("e-[model not loaded: %s]\r\n", load_err.text);
    return;
  }
  th_load_tensor();
  if (!input_ok) return;
  th_printf("m-warmup-start-%lu\r\n", (unsigned long)w);
  while (w-- > 0) th_infer();
  th_printf("m-warmup-done\r\nm-infer-start-%lu\r\n", (unsigned long)n);
  port_clock_sync();
  uint64_t t0 = ee_ticks();
  th_pre();
  for (uint32_t i = 0; i < n; i++) th_infer();
  th_post();
  uint64_t t1 = ee_ticks(), tpu = ee_cfg->ticks_per_us;
  print_lap(t0 / tpu);
  print_lap(t0 / tpu + (t1 - t0 + tpu / 2u) / tpu);
  th_printf("m-infer-done\r\n");
  th_results();
}

void ee_start(const ee_config_t *cfg) {
  ee_cfg = cfg;
  ticks_last = port_clock();
  th_timestamp_initialize();
  th_final_initialize();
  th_printf("m-init-done\r\nm-ready\r\n");
}
