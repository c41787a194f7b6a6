/* Our engine behind the MLPerf Tiny (EEMBC) benchmark API and serial protocol, written here from
 * the published interface (mlcommons/tiny benchmark/api, docs/eembc.md): the th_* functions a
 * submitter implements, and the ee_* side that parses the host's `%`-terminated commands.
 * A test device for harness/drivers/eembc*.py: any firmware speaking this protocol is measured
 * the same way. Board-independent: boards (ee_board.c) and the native stdio build (ee_native.c)
 * call ee_start() once and ee_serial_char() per received byte. */
#ifndef EE_API_H
#define EE_API_H

#include <stddef.h>
#include <stdint.h>

/* Protocol facts (docs/eembc.md). */
#define EE_CMD_MAX 80u           /* command characters before the '%' */
#define EE_FW_VERSION "ULPMark for tinyML Firmware V0.0.1"

/* How `db` bytes become the input tensor (the reference submissions' conventions). */
enum { EE_IN_INT8 = 0,     /* kws01: the int8 bytes as they are */
       EE_IN_UINT8 = 1,    /* ic01, vww01: uint8 pixels, minus 128 */
       EE_IN_FLOAT32 = 2,  /* ad01: little-endian float32, quantised with the input scale */
       EE_IN_DEFAULT = 255 };
/* How th_results prints the output. */
enum { EE_RES_TRUNC3 = 0,  /* kws01 reference: dequantised, truncated to 3 decimals */
       EE_RES_ROUND3 = 1,  /* ic01, vww01 reference: dequantised, %0.3f */
       EE_RES_INT8 = 2,    /* raw int8 values (not a reference format: exact for any scale) */
       EE_RES_SCORE = 3,   /* ad01 reference: mean squared error of output vs input, %0.3f */
       EE_RES_DEFAULT = 255 };

typedef struct {
  const uint8_t *model;    /* the .tflite compiled in, 16-byte aligned */
  size_t model_len;
  uint8_t *arena;
  size_t arena_len;
  const char *model_id;    /* m-model-[...]: kws01, vww01, ic01, ad01 or any [a-z0-9]+ */
  const char *vendor;      /* m-name-dut-[...] */
  int input_enc, results_fmt;  /* EE_IN_*, EE_RES_*; *_DEFAULT: the model id's */
  uint32_t ticks_per_us;   /* port_clock() ticks per microsecond */
} ee_config_t;

void ee_start(const ee_config_t *cfg);  /* load the model, print the boot banner */
void ee_serial_char(char c);            /* one received character; runs a command at '%' */

/* ---- the submitter API (mlcommons/tiny benchmark/api/submitter_implemented.h) ---- */
void th_load_tensor(void);
void th_results(void);
void th_infer(void);
void th_timestamp(void);
void th_printf(const char *fmt, ...);
void th_pre(void);
void th_post(void);
void th_final_initialize(void);
void th_timestamp_initialize(void);

/* ---- shared between ee_serial.c, th_engine.c and ee_print.c ---- */
extern const ee_config_t *ee_cfg;
extern uint8_t ee_buf[];           /* the `db` buffer */
extern size_t ee_buf_size, ee_buf_pos;
#define EE_BUF_BYTES (96u * 96u * 3u + 1024u)  /* the largest reference input (vww01) and more */

uint64_t ee_ticks(void);           /* port_clock() extended to 64 bits */
void ee_infer(uint32_t n, uint32_t warmup);
void ee_write(const char *s, size_t n);
/* v with 3 decimals into out (>= 24 bytes), rounded like printf("%.3f") or truncated like the
 * kws01 reference; returns the length. */
size_t ee_fmt3(char *out, float v, int truncate);

#endif
