/* main() of the MLPerf Tiny protocol image on a board: the port's UART and clock
 * (port/common/cmsdk.c on the QEMU MPS boards), the model compiled in by model.S, the board's
 * RAM from its link.ld as the arena (its model buffer too: the model stays in flash). */
#include <stdint.h>

#include "board.h"  /* HB_BOARD_NAME, HB_CLOCK_HZ */
#include "ee_api.h"
#include "port.h"

extern uint8_t __model_start[], __arena_end[];
extern const uint8_t ee_blob_model[], ee_blob_model_end[];
extern const char ee_blob_id[];
extern const uint8_t ee_blob_input, ee_blob_results;
const char *port_init(void);

int main(void) {
  static ee_config_t cfg;
  (void)port_init();
  cfg.model = ee_blob_model;
  cfg.model_len = (size_t)(ee_blob_model_end - ee_blob_model);
  cfg.arena = __model_start;
  cfg.arena_len = (size_t)(__arena_end - __model_start);
  cfg.model_id = ee_blob_id;
  cfg.vendor = "hb-engine-" HB_BOARD_NAME;
  cfg.input_enc = ee_blob_input;
  cfg.results_fmt = ee_blob_results;
  cfg.ticks_per_us = HB_CLOCK_HZ / 1000000u;
  ee_start(&cfg);
  for (;;) ee_serial_char((char)port_getc());
}
