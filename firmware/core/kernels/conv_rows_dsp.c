/* CONV_2D's widened path, the blocks (conv_dsp.c says why the result is exact; conv_dsp.h gives
 * the layouts): a pixel pair against a tile of weight blocks, 2 pixels x 2 channels a block. Per
 * group of 4 taps 1 LDM of the pixels' pairs, 1 LDM of the channels' pairs, 8 SMLAD (16 MACs).
 * The groups are padded with zeros to the loop's unrolling and END_MARK follows the patch: the loop
 * tests it instead of counting, which frees the 14th register the 2 x 2 block needs. With p->rq the
 * weights and initial sums (bias2) are doubled for hb_rq_out; without, the initial sums are the
 * bias and hb_conv_out requantises. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "conv_dsp.h"
#include "requant_fast.h"

#ifdef HB_DSP_ASM
/* The 2 x 2 MAC loop on fixed registers (LDM wants them ascending, and it needs all 14):
 * sums r0-r3 = (A, c), (A, c+1), (B, c), (B, c+1), from the block's 4 initial sums at r12;
 * pixel pairs r4-r7 = {A lo, A hi, B lo, B hi} from lr; weight pairs r8-r11 from r12.
 * 10 instructions per group, 2 more per u groups; it stops at END_MARK. */
#define MAC_2X2_GROUP                                                      \
  "ldmia r12!, {r8, r9, r10, r11}\n\t"                                   \
  "smlad r0, r8, r4, r0\n\t"                                             \
  "smlad r0, r9, r5, r0\n\t"                                             \
  "smlad r1, r10, r4, r1\n\t"                                            \
  "smlad r1, r11, r5, r1\n\t"                                            \
  "smlad r2, r8, r6, r2\n\t"                                             \
  "smlad r2, r9, r7, r2\n\t"                                             \
  "smlad r3, r10, r6, r3\n\t"                                            \
  "smlad r3, r11, r7, r3\n\t"                                            \
  "ldmia lr!, {r4, r5, r6, r7}\n\t"
#define MAC_2X2_HEAD                                                       \
  "ldmia r12!, {r0, r1, r2, r3}\n\t"                                     \
  "ldmia lr!, {r4, r5, r6, r7}\n"
#define MAC_2X2_TEST                                                       \
  "cmp r4, #0x80008000\n\t"                                              \
  "bne 3b\n\t"
#define MAC_2X2_LOOP4 MAC_2X2_HEAD "3:\n\t" MAC_2X2_GROUP MAC_2X2_GROUP MAC_2X2_GROUP MAC_2X2_GROUP MAC_2X2_TEST
#define MAC_2X2_LOOP2 MAC_2X2_HEAD "3:\n\t" MAC_2X2_GROUP MAC_2X2_GROUP MAC_2X2_TEST
#define MAC_2X2_LOOP1 MAC_2X2_HEAD "3:\n\t" MAC_2X2_GROUP MAC_2X2_TEST
#define MAC_2X2_ASM(LOOP)                                                                        \
  __asm__(LOOP                                                                                   \
          : "=r"(a0), "=r"(a1), "=r"(a2), "=r"(a3), "+r"(w), "+r"(xr)                            \
          :                                                                                      \
          : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory")
#endif

/* One block (at *wp, advanced past it) against the pixel pair's patches at x: a = {(A, c),
 * (A, c+1), (B, c), (B, c+1)}, each its initial sum plus its MACs; u: the unrolling. */
__attribute__((always_inline)) static inline void mac_2x2(const uint64_t **wp, const uint64_t *x, int u,
                                                          int32_t a[4]) {
#ifdef HB_DSP_ASM
  register int32_t a0 __asm__("r0"), a1 __asm__("r1"), a2 __asm__("r2"), a3 __asm__("r3");
  register const uint64_t *w __asm__("r12") = *wp, *xr __asm__("lr") = x; /* GCC would not pick lr */
  if (u == 4) MAC_2X2_ASM(MAC_2X2_LOOP4);
  else if (u == 2) MAC_2X2_ASM(MAC_2X2_LOOP2);
  else MAC_2X2_ASM(MAC_2X2_LOOP1);
  *wp = w;
#else
  const uint64_t *w = *wp;
  int32_t a0 = (int32_t)hb_lo(w[0]), a1 = (int32_t)hb_hi(w[0]), a2 = (int32_t)hb_lo(w[1]), a3 = (int32_t)hb_hi(w[1]);
  w += 2;
  do {
    for (int k = 0; k < u; k++, w += QB, x += QB) {
      const uint32_t xa0 = hb_lo(x[0]), xa1 = hb_hi(x[0]), xb0 = hb_lo(x[1]), xb1 = hb_hi(x[1]);
      a0 = hb_smlad(hb_lo(w[0]), xa0, a0); a0 = hb_smlad(hb_hi(w[0]), xa1, a0);
      a1 = hb_smlad(hb_lo(w[1]), xa0, a1); a1 = hb_smlad(hb_hi(w[1]), xa1, a1);
      a2 = hb_smlad(hb_lo(w[0]), xb0, a2); a2 = hb_smlad(hb_hi(w[0]), xb1, a2);
      a3 = hb_smlad(hb_lo(w[1]), xb0, a3); a3 = hb_smlad(hb_hi(w[1]), xb1, a3);
    }
  } while (hb_lo(x[0]) != END_MARK);
  *wp = w;
#endif
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

#ifdef HB_DSP_ASM
/* A pixel pair against the tile's blocks with p->rq (the C form below), in one asm block as the
 * MAC loop leaves no register free: the loop state lives in a frame it pushes from the job, [rq,
 * y, nb, oc, lo4, hi4, x]. Per block, besides the MAC loop: 2 x 9 a channel to requantise (one
 * LDM of its hb_rq_t), 3 BFI to pack {A c, A c+1, B c, B c+1}, 4 to clamp, 3 to store, 6 for the
 * state. B's 2 bytes are stored before A's, so that with oc = 0 A's overwrite them. */
#define RQ_OUT2(a, b)                                                      \
  "ldmia r4!, {r8, r9, r10, r11}\n\t"                                    \
  "add r8, r10, " a ", asr #31\n\t"                                      \
  "smmlar " a ", " a ", r9, r8\n\t"                                      \
  "asr " a ", " a ", r11\n\t"                                            \
  "ssat " a ", #8, " a "\n\t"                                            \
  "add r8, r10, " b ", asr #31\n\t"                                      \
  "smmlar " b ", " b ", r9, r8\n\t"                                      \
  "asr " b ", " b ", r11\n\t"                                            \
  "ssat " b ", #8, " b "\n\t"
/* The block's 4 outputs: packed, clamped bytewise to [lo4, hi4] (from the frame), stored. */
#define STORE_CLAMPED                                                      \
  "bfi r0, r1, #8, #8\n\t"                                               \
  "bfi r0, r2, #16, #8\n\t"                                              \
  "bfi r0, r3, #24, #8\n\t"                                              \
  "ldrd r8, r9, [sp, #16]\n\t"                                           \
  "ssub8 r10, r0, r8\n\t"                                                \
  "sel r0, r0, r8\n\t"                                                   \
  "ssub8 r10, r9, r0\n\t"                                                \
  "sel r0, r0, r9\n\t"                                                   \
  "lsr r1, r0, #16\n\t"                                                  \
  "strh r1, [r5, r7]\n\t"                                                \
  "strh r0, [r5], #2\n\t"
/* The same when the activation range is all of int8 (SSAT did the clamp): 7 instructions fewer. */
#define STORE_PLAIN                                                        \
  "bfi r0, r1, #8, #8\n\t"                                               \
  "bfi r2, r3, #8, #8\n\t"                                               \
  "strh r2, [r5, r7]\n\t"                                                \
  "strh r0, [r5], #2\n\t"
#define ROW_RQ(name, LOOP, STORE)                                                                          \
  static void name(const cw_tile_t *t) {                                                                     \
    register const cw_tile_t *rt __asm__("r0") = t;                                                          \
    __asm__ volatile("ldmia r0, {r4, r5, r6, r7, r8, r9, lr}\n\t"                                            \
                     "ldr r12, [r0, #28]\n\t"                                                                \
                     "push {r4, r5, r6, r7, r8, r9, lr}\n"                                                   \
                     "1:\n\t"                                                                                \
                     "ldr lr, [sp, #24]\n\t" LOOP                                                            \
                     "ldmia sp, {r4, r5, r6, r7}\n\t" RQ_OUT2("r0", "r2") RQ_OUT2("r1", "r3") STORE        \
                     "subs r6, r6, #1\n\t"                                                                   \
                     "stmia sp, {r4, r5, r6}\n\t"                                                            \
                     "bne 1b\n\t"                                                                            \
                     "add sp, sp, #28"                                                                       \
                     : "+r"(rt)                                                                              \
                     :                                                                                       \
                     : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", \
                       "memory");                                                                            \
  }
ROW_RQ(row_rq4, MAC_2X2_LOOP4, STORE_CLAMPED)
ROW_RQ(row_rq2, MAC_2X2_LOOP2, STORE_CLAMPED)
ROW_RQ(row_rq1, MAC_2X2_LOOP1, STORE_CLAMPED)
ROW_RQ(row_rq4_plain, MAC_2X2_LOOP4, STORE_PLAIN)
ROW_RQ(row_rq2_plain, MAC_2X2_LOOP2, STORE_PLAIN)
ROW_RQ(row_rq1_plain, MAC_2X2_LOOP1, STORE_PLAIN)
#else
/* The block's outputs from doubled sums: hb_rq_out, saturated to int8, packed {A c, A c+1,
 * B c, B c+1}, clamped bytewise to the activation range; B's 2 bytes to y + oc, then A's to y. */
static inline void out2x2_c(int8_t *y, size_t oc, const int32_t a[4], const hb_rq_t *q, uint32_t lo4, uint32_t hi4) {
  const uint32_t v0 = (uint32_t)hb_ssat8(hb_rq_out(a[0], q + 0)), v1 = (uint32_t)hb_ssat8(hb_rq_out(a[1], q + 1));
  const uint32_t v2 = (uint32_t)hb_ssat8(hb_rq_out(a[2], q + 0)), v3 = (uint32_t)hb_ssat8(hb_rq_out(a[3], q + 1));
  const uint32_t v = hb_clamp8x4((v0 & 0xFFu) | (v1 & 0xFFu) << 8 | (v2 & 0xFFu) << 16 | v3 << 24, lo4, hi4);
  y[oc] = (int8_t)(v >> 16); y[oc + 1] = (int8_t)(v >> 24);
  y[0] = (int8_t)v; y[1] = (int8_t)(v >> 8);
}

/* A pixel pair against the tile's blocks with p->rq: mac_2x2 and out2x2_c each. */
static void row_rq(const cw_tile_t *t) {
  const cw_job_t *j = &t->job;
  const uint64_t *w = j->w;
  for (int n = 0; n < j->nb; n++) {
    int32_t a[4];
    mac_2x2(&w, j->x, t->u, a);
    out2x2_c(j->y + QB * n, (size_t)j->oc, a, j->rq + QB * n, j->lo4, j->hi4);
  }
}
#endif

/* Without p->rq: mac_2x2, then hb_conv_out for each output, B's first. */
static void pair_c(const cw_tile_t *t) {
  const cw_job_t *j = &t->job;
  const uint64_t *w = j->w;
  int8_t *y = j->y;
  for (int oc = t->oc0; oc < t->oc0 + QB * j->nb; oc += QB, y += QB) {
    int32_t a[4];
    mac_2x2(&w, j->x, t->u, a);
    for (int k = j->oc ? 0 : 2; k < 4; k++) /* k < 2: B's (a[2], a[3]); oc = 0 leaves A's bytes */
      y[(k < 2) * j->oc + (k & 1)] = hb_conv_out(a[k ^ 2], 0, t->p, oc + (k & 1));
  }
}

void hb_cw_run(cw_tile_t *t) {
#ifdef HB_DSP_ASM
  static void (*const fns[2][3])(const cw_tile_t *) = {{row_rq1, row_rq2, row_rq4},
                                                       {row_rq1_plain, row_rq2_plain, row_rq4_plain}};
  const int plain = t->job.lo4 == 0x80808080u && t->job.hi4 == 0x7F7F7F7Fu;
  t->run = t->job.rq ? fns[plain][t->u >> 1] : pair_c;
#else
  t->run = t->job.rq ? row_rq : pair_c;
#endif
}
#endif
