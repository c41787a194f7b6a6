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
/* Blocks q .. qe (exclusive) of one group from the 4 channels at xp, pixels C bytes apart. */
#define D3_WIDEN_FN(name, c1, c2, c3, blk)                                                                  \
  __attribute__((noinline)) static void name(const int8_t *xp, int32_t C, uint32_t off2, uint32_t *q,       \
                                             const uint32_t *qe) {                                          \
    register const int8_t *rx __asm__("r0") = xp;                                                           \
    register int32_t rc __asm__("r1") = C;                                                                  \
    register uint32_t ro __asm__("r2") = off2;                                                              \
    register uint32_t *rq __asm__("r3") = q;                                                                \
    register const uint32_t *rqe __asm__("r12") = qe;                                                       \
    __asm__ volatile(                                                                                       \
        "add r10, %[c], %[c]\n\t"                                                                           \
        "add r11, r10, %[c]\n\t"                                                                            \
        "1:\n\t"                                                                                            \
        "ldr r4, [%[x]]\n\tldr r5, [%[x], %[c]]\n\tldr r6, [%[x], r10]\n\tldr r7, [%[x], r11]\n\t"          \
        "add %[x], %[x], %[c], lsl #2\n\t"                                                                  \
        "pkhbt r8, r4, r5, lsl #16\n\tpkhtb r4, r5, r4, asr #16\n\t" /* pixels 0, 1 */                      \
        "pkhbt r9, r6, r7, lsl #16\n\tpkhtb r6, r7, r6, asr #16\n\t" /* pixels 2, 3 */                      \
        "sxtab16 r5, %[o], r8, ror #8\n\tsxtab16 r7, %[o], r9, ror #8\n\t"                                  \
        "strd r5, r7, [%[q], #" c1 "]\n\t" /* channel 1 */                                                  \
        "sxtab16 r5, %[o], r4\n\tsxtab16 r7, %[o], r6\n\t"                                                  \
        "strd r5, r7, [%[q], #" c2 "]\n\t" /* channel 2 */                                                  \
        "sxtab16 r5, %[o], r4, ror #8\n\tsxtab16 r7, %[o], r6, ror #8\n\t"                                  \
        "strd r5, r7, [%[q], #" c3 "]\n\t" /* channel 3 */                                                  \
        "sxtab16 r5, %[o], r8\n\tsxtab16 r7, %[o], r9\n\t"                                                  \
        "strd r5, r7, [%[q]], #" blk "\n\t" /* channel 0 */                                                 \
        "cmp %[q], %[qe]\n\t"                                                                               \
        "bne 1b"                                                                                            \
        : [x] "+r"(rx), [q] "+r"(rq)                                                                        \
        : [c] "r"(rc), [o] "r"(ro), [qe] "r"(rqe)                                                           \
        : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");                                \
  }
D3_WIDEN_FN(widen_ring, "24", "48", "72", "96")
D3_WIDEN_FN(widen_map, "8", "16", "24", "32")

/* One block in every group of the tile, [q, qe) gs bytes apart, from 4 pixel pointers that advance
 * 4 channels a group. */
#define D3_EDGE_ASM(pa, pb, o, c)                                                                \
  "ldr r4, [" pa "], #4\n\tldr r5, [" pb "], #4\n\t"                                             \
  "pkhbt r6, r4, r5, lsl #16\n\tpkhtb r4, r5, r4, asr #16\n\t"                                   \
  "sxtab16 r5, %[o], r6\n\tstr r5, [%[q], #" o "]\n\t"                                           \
  "sxtab16 r5, %[o], r6, ror #8\n\tstr r5, [%[q], #(" o "+" c ")]\n\t"                           \
  "sxtab16 r5, %[o], r4\n\tstr r5, [%[q], #(" o "+2*" c ")]\n\t"                                 \
  "sxtab16 r5, %[o], r4, ror #8\n\tstr r5, [%[q], #(" o "+3*" c ")]\n\t"
#define D3_EDGE_FN(name, c)                                                                                 \
  __attribute__((noinline)) static void name(const int8_t *const px[4], uint32_t off2, uint32_t *q,         \
                                             const uint32_t *qe, int32_t gs) {                              \
    register const int8_t *p0 __asm__("r0") = px[0], *p1 __asm__("r1") = px[1], *p2 __asm__("r2") = px[2], \
                          *p3 __asm__("r3") = px[3];                                                        \
    register uint32_t *rq __asm__("r9") = q, ro __asm__("r10") = off2;                                      \
    register const uint32_t *rqe __asm__("r11") = qe;                                                       \
    register int32_t rgs __asm__("r12") = gs;                                                               \
    __asm__ volatile("1:\n\t" D3_EDGE_ASM("%[p0]", "%[p1]", "0", c) D3_EDGE_ASM("%[p2]", "%[p3]", "4", c) \
                     "add %[q], %[q], %[gs]\n\t"                                                            \
                     "cmp %[q], %[qe]\n\t"                                                                  \
                     "bne 1b"                                                                               \
                     : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [p3] "+r"(p3), [q] "+r"(rq)             \
                     : [o] "r"(ro), [qe] "r"(rqe), [gs] "r"(rgs)                                            \
                     : "r4", "r5", "r6", "cc", "memory");                                                   \
  }
D3_EDGE_FN(edge_ring, "24")
D3_EDGE_FN(edge_map, "8")
#undef D3_EDGE_ASM

static void widen(const d3_t *d, const int8_t *xp, int32_t C, uint32_t off2, uint32_t *q, const uint32_t *qe) {
  (d->cw == 6 ? widen_ring : widen_map)(xp, C, off2, q, qe);
}
static void widen_edge(const d3_t *d, const int8_t *const px[4], uint32_t off2, uint32_t *q, const uint32_t *qe,
                       int32_t gs) {
  (d->cw == 6 ? edge_ring : edge_map)(px, off2, q, qe, gs);
}
#else
/* Channels 0-3 of pixels a, b: words w[0], w[cw], w[2 cw], w[3 cw]. */
static inline void widen2(uint32_t a, uint32_t b, uint32_t off2, uint32_t *w, int cw) {
  const uint32_t lo = hb_pack16((int32_t)a, (int32_t)b), hi = hb_pkhtb(b, a);
  w[0] = hb_sxtab16(off2, lo); w[cw] = hb_sxtab16_ror8(off2, lo);
  w[2 * cw] = hb_sxtab16(off2, hi); w[3 * cw] = hb_sxtab16_ror8(off2, hi);
}

static void widen(const d3_t *d, const int8_t *xp, int32_t C, uint32_t off2, uint32_t *q, const uint32_t *qe) {
  for (; q != qe; q += d->bw, xp += 4 * (size_t)C) {
    widen2(hb_ld32(xp), hb_ld32(xp + C), off2, q, d->cw);
    widen2(hb_ld32(xp + 2 * C), hb_ld32(xp + 3 * C), off2, q + 1, d->cw);
  }
}

static void widen_edge(const d3_t *d, const int8_t *const px[4], uint32_t off2, uint32_t *q, const uint32_t *qe,
                       int32_t gs) {
  for (size_t n = 0; q != qe; q += gs / 4, n += 4) {
    widen2(hb_ld32(px[0] + n), hb_ld32(px[1] + n), off2, q, d->cw);
    widen2(hb_ld32(px[2] + n), hb_ld32(px[3] + n), off2, q + 1, d->cw);
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
  for (int j = 0; j < d->nj; j++) {
    if (j >= j0 && j < j1) continue;
    if (d->ne == D3_MAX_EDGES) return 0;
    d->ej[d->ne] = j;
    for (int k = 0; k < 4; k++) {
      const int ix = 4 * j + k - pw;
      d->eo[d->ne][k] = ix >= 0 && ix < d->W ? ix * d->xs : -1;
    }
    d->ne++;
  }
  return 1;
}

/* A padding row: zeros (a map row's blocks are contiguous; a ring block's slot is 4 pairs). */
static void fill_zeros(const d3_t *d, uint32_t *base) {
  const size_t gw = (size_t)d->gw, bw = (size_t)d->bw;
  for (uint32_t *q = base, *end = base + (size_t)(d->ct / 4) * gw; q < end; q += gw) {
    if (d->cw == 2) {
      __builtin_memset(q, 0, (size_t)d->nj * bw * 4);
      continue;
    }
    for (uint32_t *b = q, *be = q + (size_t)d->nj * bw; b < be; b += bw)
      b[0] = b[1] = b[6] = b[7] = b[12] = b[13] = b[18] = b[19] = 0;
  }
}

void hb_d3_fill(const d3_t *d, int iy, uint32_t *base, int zero_rows) {
  if (iy < 0 || iy >= d->H) {
    if (zero_rows) fill_zeros(d, base);
    return;
  }
  const int8_t *xrow = d->x + (size_t)iy * d->rs + d->c0, *zp = d->zprow + d->c0;
  const size_t gw = (size_t)d->gw, bw = (size_t)d->bw, G = (size_t)d->ct / 4;
  const uint32_t off2 = d->off2;
  if (d->j1 > d->j0) {
    const int8_t *xp = xrow + (size_t)(4 * d->j0 - d->pw) * d->xs;
    uint32_t *q = base + (size_t)d->j0 * bw;
    const size_t span = (size_t)(d->j1 - d->j0) * bw;
    for (size_t g = 0; g < G; g++, xp += 4, q += gw) widen(d, xp, d->xs, off2, q, q + span);
  }
  for (int k = 0; k < d->ne; k++) {
    const int32_t *eo = d->eo[k];
    const int8_t *px[4] = {eo[0] < 0 ? zp : xrow + eo[0], eo[1] < 0 ? zp : xrow + eo[1],
                           eo[2] < 0 ? zp : xrow + eo[2], eo[3] < 0 ? zp : xrow + eo[3]};
    uint32_t *q = base + (size_t)d->ej[k] * bw;
    widen_edge(d, px, off2, q, q + G * gw, (int32_t)(4 * gw));
  }
}
#endif
