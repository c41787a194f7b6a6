/* What dwconv3x3_dsp.c (ring, weight sets, the op) shares with dwconv3x3_rows_dsp.c (the MAC,
 * requantisation and store loops of one output row): the ring and weight-set layouts and the
 * job the row loops take. */
#ifndef HB_DWCONV3X3_ROWS_H
#define HB_DWCONV3X3_ROWS_H
#include <stdint.h>

#define D3_BLK 24 /* words in a ring block: 4 channels x 3 slots x 2 words */
/* Words in a weight set: m, k', the tail word, bias2, {W01, W12} for slots 1, 2, 0, r. */
#define D3_SET 11
#define D3_CH (3 * D3_SET)
#define D3_CH_BYTES "132" /* D3_CH * 4, for the asm */

/* One output row of the tile's groups (4 channels each). Field offsets are used by the asm;
 * it advances p, wp, y and ng group by group. A row has nbf full blocks of 4 outputs and, when
 * the width is not a multiple of 4, one partial block (its code in `part`). */
typedef struct {
  const uint32_t *p;  /*  0: ring words of the group's channel 0 at block 0 */
  int32_t nbf_bytes;  /*  4: ring bytes the full blocks step over */
  const int32_t *wp;  /*  8: channel 0's weight set + 3 (its bias2); D3_CH words per channel */
  uint8_t *st;        /* 12: collected bytes, one word per pixel */
  int32_t nb16m1;     /* 16: 16 * (blocks, the partial one included) - 1 */
  int8_t *y;          /* 20: output of the group's first channel at pixel 0 */
  int32_t C;          /* 24: output pixel stride (channels) */
  int32_t nq, nr;     /* 28, 32: pixels to store: nq quads, then nr single pixels */
  uint32_t dd, ll;    /* 36, 40: act_max - act_min and act_min in each byte */
  int32_t gs;         /* 44: bytes from one group's ring to the next */
  int32_t ng;         /* 48: groups left */
  int32_t nb_m24;     /* 52: ring bytes all blocks step over, minus 24 */
  uint32_t part;      /* 56: hb_d3_part(stride, outputs in the partial block) */
} d3_job_t;

/* The row loops for stride 1 or 2 (bytes of ring a block steps over: 96 or 192). */
void hb_d3_rows(d3_job_t *job, int stride);
/* Weight-set word 2 for shift r (the asm: its tail's address). */
int32_t hb_d3_shift_word(int stride, int r);
/* The job's `part` for a partial block of n outputs (0 when n is 0). */
uint32_t hb_d3_part(int stride, int n);
#endif
