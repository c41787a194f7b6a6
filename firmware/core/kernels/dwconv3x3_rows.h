/* What the 3x3 depthwise kernel's files share: the op (dwconv3x3_dsp.c: geometry, weight sets,
 * the drivers), the widening of input rows (dwconv3x3_fill_dsp.c) and the row loops
 * (dwconv3x3_rows_dsp.c: bytes collected, then clamped; dwconv3x3_direct_dsp.c: saturated and
 * stored straight into the output when the activation range is all of int8).
 *
 * Widened input, per group of 4 channels: blocks of 4 padded columns; in a block, channel i's
 * two words {u,u+1},{u+2,u+3} of each row. Two layouts:
 * - ring: three input rows (slots); word 24j + 8s + 2i of block j, channel i, slot s (a row in
 *   slot iy % 3, so the kernel row a slot holds rotates: one weight set per rotation): a slot's
 *   block is 8 contiguous words, as a map block, so the widening stores it with one STM;
 * - map (direct kernel, small maps): every padded input row r of the group, word
 *   r * 8 * D4_NJ + 8j + 2i (the narrow rows: r * 8 * nj + 8j + 2i): no rotation, and a
 *   channel's rows run in one loop. */
#ifndef HB_DWCONV3X3_ROWS_H
#define HB_DWCONV3X3_ROWS_H
#include <stdint.h>
#include "../ops.h"
#include "simd.h"

#ifdef HB_DSP_ASM
/* The asm both row-loop files share (dwconv3x3_rows_dsp.c, dwconv3x3_direct_dsp.c): the
 * requantisation of accumulator a (t: a scratch register; r0 m, r1 k, as the loops load them),
 * the 22 per-shift tails of TAIL(S, r), and a label's address (Thumb bit set) into `a`. */
#define D3_RQ_ASM(a, t) "add " t ", r1, " a ", asr #31\n\tsmmlar " a ", " a ", r0, " t "\n\t"
#define D3_EACH_SHIFT(TAIL, S)                                                                                \
  TAIL(S, "1") TAIL(S, "2") TAIL(S, "3") TAIL(S, "4") TAIL(S, "5") TAIL(S, "6") TAIL(S, "7") TAIL(S, "8")       \
  TAIL(S, "9") TAIL(S, "10") TAIL(S, "11") TAIL(S, "12") TAIL(S, "13") TAIL(S, "14") TAIL(S, "15")             \
  TAIL(S, "16") TAIL(S, "17") TAIL(S, "18") TAIL(S, "19") TAIL(S, "20") TAIL(S, "21") TAIL(S, "22")
#define D3_ADDR(label) \
  __asm__("movw %0, #:lower16:" label "\n\tmovt %0, #:upper16:" label "\n\tadds %0, %0, #1" : "=r"(a) : : "cc")
#endif

#define D3_BLK 24 /* words in a ring block: 3 slots x 4 channels x 2 words */
#define D3_SLOT 8 /* words from a ring slot to the next in a block */
#define D3_SL "32" /* the same in bytes, for the asm */
/* Words in a weight set: m, k', the tail word, bias2, {W01, W12} for slots 1, 2, 0, r. */
#define D3_SET 11
#define D3_CH (3 * D3_SET)
#define D3_CH_BYTES "132" /* D3_CH * 4, for the asm */
#define D4_NJ 5            /* map layout: blocks a row */
/* The direct kernel's set: D3_SET's words, then the channel's byte offsets in the widened
 * input (from the job's p) and in the output (from its y). */
#define D4_SET 13
#define D3_MAX_EDGES 4 /* all-padding blocks of a row */

/* A row's widening (dwconv3x3_fill_dsp.c), made once a tile (hb_d3_fill_tile); field offsets are
 * the asm's, which copies it to its stack: the pixel step, the offset, the steps from where a
 * group's row ends to the next group's first pixel and block, the bytes of the inside blocks and of
 * all groups, a padding pixel, the right edge's code (the asm's). Words 0 and 3 (a row's first
 * pixel and block) are the call's. */
typedef struct {
  const int8_t *xp;
  int32_t C;
  uint32_t off2;
  uint32_t *q;
  int32_t xstep, qstep, span, qlen;
  uint32_t zpw, right;
} d3_widen_job_t;

typedef struct {
  const hb_conv_params_t *p;
  const int8_t *x;      /* the batch's input */
  int H, W, C;          /* rows widened (input rows; columns when transposed), their length, channels */
  int xs, rs, pw;       /* input bytes from a pixel of a row to the next, from a row to the next;
                           the padding before a row */
  int nb, nj;           /* output blocks of 4 columns per row; widened blocks (stride * nb + 1) */
  int c0, ct;           /* the tile's channels [c0, c0 + ct) */
  uint32_t *ring;       /* the widened input: ct / 4 groups of gw words */
  int gw, bw, cw;       /* words: a group, a block (24 ring, 8 map), a channel in a block (2) */
  /* The widening's plan (hb_d3_fill_plan, once per op), a row's blocks in order: block 0 is the
   * left edge {pad, x0, x1, x2} when j0 is 1; blocks [j0, j1) have their 4 columns inside the
   * input; block j1 is the right edge when kr > 0 (kr columns inside, then padding); the nz
   * blocks zj are all padding (zeroed once, hb_d3_zero_pads, and never widened). np: the pixels
   * a row's widening reads; off2: -in_zp in both halves; zpw: the zero point in each byte (a
   * padding pixel of 4 channels: the input's zero point is per tensor). */
  int j0, j1, kr, np;
  int nz;
  int zj[D3_MAX_EDGES];
  uint32_t off2, zpw;
  d3_widen_job_t wj; /* the tile's (hb_d3_fill_tile) */
  void (*wfn)(const d3_widen_job_t *, const int8_t *, uint32_t *);
} d3_t;

/* dwconv3x3_fill_dsp.c: d's plan from its geometry (H, W, xs, pw, nj); 0 when a row does not
 * have that shape (padding of more than 1 column on the left, a left edge block that is also the
 * right one, more than D3_MAX_EDGES all-padding blocks): the op then takes another kernel. */
int hb_d3_fill_plan(d3_t *d);

/* dwconv3x3_fill_dsp.c: d's row widening for its tile (d->ct channels), the layout (bw, gw) set. */
void hb_d3_fill_tile(d3_t *d);

/* dwconv3x3_fill_dsp.c: zeros into d's all-padding blocks of `groups` groups at region (ring:
 * rows 1, a block's 24 words hold its 3 slots; map: `rows` rows of row_words words). */
void hb_d3_zero_pads(const d3_t *d, uint32_t *region, int rows, size_t row_words, int groups);

/* dwconv3x3_fill_dsp.c: input row iy (zeros outside the input when zero_rows) into the rows at
 * base (ring: d->ring + D3_SLOT * slot; map: the map row's first word) of every group of the tile. */
void hb_d3_fill(const d3_t *d, int iy, uint32_t *base, int zero_rows);

/* One output row of the tile's groups (4 channels each), the collecting kernel. Field offsets are
 * used by the asm; it advances p, wp, y and ng group by group. A row has nbf full blocks of 4
 * outputs and, when the width is not a multiple of 4, one partial block (its code in `part`). */
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
  int32_t nb_m8;      /* 52: ring bytes all blocks step over, minus 8 (a channel's words) */
  uint32_t part;      /* 56: hb_d3_part(stride, outputs in the partial block) */
} d3_job_t;

/* The row loops for stride 1 or 2 (bytes of ring a block steps over: 96 or 192). */
void hb_d3_rows(d3_job_t *job, int stride);
/* Weight-set word 2 for shift r (the asm: its tail's address). */
int32_t hb_d3_shift_word(int stride, int r);
/* The job's `part` for a partial block of n outputs (0 when n is 0). */
uint32_t hb_d3_part(int stride, int n);

/* The direct kernel: channel by channel (sets D4_SET * `wstep` words apart), per channel `rows`
 * output rows (map; 1 for the ring), per row the full blocks, the partial one, saturated outputs
 * stored at y + yoff, ys bytes apart. Field offsets are used by the asm. */
typedef struct {
  const uint32_t *p;   /*  0: the widened input (the C form; the asm takes each channel's pointer from its set) */
  int32_t nbf_bytes;   /*  4: bytes the full blocks of a row step over */
  const int32_t *wp;   /*  8: the first channel's set + 3 (its bias2) */
  int32_t ys, ys3;     /* 12, 16: output bytes from a pixel to the next along a row, 3 times that */
  int8_t *y;           /* 20: the output (each channel's offset in its set) */
  int32_t rows;        /* 24: output rows a channel (map) */
  int32_t prow, yrow;  /* 28, 32: input bytes, output bytes from a row's start to the next's (map) */
  uint32_t part;       /* 36: hb_d4_part(kind, outputs in the partial block): the asm's code for
                          them, or (none) for the next row; the C form's count */
  const int32_t *wpe;  /* 40: wp past the last channel */
  int32_t wstep;       /* 44: bytes from a channel's set to the next's (the asm: an immediate) */
  int32_t rl;          /* 48: the asm's: rows left */
  const uint32_t *pr;  /* 52: the asm's: the row's start */
  int8_t *yr;          /* 56: the asm's: the row's output */
  uint32_t entry;      /* 60: hb_d4_entry: where the asm starts a row (the C form: unused) */
} d4_job_t;

enum { D4_RING_S1, D4_RING_S2, D4_MAP_S1, D4_MAP_S2 };
void hb_d4_rows(d4_job_t *job, int kind);
int32_t hb_d4_shift_word(int kind, int r);
uint32_t hb_d4_part(int kind, int n);
/* The job's entry for rows of nbf full blocks and a partial one of n outputs. */
uint32_t hb_d4_entry(int kind, int nbf, int n);

/* The weight sets of channels [c0, c0 + n) (their filter taps at w + c, C apart; tr: transposed)
 * at set, `step` words apart: nrot = 3 for the ring, one per rotation t (slot s holds kernel row
 * (s - t) mod 3), 1 for the map (rotation 0); words each: m, k (fold: act_min folded in), the
 * shift word (words[r]), bias2, {W01, W12} doubled for slots 1, 2, 0 (kernel rows 1 2 0, then
 * 0 1 2, then 2 0 1), r: D3_SET words for the collecting kernel (fold); the direct kernel's
 * D4_SET add the channel's input and output byte offsets (the input's from gw and cw, the
 * layout's words a group and a channel in a block). */
typedef struct {
  const hb_conv_params_t *p;
  const int8_t *w;
  const int32_t *words;
  int C, tr, nrot, fold, gw, cw;
  int32_t in; /* added to the input offsets: the widened input's address with the asm (its loops
                 take the channel's pointer from the set), 0 in C (a 64-bit host's pointers) */
} d3_sets_t;

/* d3_sets_t's `in` for the widened input at w. */
static inline int32_t hb_d3_in(const uint32_t *w) {
#ifdef HB_DSP_ASM
  return (int32_t)(uintptr_t)w;
#else
  (void)w;
  return 0;
#endif
}
void hb_d3_sets(const d3_sets_t *a, int c0, int n, int32_t *set);

/* The narrow map rows (dwconv3x3_narrow_dsp.c, asm builds only): a row of n = 6 or 3 outputs at
 * stride 1 in one pass. Field offsets are used by the asm, which copies the job to its stack. */
typedef struct {
  const uint32_t *p;  /*  0: the map (unused: each channel's pointer is in its set) */
  int8_t *y;          /*  4: the output (each channel's offset in its set) */
  const int32_t *wp;  /*  8: the first channel's set + 3 (its bias2) */
  const int32_t *wpe; /* 12: wp past the last channel */
  int32_t wstep;      /* 16: bytes from a channel's set to the next's */
  int32_t ys, ys3;    /* 20, 24: output bytes from a pixel to the next along a row, 3 times that */
  int32_t yadv;       /* 28: output bytes from where a row's tail leaves y to the next row's start */
  int32_t pbytes;     /* 32: map bytes a channel's rows step over (rows x row stride x stride) */
  int32_t pend;       /* 36: the asm's */
} d5_job_t;
void hb_d5_rows(const d5_job_t *job, int n);
/* The map's row stride the narrow rows take: their nj blocks (2, or 4 for 6 outputs at stride 2). */
int hb_d5_row_bytes(void);
int32_t hb_d5_shift_word(int n, int r);
#endif
