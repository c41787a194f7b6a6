/* Shared main for the ports that include it (boards.mk PORT_SRCS_<board>): the board's
 * names and clock come from its board.h, the buffers from its link.ld; then serve frames. */
#include <stdint.h>

#include "board.h"  /* HB_BOARD_NAME, HB_CPU_NAME, HB_CLOCK_HZ */
#include "port.h"

extern uint8_t __model_start[], __model_end[], __arena_start[], __arena_end[];
const char *port_init(void);

int main(void) {
  static hb_board_t board;
  board.board = HB_BOARD_NAME;
  board.cpu = HB_CPU_NAME;
  board.clock_hz = HB_CLOCK_HZ;
  board.timer = port_init();
  board.model_buf = __model_start;
  board.model_cap = (size_t)(__model_end - __model_start);
  board.arena = __arena_start;
  board.arena_cap = (size_t)(__arena_end - __arena_start);
  hb_serve(&board);
  return 0;
}
