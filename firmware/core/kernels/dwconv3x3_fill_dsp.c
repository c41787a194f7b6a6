/* The 3x3 depthwise kernel's widening (dwconv3x3_rows.h: the ring and map layouts): an input row
 * into the rows of every channel group of the tile, as int16 x - in_zp, padding columns 0.
 *
 * Four pixels' words p0..p3 (4 channels each) give, by PKHBT and PKHTB, the bytes {p0c0,p0c1,
 * p1c0,p1c1}, {p0c2,p0c3,p1c2,p1c3} and the same of p2, p3; SXTAB16 with the offset (and ROR 8)
 * then gives each channel's two column pairs {x - zp} directly, and one STM stores the block's 8
 * words (a ring slot's block and a map block are both 8 contiguous words): 20 instructions per
 * 16 values for the map, 21 for the ring (its next block is 96 bytes on). A row is, per group, in
 * one asm pass: the left edge block {pad, x0, x1, x2} (when the padding is 1 column), the inside
 * blocks, the right edge block (1-3 pixels, then padding); a padding pixel is the zero point in
 * each byte (per tensor), so an edge block costs what an inside one does. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "dwconv3x3_rows.h"

/* Zeros into the blocks from q (span bytes, 8 words every `step` bytes) of each group from q to qend
 * (gstep bytes apart). At least one group and one block: the asm's loops test at their ends (a
 * tile has 4 channels or more, a row one block or more). */
typedef struct {
  uint32_t *q;
  int32_t span, step, gstep;
  const uint32_t *qend;
} d3_zero_job_t;

#ifdef HB_DSP_ASM
_Static_assert(sizeof(d3_widen_job_t) == 40, "the asm's stack frame is the job");
/* Pixels p0 p1 p2 p3 in r10 r11 r8 r9 -> channel i's words {x0,x1},{x2,x3} in r4+2i, r5+2i, stored
 * (off2 in lr). */
#define D3W_BLOCK(STORE)                                                                            \
  "pkhbt r6, r10, r11, lsl #16\n\tpkhtb r10, r11, r10, asr #16\n\t"                               \
  "pkhbt r7, r8, r9, lsl #16\n\tpkhtb r11, r9, r8, asr #16\n\t"                                   \
  "sxtab16 r4, lr, r6\n\tsxtab16 r5, lr, r7\n\tsxtab16 r6, lr, r6, ror #8\n\tsxtab16 r7, lr, r7, ror #8\n\t" \
  "sxtab16 r8, lr, r10\n\tsxtab16 r9, lr, r11\n\tsxtab16 r10, lr, r10, ror #8\n\tsxtab16 r11, lr, r11, ror #8\n\t" \
  STORE
#define D3W_STORE_RING "stm r3, {r4-r11}\n\tadd r3, r3, #96\n\t"
#define D3W_STORE_MAP "stm r3!, {r4-r11}\n\t"
/* Pixel loads (x r0, C r1, 3C r2; the padding pixel from the job at sp + 32): the left edge, 4
 * inside pixels, the right edge's 3, 2, 1 pixels. */
#define D3W_LEFT "ldr r10, [sp, #32]\n\tldr r11, [r0]\n\tldr r8, [r0, r1]\n\tldr r9, [r0, r1, lsl #1]\n\tadd r0, r0, r2\n\t"
#define D3W_IN4 "ldr r10, [r0]\n\tldr r11, [r0, r1]\n\tldr r8, [r0, r1, lsl #1]\n\tldr r9, [r0, r2]\n\tadd r0, r0, r1, lsl #2\n\t"
#define D3W_R3 "ldr r10, [r0]\n\tldr r11, [r0, r1]\n\tldr r8, [r0, r1, lsl #1]\n\tldr r9, [sp, #32]\n\tadd r0, r0, r2\n\t"
#define D3W_R2 "ldr r10, [r0]\n\tldr r11, [r0, r1]\n\tldr r8, [sp, #32]\n\tmov r9, r8\n\tadd r0, r0, r1, lsl #1\n\t"
#define D3W_R1 "ldr r10, [r0]\n\tldr r11, [sp, #32]\n\tmov r8, r11\n\tmov r9, r11\n\tadd r0, r0, r1\n\t"
/* Per group: LEFT (the left edge's block, or nothing), the inside blocks, the right edge (the
 * job's code for it: one of _r1 _r2 _r3, or _next), the next group. */
#define D3W_FN(name, S, LEFT, STORE)                                                                 \
  __attribute__((noinline, noclone)) static void name(const d3_widen_job_t *job, const int8_t *xp, uint32_t *q) { \
    register const d3_widen_job_t *rj __asm__("r0") = job;                                         \
    register const int8_t *rx __asm__("r1") = xp;                                                  \
    register uint32_t *rq __asm__("r2") = q;                                                       \
    __asm__ volatile(                                                                              \
        "sub sp, sp, #40\n\tldm r0, {r3-r12}\n\tstm sp, {r3-r12}\n\t"                             \
        "mov r0, r1\n\tmov r3, r2\n\tmov r1, r4\n\tmov lr, r5\n\tadd r2, r1, r1, lsl #1\n\t"     \
        "add r10, r3, r10\n\tstr r10, [sp, #28]\n" /* the first block past the last group */        \
"0:\n\t" LEFT                                                                              \
        "ldr r12, [sp, #24]\n\tadd r12, r3, r12\n\tcmp r3, r12\n\tbeq 2f\n"                        \
        "1:\n\t" D3W_IN4 D3W_BLOCK(STORE) "cmp r3, r12\n\tbne 1b\n"                                  \
        "2:\n\tldr pc, [sp, #36]\n"                                                                 \
        ".L" S "_r3:\n\t" D3W_R3 D3W_BLOCK(STORE) "b 3f\n"                                           \
        ".L" S "_r2:\n\t" D3W_R2 D3W_BLOCK(STORE) "b 3f\n"                                           \
        ".L" S "_r1:\n\t" D3W_R1 D3W_BLOCK(STORE)                                                   \
        "3:\n"                                                                                      \
        ".L" S "_next:\n\t"                                                                        \
        "ldrd r4, r5, [sp, #16]\n\tadd r0, r0, r4\n\tadd r3, r3, r5\n\t"                            \
        "ldr r4, [sp, #28]\n\tcmp r3, r4\n\tbne 0b\n\t"                                             \
        "add sp, sp, #40"                                                                          \
        : "+r"(rj), "+r"(rx), "+r"(rq)                                                             \
        :                                                                                          \
        : "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");     \
  }
D3W_FN(widen_ring_l, "d3wrl", D3W_LEFT D3W_BLOCK(D3W_STORE_RING), D3W_STORE_RING)
D3W_FN(widen_ring, "d3wr", "", D3W_STORE_RING)
D3W_FN(widen_map_l, "d3wml", D3W_LEFT D3W_BLOCK(D3W_STORE_MAP), D3W_STORE_MAP)
D3W_FN(widen_map, "d3wm", "", D3W_STORE_MAP)

/* The asm for d's layout and left edge into d->wfn, its code for a right edge of kr pixels. */
static void d3_widener(d3_t *d) {
  uint32_t a;
#define D3W_PICK(S, fn)                          \
  {                                              \
    if (d->kr == 0) D3_ADDR(".L" S "_next");     \
    else if (d->kr == 1) D3_ADDR(".L" S "_r1");  \
    else if (d->kr == 2) D3_ADDR(".L" S "_r2");  \
    else D3_ADDR(".L" S "_r3");                  \
    d->wfn = fn;                                 \
  }
  if (d->bw == D3_BLK && d->j0) D3W_PICK("d3wrl", widen_ring_l)
  else if (d->bw == D3_BLK) D3W_PICK("d3wr", widen_ring)
  else if (d->j0) D3W_PICK("d3wml", widen_map_l)
  else D3W_PICK("d3wm", widen_map)
#undef D3W_PICK
  d->wj.right = a;
}

/* One STM a block, 4 instructions. */
__attribute__((noinline)) static void zero_blocks(const d3_zero_job_t *job) {
  register const d3_zero_job_t *rj __asm__("r0") = job;
  __asm__ volatile("ldm r0, {r0, r1, r2, r3, r12}\n\t"
                   "movs r4, #0\n\tmovs r5, #0\n\tmovs r6, #0\n\tmovs r7, #0\n\t"
                   "movs r8, #0\n\tmovs r9, #0\n\tmovs r10, #0\n\tmovs r11, #0\n"
                   "1:\n\tadd lr, r0, r1\n"
                   "2:\n\tstm r0, {r4-r11}\n\tadd r0, r0, r2\n\tcmp r0, lr\n\tbne 2b\n\t"
                   "sub r0, r0, r1\n\tadd r0, r0, r3\n\tcmp r0, r12\n\tbne 1b"
                   : "+r"(rj)
                   :
                   : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc",
                     "memory");
}
#else
/* Pixels a, b (their 4 channels) into channel i's word w[2 i]. */
static inline void widen2(uint32_t a, uint32_t b, uint32_t off2, uint32_t *w) {
  const uint32_t lo = hb_pack16((int32_t)a, (int32_t)b), hi = hb_pkhtb(b, a);
  w[0] = hb_sxtab16(off2, lo); w[2] = hb_sxtab16_ror8(off2, lo);
  w[4] = hb_sxtab16(off2, hi); w[6] = hb_sxtab16_ror8(off2, hi);
}

/* Block w from 4 pixels: n from x (C bytes apart) after `pad` padding pixels, padding after them. */
static void widen_block(const d3_t *d, const int8_t *x, int pad, int n, uint32_t *w) {
  uint32_t px[4];
  for (int k = 0; k < 4; k++) px[k] = k >= pad && k < pad + n ? hb_ld32(x + (size_t)(k - pad) * d->xs) : d->zpw;
  widen2(px[0], px[1], d->off2, w);
  widen2(px[2], px[3], d->off2, w + 1);
}

static void widen_row(const d3_t *d, const int8_t *xp, uint32_t *q, size_t G) {
  const size_t bw = (size_t)d->bw, C = (size_t)d->xs;
  for (size_t g = 0; g < G; g++, xp += 4, q += d->gw) {
    const int8_t *x = xp;
    uint32_t *b = q;
    if (d->j0) widen_block(d, x, 1, 3, b), x += 3 * C, b += bw;
    for (int j = d->j0; j < d->j1; j++, x += 4 * C, b += bw) widen_block(d, x, 0, 4, b);
    if (d->kr) widen_block(d, x, 0, d->kr, b);
  }
}

static void zero_blocks(const d3_zero_job_t *j) {
  for (uint32_t *q = j->q; q != j->qend; q += j->gstep / 4)
    for (int32_t o = 0; o < j->span; o += j->step)
      for (int k = 0; k < 8; k++) q[o / 4 + k] = 0;
}
#endif

int hb_d3_fill_plan(d3_t *d) {
  const int pw = d->pw, W = d->W;
  if (pw > 1 || (pw == 1 && W < 3)) return 0;
  int j1 = (W + pw) / 4;
  if (j1 > d->nj) j1 = d->nj;
  d->j0 = pw;
  d->j1 = j1;
  d->kr = j1 < d->nj ? W + pw - 4 * j1 : 0;
  d->np = 4 * j1 - pw + d->kr;
  d->off2 = hb_pack16(d->p->in_offset, d->p->in_offset);
  d->zpw = 0x01010101u * (uint8_t)(int8_t)-d->p->in_offset;
  d->nz = 0;
  for (int j = j1 + (d->kr > 0); j < d->nj; j++) { /* all padding (the right edge at stride 2): zeroed once */
    if (d->nz == D3_MAX_EDGES) return 0;
    d->zj[d->nz++] = j;
  }
  return 1;
}

void hb_d3_fill_tile(d3_t *d) {
  const d3_widen_job_t j = {0, d->xs, d->off2, 0, 4 - d->np * d->xs, 4 * (d->gw - (d->j1 + (d->kr > 0)) * d->bw),
                            4 * (d->j1 - d->j0) * d->bw, 4 * (d->ct / 4) * d->gw, d->zpw, 0};
  d->wj = j;
#ifdef HB_DSP_ASM
  d3_widener(d);
#endif
}

void hb_d3_zero_pads(const d3_t *d, uint32_t *region, int rows, size_t row_words, int groups) {
  for (int k = 0; k < d->nz; k++)
    for (int r = 0; r < rows; r++) {
      uint32_t *q = region + (size_t)r * row_words + (size_t)d->zj[k] * d->bw;
      const d3_zero_job_t z = {q, 4 * d->bw, 32, 4 * d->gw, q + (size_t)groups * d->gw};
      zero_blocks(&z);
    }
}

void hb_d3_fill(const d3_t *d, int iy, uint32_t *base, int zero_rows) {
  if (iy < 0 || iy >= d->H) { /* a padding row: zeros */
    const d3_zero_job_t z = {base, 4 * d->nj * d->bw, 4 * d->bw, 4 * d->gw, base + (size_t)(d->ct / 4) * d->gw};
    if (zero_rows) zero_blocks(&z);
    return;
  }
  const int8_t *xp = d->x + (size_t)iy * d->rs + d->c0;
#ifdef HB_DSP_ASM
  d->wfn(&d->wj, xp, base);
#else
  widen_row(d, xp, base, (size_t)d->ct / 4);
#endif
}
#endif
