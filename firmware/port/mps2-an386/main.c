/* mps2-an386 (Cortex-M4, 25 MHz): the board's buffers and names, then serve frames. */
#include <stdint.h>

#include "port.h"

extern uint8_t __model_start[], __model_end[], __arena_start[], __arena_end[];
const char *port_init(void);

int main(void) {
  static hb_board_t board;
  board.board = "mps2-an386";
  board.cpu = "cortex-m4";
  board.clock_hz = 25000000u;
  board.timer = port_init();
  board.model_buf = __model_start;
  board.model_cap = (size_t)(__model_end - __model_start);
  board.arena = __arena_start;
  board.arena_cap = (size_t)(__arena_end - __arena_start);
  hb_serve(&board);
  return 0;
}
