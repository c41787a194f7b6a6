/* The 3x3 depthwise kernel's widening (dwconv3x3_rows.h: the ring and map layouts): an input row
 * into the rows of every channel group of the tile, as int16 x - in_zp, padding columns 0.
 *
 * Two pixels' words a, b (4 channels each) give, by PKHBT and PKHTB, the bytes {a0,a1,b0,b1} and
 * {a2,a3,b2,b3}; SXTAB16 with the offset (and ROR 8) then gives each channel's two columns
 * {x - zp} directly: per 2 pixels 2 packs and 4 extends. Blocks whose 4 columns are inside the
 * input go 4 pixels at a time (23 instructions per 16 values), the others from 4 pixel pointers,
 * padding pixels pointing at a row of zero points (27 a block and group). Each asm comes twice:
 * for the ring (channels 24 bytes apart in a block, blocks 96) and the map (8, 32). */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "dwconv3x3_rows.h"

#ifdef HB_DSP_ASM
/* What the inside blocks' asm loads: group 0's first pixel and word, the pixel step, the offset;
 * the steps from a group's last inside block to the next group's first (words, pixels), where the
 * words end (the last group's step taken), the bytes of a group's inside blocks. */
typedef struct {
  const int8_t *xp;
  int32_t C;
  uint32_t off2;
  uint32_t *q;
  int32_t qstep, xstep;
  const uint32_t *qend;
  int32_t span;
} d3_widen_job_t;

/* The inside blocks of every group of the tile, 4 pixels (16 values) a pass; per group 9 more
 * instructions (a C loop around one call per group took about 25). */
#define D3_WIDEN_FN(name, c1, c2, c3, blk)                                                                  \
  __attribute__((noinline)) static void name(const d3_widen_job_t *job) {                                   \
    register const d3_widen_job_t *rj __asm__("r0") = job;                                                  \
    __asm__ volatile(                                                                                       \
        "mov lr, r0\n\t"                                                                                    \
        "ldm lr, {r0, r1, r2, r3}\n\t"                                                                     \
        "ldr r4, [lr, #28]\n\t"                                                                            \
        "add r12, r3, r4\n\t"                                                                              \
        "add r10, r1, r1\n\t"                                                                              \
        "add r11, r10, r1\n\t"                                                                             \
        "1:\n\t"                                                                                            \
        "ldr r4, [r0]\n\tldr r5, [r0, r1]\n\tldr r6, [r0, r10]\n\tldr r7, [r0, r11]\n\t"                   \
        "add r0, r0, r1, lsl #2\n\t"                                                                       \
        "pkhbt r8, r4, r5, lsl #16\n\tpkhtb r4, r5, r4, asr #16\n\t" /* pixels 0, 1 */                      \
        "pkhbt r9, r6, r7, lsl #16\n\tpkhtb r6, r7, r6, asr #16\n\t" /* pixels 2, 3 */                      \
        "sxtab16 r5, r2, r8, ror #8\n\tsxtab16 r7, r2, r9, ror #8\n\t"                                      \
        "strd r5, r7, [r3, #" c1 "]\n\t" /* channel 1 */                                                   \
        "sxtab16 r5, r2, r4\n\tsxtab16 r7, r2, r6\n\t"                                                      \
        "strd r5, r7, [r3, #" c2 "]\n\t" /* channel 2 */                                                   \
        "sxtab16 r5, r2, r4, ror #8\n\tsxtab16 r7, r2, r6, ror #8\n\t"                                      \
        "strd r5, r7, [r3, #" c3 "]\n\t" /* channel 3 */                                                   \
        "sxtab16 r5, r2, r8\n\tsxtab16 r7, r2, r9\n\t"                                                      \
        "strd r5, r7, [r3], #" blk "\n\t" /* channel 0 */                                                  \
        "cmp r3, r12\n\t"                                                                                  \
        "bne 1b\n\t"                                                                                       \
        "ldrd r4, r5, [lr, #16]\n\t" /* the next group */                                                 \
        "add r3, r3, r4\n\t"                                                                               \
        "add r0, r0, r5\n\t"                                                                               \
        "ldrd r4, r5, [lr, #24]\n\t"                                                                       \
        "cmp r3, r4\n\t"                                                                                   \
        "add r12, r3, r5\n\t"                                                                              \
        "bne 1b"                                                                                            \
        : "+r"(rj)                                                                                          \
        :                                                                                                   \
        : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory"); \
  }
D3_WIDEN_FN(widen_ring, "8", "16", "24", "96")
D3_WIDEN_FN(widen_map, "8", "16", "24", "32")

/* What the edge blocks' asm loads: the row's first pixel, the zero points' row, the row's first
 * word, the bytes every group's block spans (G groups), from a group's block to the next, the
 * offset, the plan's first edge and the end of its edges (d3_t.ep). */
typedef struct {
  const int8_t *xrow, *zp;
  uint32_t *base;
  int32_t span, gs;
  uint32_t off2;
  const int32_t *ep, *epe;
} d3_edge_job_t;

/* Each edge block of the row in every group of the tile from 4 pixel pointers (padding: the zero
 * points' row) that advance 4 channels a group: per edge 25 instructions to find them, then 27 a
 * group. */
#define D3_EDGE_PX(r) "cmp " r ", #0\n\tite lt\n\tmovlt " r ", r5\n\taddge " r ", " r ", r4\n\t"
#define D3_EDGE_ASM(pa, pb, o, c)                                                                \
  "ldr r4, [" pa "], #4\n\tldr r5, [" pb "], #4\n\t"                                             \
  "pkhbt r6, r4, r5, lsl #16\n\tpkhtb r4, r5, r4, asr #16\n\t"                                   \
  "sxtab16 r5, r10, r6\n\tstr r5, [r9, #" o "]\n\t"                                               \
  "sxtab16 r5, r10, r6, ror #8\n\tstr r5, [r9, #(" o "+" c ")]\n\t"                               \
  "sxtab16 r5, r10, r4\n\tstr r5, [r9, #(" o "+2*" c ")]\n\t"                                     \
  "sxtab16 r5, r10, r4, ror #8\n\tstr r5, [r9, #(" o "+3*" c ")]\n\t"
#define D3_EDGE_FN(name, c, blk)                                                                              \
  __attribute__((noinline)) static void name(const d3_edge_job_t *job) {                                   \
    register const d3_edge_job_t *rj __asm__("r0") = job;                                                  \
    __asm__ volatile("mov lr, r0\n\t"                                                                      \
                     "ldrd r12, r10, [lr, #16]\n\t"                                                        \
                     "ldrd r7, r8, [lr, #24]\n"                                                            \
                     "2:\n\t"                                                                              \
                     "ldm r7!, {r0, r1, r2, r3, r9}\n\t" /* the edge: 4 pixel offsets, its block */       \
                     "ldrd r4, r5, [lr]\n\t" D3_EDGE_PX("r0") D3_EDGE_PX("r1") D3_EDGE_PX("r2")            \
                     D3_EDGE_PX("r3")                                                                      \
                     "ldrd r4, r11, [lr, #8]\n\t"                                                          \
                     "mov r6, #" blk "\n\t"                                                                \
                     "mla r9, r9, r6, r4\n\t" /* the block's first word */                                \
                     "add r11, r11, r9\n"                                                                   \
                     "1:\n\t" D3_EDGE_ASM("r0", "r1", "0", c) D3_EDGE_ASM("r2", "r3", "4", c)              \
                     "add r9, r9, r12\n\t"                                                                 \
                     "cmp r9, r11\n\t"                                                                     \
                     "bne 1b\n\t"                                                                          \
                     "cmp r7, r8\n\t"                                                                      \
                     "bne 2b"                                                                              \
                     : "+r"(rj)                                                                            \
                     :                                                                                     \
                     : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr",    \
                       "cc", "memory");                                                                    \
  }
D3_EDGE_FN(edge_ring, "8", "96")
D3_EDGE_FN(edge_map, "8", "32")
#undef D3_EDGE_ASM
#undef D3_EDGE_PX

/* Blocks [q, q + span) of each of G groups (gw words apart) from the pixels at xp (4 bytes a group). */
static void widen(const d3_t *d, const int8_t *xp, uint32_t *q, size_t span, size_t G) {
  const int32_t C = d->xs, sb = (int32_t)(4 * span), nblk = (int32_t)(span / (size_t)d->bw);
  const d3_widen_job_t job = {xp, C, d->off2, q, 4 * d->gw - sb, 4 - 4 * C * nblk, q + G * (size_t)d->gw, sb};
  (d->bw == D3_BLK ? widen_ring : widen_map)(&job);
}
/* The plan's edge blocks of the row at xrow into the row at base of each of G groups. */
static void widen_edges(const d3_t *d, const int8_t *xrow, const int8_t *zp, uint32_t *base, size_t G) {
  const d3_edge_job_t job = {xrow, zp, base, (int32_t)(4 * G * (size_t)d->gw), 4 * d->gw, d->off2, d->ep[0],
                             d->ep[d->ne]};
  (d->bw == D3_BLK ? edge_ring : edge_map)(&job);
}
#else
/* Channels 0-3 of pixels a, b: words w[0], w[cw], w[2 cw], w[3 cw]. */
static inline void widen2(uint32_t a, uint32_t b, uint32_t off2, uint32_t *w, int cw) {
  const uint32_t lo = hb_pack16((int32_t)a, (int32_t)b), hi = hb_pkhtb(b, a);
  w[0] = hb_sxtab16(off2, lo); w[cw] = hb_sxtab16_ror8(off2, lo);
  w[2 * cw] = hb_sxtab16(off2, hi); w[3 * cw] = hb_sxtab16_ror8(off2, hi);
}

static void widen(const d3_t *d, const int8_t *xp, uint32_t *q, size_t span, size_t G) {
  const size_t C = (size_t)d->xs;
  for (size_t g = 0; g < G; g++, xp += 4, q += d->gw) {
    const int8_t *x = xp;
    for (uint32_t *b = q; b != q + span; b += d->bw, x += 4 * C) {
      widen2(hb_ld32(x), hb_ld32(x + C), d->off2, b, d->cw);
      widen2(hb_ld32(x + 2 * C), hb_ld32(x + 3 * C), d->off2, b + 1, d->cw);
    }
  }
}

static void widen_edges(const d3_t *d, const int8_t *xrow, const int8_t *zp, uint32_t *base, size_t G) {
  for (int k = 0; k < d->ne; k++) {
    const int32_t *e = d->ep[k];
    const int8_t *px[4] = {e[0] < 0 ? zp : xrow + e[0], e[1] < 0 ? zp : xrow + e[1], e[2] < 0 ? zp : xrow + e[2],
                           e[3] < 0 ? zp : xrow + e[3]};
    uint32_t *q = base + (size_t)e[4] * d->bw;
    for (size_t g = 0, n = 0; g < G; g++, q += d->gw, n += 4) {
      widen2(hb_ld32(px[0] + n), hb_ld32(px[1] + n), d->off2, q, d->cw);
      widen2(hb_ld32(px[2] + n), hb_ld32(px[3] + n), d->off2, q + 1, d->cw);
    }
  }
}
#endif

int hb_d3_fill_plan(d3_t *d) {
  const int pw = d->pw;
  int j0 = (pw + 3) / 4, j1 = d->W + pw >= 4 ? (d->W + pw - 4) / 4 + 1 : 0;
  if (j1 > d->nj) j1 = d->nj;
  if (j1 < j0) j1 = j0;
  d->j0 = j0, d->j1 = j1, d->ne = 0;
  d->off2 = hb_pack16(d->p->in_offset, d->p->in_offset);
  d->nz = 0;
  for (int j = 0; j < d->nj; j++) {
    if (j >= j0 && j < j1) continue;
    int32_t o[4];
    int pads = 0;
    for (int k = 0; k < 4; k++) {
      const int ix = 4 * j + k - pw;
      o[k] = ix >= 0 && ix < d->W ? ix * d->xs : -1;
      pads += o[k] < 0;
    }
    if (pads == 4) { /* all padding (the right edge at stride 2): zeroed once, not widened every row */
      if (d->nz == D3_MAX_EDGES) return 0;
      d->zj[d->nz++] = j;
      continue;
    }
    if (d->ne == D3_MAX_EDGES) return 0;
    for (int k = 0; k < 4; k++) d->ep[d->ne][k] = o[k];
    d->ep[d->ne][4] = j;
    d->ne++;
  }
  return 1;
}

/* Two zero words a store (HB_OPAQUE: not a memset call, ~40 instructions for these few bytes). */
static void zero_words(uint32_t *w, size_t n) {
  for (uint32_t *we = w + n; w < we; w += 2) {
    HB_OPAQUE(w);
    w[0] = w[1] = 0;
  }
}

void hb_d3_zero_pads(const d3_t *d, uint32_t *region, int rows, size_t row_words, int groups) {
  const size_t bw = (size_t)d->bw;
  for (int k = 0; k < d->nz; k++)
    for (int g = 0; g < groups; g++)
      for (int r = 0; r < rows; r++)
        zero_words(region + (size_t)g * (size_t)d->gw + (size_t)r * row_words + (size_t)d->zj[k] * bw, bw);
}

/* A padding row: zeros (a map row's blocks are contiguous; a ring block's slot is 4 pairs). */
static void fill_zeros(const d3_t *d, uint32_t *base) {
  const size_t gw = (size_t)d->gw, bw = (size_t)d->bw;
  for (uint32_t *q = base, *end = base + (size_t)(d->ct / 4) * gw; q < end; q += gw) {
    if (d->bw != D3_BLK) {
      zero_words(q, (size_t)d->nj * bw);
      continue;
    }
    for (uint32_t *b = q, *be = q + (size_t)d->nj * bw; b < be; b += bw)
      b[0] = b[1] = b[2] = b[3] = b[4] = b[5] = b[6] = b[7] = 0;
  }
}

void hb_d3_fill(const d3_t *d, int iy, uint32_t *base, int zero_rows) {
  if (iy < 0 || iy >= d->H) {
    if (zero_rows) fill_zeros(d, base);
    return;
  }
  const int8_t *xrow = d->x + (size_t)iy * d->rs + d->c0, *zp = d->zprow + d->c0;
  const size_t bw = (size_t)d->bw, G = (size_t)d->ct / 4;
  if (d->j1 > d->j0) {
    const int8_t *xp = xrow + (size_t)(4 * d->j0 - d->pw) * d->xs;
    uint32_t *q = base + (size_t)d->j0 * bw;
    widen(d, xp, q, (size_t)(d->j1 - d->j0) * bw, G);
  }
  if (d->ne) widen_edges(d, xrow, zp, base, G);
}
#endif
