/* The 3x3 depthwise kernel's direct row loops (dwconv3x3_dsp.c takes them when the activation
 * range is all of int8): the MACs of dwconv3x3_rows_dsp.c (which explains them), but each output
 * is saturated by SSAT (its ASR folded in: one 64-byte tail per shift r = 1..22, as there) and
 * stored straight into the output, 4 pixels a block: no bytes collected, no clamp pass.
 * Channel by channel (a set's words 11, 12 give its input pointer and output offset), per channel the
 * rows of the map layout (one loop; the ring's one row), per row the full blocks, then the
 * partial one. Four instances: stride 1 or 2, ring (slots 32 bytes apart, blocks 96) or map (rows
 * 8 * 4 * D4_NJ bytes apart, blocks 32). A full block: 55 instructions for 36 MACs at stride 1
 * (33 loads and MACs, 10 requantisation, 4 SSAT, an LDRD of ys and 3 ys, 4 byte stores and 3). */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "dwconv3x3_rows.h"
#include "requant_fast.h"

_Static_assert(HB_RQ_MAX_R == 22, "dwconv3x3_direct_dsp.c has one asm tail per shift 1..22");
_Static_assert(D4_NJ == 5, "the map instances' row stride is 160 bytes");

#ifdef HB_DSP_ASM
_Static_assert(__builtin_offsetof(d4_job_t, ys3) == 16 && __builtin_offsetof(d4_job_t, part) == 36 &&
                   __builtin_offsetof(d4_job_t, yr) == 56 && __builtin_offsetof(d4_job_t, entry) == 60,
               "the asm's field offsets");
/* Registers as in dwconv3x3_rows_dsp.c: x r0-r2, a0 r3, w0/w1 r4/r5, a1-a3 r6-r8, p r9, pe r10,
 * wp r11, y r12, the job lr. SL: bytes between kernel rows, BL: between blocks. */
#define D4_MAC8                                                                     \
  "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t"                               \
  "smlad r6, r1, r5, r6\n\tsmlatb r6, r0, r4, r6\n\t"                               \
  "smlad r7, r1, r4, r7\n\tsmlabt r7, r2, r5, r7\n\t"                               \
  "smlad r8, r2, r5, r8\n\tsmlatb r8, r1, r4, r8\n\t"
#define D4_BODY_S1(SL, BL)                                                                               \
  "ldm r11, {r3, r4, r5}\n\t"                                                                           \
  "ldrd r0, r1, [r9, #" SL "]\n\t"                                                                      \
  "ldr r2, [r9, #(" SL "+" BL ")]\n\t"                                                                  \
  "smlad r6, r1, r5, r3\n\tsmlad r7, r1, r4, r3\n\tsmlad r8, r2, r5, r3\n\tsmlad r3, r0, r4, r3\n\t"     \
  "smlabt r3, r1, r5, r3\n\tsmlatb r6, r0, r4, r6\n\tsmlabt r7, r2, r5, r7\n\tsmlatb r8, r1, r4, r8\n\t" \
  "ldrd r4, r5, [r11, #12]\n\t"                                                                         \
  "ldrd r0, r1, [r9, #(2*" SL ")]\n\t"                                                                  \
  "ldr r2, [r9, #(2*" SL "+" BL ")]\n\t" D4_MAC8                                                        \
  "ldrd r4, r5, [r11, #20]\n\t"                                                                         \
  "ldr r2, [r9, #" BL "]\n\t"                                                                           \
  "ldrd r0, r1, [r9], #" BL "\n\t" D4_MAC8
#define D4_S2_MACS(l01, l23, l4)                                                     \
  l01 "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\tsmlad r6, r1, r4, r6\n\t"   \
  l23 "smlabt r6, r0, r5, r6\n\tsmlad r7, r0, r4, r7\n\tsmlabt r7, r1, r5, r7\n\t"  \
  "smlad r8, r1, r4, r8\n\t" l4 "smlabt r8, r0, r5, r8\n\t"
#define D4_BODY_S2(SL, BL)                                                                               \
  "ldm r11, {r3, r4, r5}\n\t"                                                                           \
  "ldrd r0, r1, [r9, #(" SL "+" BL ")]\n\t"                                                             \
  "smlad r7, r0, r4, r3\n\tsmlabt r6, r0, r5, r3\n\tsmlad r8, r1, r4, r3\n\tsmlabt r7, r1, r5, r7\n\t" \
  "ldrd r0, r1, [r9, #" SL "]\n\t"                                                                      \
  "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\tsmlad r6, r1, r4, r6\n\t"                           \
  "ldr r0, [r9, #(" SL "+2*" BL ")]\n\t"                                                                \
  "smlabt r8, r0, r5, r8\n\t"                                                                           \
  "ldrd r4, r5, [r11, #12]\n\t"                                                                         \
  D4_S2_MACS("ldrd r0, r1, [r9, #(2*" SL ")]\n\t", "ldrd r0, r1, [r9, #(2*" SL "+" BL ")]\n\t",          \
             "ldr r0, [r9, #(2*" SL "+2*" BL ")]\n\t")                                                 \
  "ldrd r4, r5, [r11, #20]\n\t"                                                                         \
  D4_S2_MACS("ldrd r0, r1, [r9], #(2*" BL ")\n\t", "ldrd r0, r1, [r9, #-" BL "]\n\t", "ldr r0, [r9]\n\t")
/* 4 outputs stored at y, y + ys, y + 2 ys, y + 3 ys; y moves past them. */
#define D4_STORE4                                                                                  \
  "ldrd r0, r1, [lr, #12]\n\t" /* ys, 3 ys */                                                     \
  "strb r3, [r12]\n\tstrb r6, [r12, r0]\n\tstrb r7, [r12, r0, lsl #1]\n\tstrb r8, [r12, r1]\n\t"     \
  "add r12, r12, r0, lsl #2\n\t"
#define D4_TAIL_ASM(S, r)                                                                          \
  ".org .L" S "_tails + 64 * (" r " - 1)\n\t" /* hb_d4_shift_word's spacing */                  \
  "ssat r3, #8, r3, asr #" r "\n\tssat r6, #8, r6, asr #" r "\n\t"                                 \
  "ssat r7, #8, r7, asr #" r "\n\tssat r8, #8, r8, asr #" r "\n\t" D4_STORE4                       \
  "cmp r9, r10\n\t"                                                                                \
  "bne.w 1b\n\t"                                                                                   \
  "ldr.w pc, [lr, #36]\n\t" /* the partial block, or the next row */
#define D4_TAILS(S) D3_EACH_SHIFT(D4_TAIL_ASM, S)
/* A partial block's requantisation (shift by register: word 10) and stores; then the next row. */
#define D4_PRQ(a) "add r4, r1, " a ", asr #31\n\tsmmlar " a ", " a ", r0, r4\n\tasr " a ", " a ", r2\n\tssat " a ", #8, " a "\n\t"
#define D4_PEND(RQS, STORES) "ldmdb r11, {r0, r1, r2}\n\tldr r2, [r11, #28]\n\t" RQS "ldr r0, [lr, #12]\n\t" STORES "b 6b\n"
#define D4_ST1 "strb r3, [r12]\n\t"
#define D4_ST2 D4_ST1 "strb r6, [r12, r0]\n\t"
#define D4_ST3 D4_ST2 "strb r7, [r12, r0, lsl #1]\n\t"
/* Stride 1: per kernel row (x at [p + o], the next block's word at [p + o + BL]). */
#define D4_P1_S1(o, w) "ldrd r4, r5, [r11, #" w "]\n\tldrd r0, r1, [r9, #" o "]\n\tsmlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t"
#define D4_P2_S1(o, w) D4_P1_S1(o, w) "smlad r6, r1, r5, r6\n\tsmlatb r6, r0, r4, r6\n\t"
#define D4_P3_S1(o, o2, w) D4_P2_S1(o, w) "ldr r2, [r9, #" o2 "]\n\tsmlad r7, r1, r4, r7\n\tsmlabt r7, r2, r5, r7\n\t"
#define D4_PARTS_S1(S, SL, BL)                                                                              \
  ".L" S "_p1:\n\tldr r3, [r11]\n\t" D4_P1_S1(SL, "4") D4_P1_S1("(2*" SL ")", "12") D4_P1_S1("0", "20")      \
  D4_PEND(D4_PRQ("r3"), D4_ST1)                                                                             \
  ".L" S "_p2:\n\tldr r3, [r11]\n\tmov r6, r3\n\t" D4_P2_S1(SL, "4") D4_P2_S1("(2*" SL ")", "12")            \
  D4_P2_S1("0", "20") D4_PEND(D4_PRQ("r3") D4_PRQ("r6"), D4_ST2)                                             \
  ".L" S "_p3:\n\tldr r3, [r11]\n\tmov r6, r3\n\tmov r7, r3\n\t" D4_P3_S1(SL, "(" SL "+" BL ")", "4")        \
  D4_P3_S1("(2*" SL ")", "(2*" SL "+" BL ")", "12") D4_P3_S1("0", BL, "20")                                  \
  D4_PEND(D4_PRQ("r3") D4_PRQ("r6") D4_PRQ("r7"), D4_ST3)
/* Stride 2: X0 X1 in r0 r1, X2 in r2, X3 in r10 (pe is free after the full blocks). */
#define D4_P1_S2(o, w) "ldrd r4, r5, [r11, #" w "]\n\tldrd r0, r1, [r9, #" o "]\n\tsmlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t"
#define D4_P2_S2(o, o2, w) D4_P1_S2(o, w) "ldr r2, [r9, #" o2 "]\n\tsmlad r6, r1, r4, r6\n\tsmlabt r6, r2, r5, r6\n\t"
#define D4_P3_S2(o, o2, o3, w) D4_P2_S2(o, o2, w) "ldr r10, [r9, #" o3 "]\n\tsmlad r7, r2, r4, r7\n\tsmlabt r7, r10, r5, r7\n\t"
#define D4_PARTS_S2(S, SL, BL)                                                                              \
  ".L" S "_p1:\n\tldr r3, [r11]\n\t" D4_P1_S2(SL, "4") D4_P1_S2("(2*" SL ")", "12") D4_P1_S2("0", "20")      \
  D4_PEND(D4_PRQ("r3"), D4_ST1)                                                                             \
  ".L" S "_p2:\n\tldr r3, [r11]\n\tmov r6, r3\n\t" D4_P2_S2(SL, "(" SL "+" BL ")", "4")                      \
  D4_P2_S2("(2*" SL ")", "(2*" SL "+" BL ")", "12") D4_P2_S2("0", BL, "20")                                  \
  D4_PEND(D4_PRQ("r3") D4_PRQ("r6"), D4_ST2)                                                                 \
  ".L" S "_p3:\n\tldr r3, [r11]\n\tmov r6, r3\n\tmov r7, r3\n\t"                                             \
  D4_P3_S2(SL, "(" SL "+" BL ")", "(" SL "+" BL "+4)", "4")                                                  \
  D4_P3_S2("(2*" SL ")", "(2*" SL "+" BL ")", "(2*" SL "+" BL "+4)", "12")                                   \
  D4_P3_S2("0", BL, "(" BL "+4)", "20") D4_PEND(D4_PRQ("r3") D4_PRQ("r6") D4_PRQ("r7"), D4_ST3)
/* The map's row loop around a channel's rows (the ring has one row: nothing). */
#define D4_ROW_HEAD "ldr r0, [lr, #24]\n\tstr r0, [lr, #48]\n2:\n\tstr r9, [lr, #52]\n\tstr r12, [lr, #56]\n\t"
#define D4_ROW_NEXT                                                                                  \
  "ldrd r9, r12, [lr, #52]\n\tldrd r0, r1, [lr, #28]\n\tadd r9, r9, r0\n\tadd r12, r12, r1\n\t"      \
  "ldr r0, [lr, #48]\n\tsubs r0, r0, #1\n\tstr r0, [lr, #48]\n\tbne 2b\n\t"
/* Channels, (rows), full blocks (BODY, the requantisation, the tail), the partial block; a row
 * starts at the job's entry (the blocks, or the partial block when there is no full one). */
#define D4_ROWS_ASM(S, BODY, PARTS, HEAD, NEXT, WSTEP)                                               \
  "mov lr, %[j]\n\t"                                                                                 \
  "ldr r11, [lr, #8]\n"                                                                              \
  "0:\n\t" /* channel: p and y from the set's offsets */                                            \
  "ldr r9, [r11, #32]\n\t" /* the set's pointer */                                                  \
  "ldr r12, [lr, #20]\n\tldr r0, [r11, #36]\n\tadd r12, r12, r0\n\t" HEAD                            \
  "ldr r10, [lr, #4]\n\tadd r10, r9, r10\n\tldr.w pc, [lr, #60]\n"                                 \
  ".L" S "_blk:\n"                                                                                   \
  "1:\n\t" BODY /* block */                                                                          \
  "ldmdb r11, {r0, r1, r2}\n\t" D3_RQ_ASM("r3", "r4") D3_RQ_ASM("r6", "r5") D3_RQ_ASM("r7", "r4")    \
  D3_RQ_ASM("r8", "r5") "bx r2\n"                                                                    \
  "6:\n"                                                                                               \
  ".L" S "_next:\n\t" NEXT                                                                           \
  "add r11, r11, #" WSTEP "\n\tldr r0, [lr, #40]\n\tcmp r11, r0\n\tbne 0b\n\t"                       \
  "b 9f\n" PARTS                                                                                     \
  ".balign 64\n"                                                                                     \
  ".L" S "_tails:\n\t" D4_TAILS(S) "9:"

#define D4_ROWS_FN(name, S, BODY, PARTS, HEAD, NEXT, WSTEP)                                          \
  __attribute__((noinline, noclone)) static void name(d4_job_t *job) {                              \
    register d4_job_t *rj __asm__("r12") = job;                                                     \
    __asm__ volatile(D4_ROWS_ASM(S, BODY, PARTS, HEAD, NEXT, WSTEP)                                 \
                     : [j] "+r"(rj)                                                                 \
                     :                                                                              \
                     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "lr", \
                       "cc", "memory");                                                             \
  }
/* A channel's sets (its rotations) are 156 bytes for the ring, 52 for the map. */
_Static_assert(D4_SET == 13, "the channel steps below are 3 and 1 sets of 52 bytes");
D4_ROWS_FN(d4_ring_s1, "d4r1", D4_BODY_S1(D3_SL, "96"), D4_PARTS_S1("d4r1", D3_SL, "96"), "", "", "156")
D4_ROWS_FN(d4_ring_s2, "d4r2", D4_BODY_S2(D3_SL, "96"), D4_PARTS_S2("d4r2", D3_SL, "96"), "", "", "156")
D4_ROWS_FN(d4_map_s1, "d4m1", D4_BODY_S1("160", "32"), D4_PARTS_S1("d4m1", "160", "32"), D4_ROW_HEAD, D4_ROW_NEXT,
           "52")
D4_ROWS_FN(d4_map_s2, "d4m2", D4_BODY_S2("160", "32"), D4_PARTS_S2("d4m2", "160", "32"), D4_ROW_HEAD, D4_ROW_NEXT,
           "52")

void hb_d4_rows(d4_job_t *job, int kind) {
  static void (*const fns[4])(d4_job_t *) = {d4_ring_s1, d4_ring_s2, d4_map_s1, d4_map_s2};
  fns[kind](job);
}

/* A label's address (Thumb bit set). */

int32_t hb_d4_shift_word(int kind, int r) {
  uint32_t a;
  if (kind == D4_RING_S1) D3_ADDR(".Ld4r1_tails");
  else if (kind == D4_RING_S2) D3_ADDR(".Ld4r2_tails");
  else if (kind == D4_MAP_S1) D3_ADDR(".Ld4m1_tails");
  else D3_ADDR(".Ld4m2_tails");
  return (int32_t)(a + 64u * (uint32_t)(r - 1));
}

uint32_t hb_d4_part(int kind, int n) {
  uint32_t a = 0;
#define D4_PART(k, S)                                  \
  if (kind == k && n == 0) D3_ADDR(".L" S "_next");    \
  if (kind == k && n == 1) D3_ADDR(".L" S "_p1");      \
  if (kind == k && n == 2) D3_ADDR(".L" S "_p2");      \
  if (kind == k && n == 3) D3_ADDR(".L" S "_p3");
  D4_PART(D4_RING_S1, "d4r1")
  D4_PART(D4_RING_S2, "d4r2")
  D4_PART(D4_MAP_S1, "d4m1")
  D4_PART(D4_MAP_S2, "d4m2")
#undef D4_PART
  return a;
}

uint32_t hb_d4_entry(int kind, int nbf, int n) {
  uint32_t a;
  if (!nbf) return hb_d4_part(kind, n);
  if (kind == D4_RING_S1) D3_ADDR(".Ld4r1_blk");
  else if (kind == D4_RING_S2) D3_ADDR(".Ld4r2_blk");
  else if (kind == D4_MAP_S1) D3_ADDR(".Ld4m1_blk");
  else D3_ADDR(".Ld4m2_blk");
  return a;
}
#else
/* acc2 -> the output, saturated: hb_rq_out with the set's k (set[1]) and shift (set[10]). */
static inline int8_t d4_rq(int32_t a, const int32_t *set) {
  return (int8_t)hb_ssat8(hb_smmlar(a, set[0], set[1] + (a >> 31)) >> set[10]);
}

/* Output j (< n) of the block, one kernel row: its words x[0], x[1], then the next blocks'
 * x[b], x[b + 1], x[2 b] (b: words a block), weights W01 w0, W12 w1. */
static void d4_mac_row(const uint32_t *x, int b, uint32_t w0, uint32_t w1, int stride, int n, int32_t *a) {
  if (stride == 2) {
    const uint32_t X[5] = {x[0], x[1], x[b], x[b + 1], n == 4 ? x[2 * b] : 0};
    for (int j = 0; j < n; j++) a[j] = hb_smlabt(X[j + 1], w1, hb_smlad(X[j], w0, a[j]));
    return;
  }
  const uint32_t x0 = x[0], x1 = x[1], x2 = n > 2 ? x[b] : 0;
  const int32_t o[4] = {hb_smlabt(x1, w1, hb_smlad(x0, w0, a[0])), hb_smlatb(x0, w0, hb_smlad(x1, w1, a[1])),
                        hb_smlabt(x2, w1, hb_smlad(x1, w0, a[2])), hb_smlatb(x1, w0, hb_smlad(x2, w1, a[3]))};
  for (int j = 0; j < n; j++) a[j] = o[j];
}

/* One row of one channel: the full blocks and the partial one from words p, set wp - 3. */
static void d4_row(const uint32_t *p, int sl, int b, int nbf, int part, const int32_t *wp, int8_t *y, int32_t ys,
                   int stride) {
  for (int k = 0; k < nbf + (part > 0); k++, p += stride * b, y += 4 * ys) {
    const int n = k < nbf ? 4 : part;
    int32_t a[4] = {wp[0], wp[0], wp[0], wp[0]};
    d4_mac_row(p + sl, b, (uint32_t)wp[1], (uint32_t)wp[2], stride, n, a);
    d4_mac_row(p + 2 * sl, b, (uint32_t)wp[3], (uint32_t)wp[4], stride, n, a);
    d4_mac_row(p, b, (uint32_t)wp[5], (uint32_t)wp[6], stride, n, a);
    for (int j = 0; j < n; j++) y[j * ys] = d4_rq(a[j], wp - 3);
  }
}

void hb_d4_rows(d4_job_t *j, int kind) {
  const int stride = kind == D4_RING_S2 || kind == D4_MAP_S2 ? 2 : 1, map = kind >= D4_MAP_S1;
  const int sl = map ? 8 * D4_NJ : D3_SLOT, b = map ? 8 : 24, nbf = j->nbf_bytes / (4 * b * stride);
  for (const int32_t *wp = j->wp; wp != j->wpe; wp += j->wstep / 4) {
    const uint32_t *p = j->p + wp[8] / 4;
    int8_t *y = j->y + wp[9];
    for (int r = 0; r < (map ? j->rows : 1); r++, p += j->prow / 4, y += j->yrow)
      d4_row(p, sl, b, nbf, (int)j->part, wp, y, j->ys, stride);
  }
}

int32_t hb_d4_shift_word(int kind, int r) {
  (void)kind;
  return r;
}

uint32_t hb_d4_part(int kind, int n) {
  (void)kind;
  return (uint32_t)n;
}

uint32_t hb_d4_entry(int kind, int nbf, int n) {
  (void)kind, (void)nbf, (void)n;
  return 0;
}
#endif
#endif
