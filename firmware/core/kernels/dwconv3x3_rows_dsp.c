/* The row loops of the 3x3 depthwise kernel (dwconv3x3_dsp.c explains the ring and the weight
 * sets): per channel, blocks of 4 outputs along the row, then a partial block of 1-3 outputs when
 * the width is not a multiple of 4, for stride 1 and stride 2.
 *
 * In ring words X (two adjacent padded columns of one channel in one word) and kernel-row
 * weights W01 = {w0, w1}, W12 = {w1, w2}, output j of a block is, per kernel row,
 *   stride 1: o0 = X01.W01 + x2 w2, o1 = X23.W12 + x1 w0, o2 = X23.W01 + x4 w2, o3 = X45.W12 + x3 w0
 *             (SMLAD + SMLABT / SMLATB; block b's columns 4b.. are ring block b, X45 the next one);
 *   stride 2: oj = X(2j,2j+1).W01 + x(2j+2) w2 (SMLAD + SMLABT), columns 8b.. in ring blocks 2b..2b+2.
 * 8 MAC instructions per kernel row for 12 MACs, 3 loads (stride 1) or 4 (stride 2, 1 more word).
 *
 * A full block ends in a branch to the tail for the channel's shift r (USAT #8 with ASR #r: the
 * shift is an immediate, so one 64-byte tail per r = 1..22; its address is the weight set's
 * word 2) with 4 USAT, 4 byte stores and the loop test: 53 instructions for 4 outputs at
 * stride 1, 56 at stride 2. A partial block shifts by register (word 10, r) instead. Per group of
 * 4 channels the collected bytes are then clamped and stored 4 at a time (USUB8/SEL/UADD8). */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "dwconv3x3_rows.h"
#include "requant_fast.h"

_Static_assert(HB_RQ_MAX_R == 22, "dwconv3x3_rows_dsp.c has one asm tail per shift 1..22");

#ifdef HB_DSP_ASM
/* Fixed registers (the LDM lists): x r0-r2 (then m, k', tail), a0 r3, w0/w1 r4/r5, a1-a3 r6-r8,
 * p r9, pe r10, wp r11, s r12, the job lr. */
#define D3_MAC8_ASM                                                                 \
  "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t"                               \
  "smlad r6, r1, r5, r6\n\tsmlatb r6, r0, r4, r6\n\t"                               \
  "smlad r7, r1, r4, r7\n\tsmlabt r7, r2, r5, r7\n\t"                               \
  "smlad r8, r2, r5, r8\n\tsmlatb r8, r1, r4, r8\n\t"
/* Stride 1: slot 1 (with the bias), slot 2, slot 0 (p moves to the next block). */
#define D3_BODY_S1                                                                                   \
  "ldm r11, {r3, r4, r5}\n\t"                                                                       \
  "ldrd r0, r1, [r9, #" D3_SL "]\n\t"                                                              \
  "ldr r2, [r9, #(96+" D3_SL ")]\n\t"                                                                 \
  "smlad r6, r1, r5, r3\n\tsmlad r7, r1, r4, r3\n\tsmlad r8, r2, r5, r3\n\tsmlad r3, r0, r4, r3\n\t" \
  "smlabt r3, r1, r5, r3\n\tsmlatb r6, r0, r4, r6\n\tsmlabt r7, r2, r5, r7\n\tsmlatb r8, r1, r4, r8\n\t" \
  "ldrd r4, r5, [r11, #12]\n\t"                                                                     \
  "ldrd r0, r1, [r9, #(2*" D3_SL ")]\n\t"                                                           \
  "ldr r2, [r9, #(96+2*" D3_SL ")]\n\t" D3_MAC8_ASM                                                              \
  "ldrd r4, r5, [r11, #20]\n\t"                                                                     \
  "ldr r2, [r9, #96]\n\t"                                                                           \
  "ldrd r0, r1, [r9], #96\n\t" D3_MAC8_ASM
/* Stride 2, one slot: X0 X1 at [p + o], X2 X3 one ring block on, X4 two. */
#define D3_S2_MACS(l01, l23, l4)                                                     \
  l01 "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\tsmlad r6, r1, r4, r6\n\t"   \
  l23 "smlabt r6, r0, r5, r6\n\tsmlad r7, r0, r4, r7\n\tsmlabt r7, r1, r5, r7\n\t"  \
  "smlad r8, r1, r4, r8\n\t" l4 "smlabt r8, r0, r5, r8\n\t"
#define D3_BODY_S2                                                                                   \
  "ldm r11, {r3, r4, r5}\n\t"                                                                       \
  "ldrd r0, r1, [r9, #(96+" D3_SL ")]\n\t"                                                          \
  "smlad r7, r0, r4, r3\n\tsmlabt r6, r0, r5, r3\n\tsmlad r8, r1, r4, r3\n\tsmlabt r7, r1, r5, r7\n\t" \
  "ldrd r0, r1, [r9, #" D3_SL "]\n\t"                                                              \
  "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\tsmlad r6, r1, r4, r6\n\t"                        \
  "ldr r0, [r9, #(192+" D3_SL ")]\n\t"                                                                          \
  "smlabt r8, r0, r5, r8\n\t"                                                                       \
  "ldrd r4, r5, [r11, #12]\n\t"                                                                     \
  D3_S2_MACS("ldrd r0, r1, [r9, #(2*" D3_SL ")]\n\t", "ldrd r0, r1, [r9, #(96+2*" D3_SL ")]\n\t",         \
             "ldr r0, [r9, #(192+2*" D3_SL ")]\n\t")                                                  \
  "ldrd r4, r5, [r11, #20]\n\t"                                                                     \
  D3_S2_MACS("ldrd r0, r1, [r9], #192\n\t", "ldrd r0, r1, [r9, #-96]\n\t", "ldr r0, [r9]\n\t")
#define D3_TAIL_ASM(S, r)                                                                          \
  ".org .L" S "_tails + 64 * (" r " - 1)\n\t" /* hb_d3_shift_word's spacing */                  \
  "usat r3, #8, r3, asr #" r "\n\tusat r6, #8, r6, asr #" r "\n\t"                                 \
  "usat r7, #8, r7, asr #" r "\n\tusat r8, #8, r8, asr #" r "\n\t"                                 \
  "strb.w r6, [r12, #4]\n\tstrb.w r7, [r12, #8]\n\tstrb.w r8, [r12, #12]\n\tstrb.w r3, [r12], #16\n\t" \
  "cmp r9, r10\n\t"                                                                                \
  "bne.w 1b\n\t"                                                                                   \
  "b.w 7b\n\t"
#define D3_TAILS(S) D3_EACH_SHIFT(D3_TAIL_ASM, S)
/* A partial block's requantisation (shift by register: word 10) and byte stores; p and s move on. */
#define D3_PRQ(a) "add r4, r1, " a ", asr #31\n\tsmmlar " a ", " a ", r0, r4\n\tasr " a ", " a ", r2\n\tusat " a ", #8, " a "\n\t"
#define D3_PEND(step, RQS, STORES) \
  "add r9, r9, #" step "\n\tldmdb r11, {r0, r1, r2}\n\tldr r2, [r11, #28]\n\t" RQS STORES "add r12, r12, #16\n\tb 6b\n"
#define D3_ST1 "strb r3, [r12]\n\t"
#define D3_ST2 D3_ST1 "strb r6, [r12, #4]\n\t"
#define D3_ST3 D3_ST2 "strb r7, [r12, #8]\n\t"
/* Stride 1 partial blocks: per slot (x at [p + o], the next block's word at [p + o + 96]). */
#define D3_P1_S1(o, w) "ldrd r4, r5, [r11, #" w "]\n\tldrd r0, r1, [r9, #" o "]\n\tsmlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t"
#define D3_P2_S1(o, w) D3_P1_S1(o, w) "smlad r6, r1, r5, r6\n\tsmlatb r6, r0, r4, r6\n\t"
#define D3_P3_S1(o, o2, w) D3_P2_S1(o, w) "ldr r2, [r9, #" o2 "]\n\tsmlad r7, r1, r4, r7\n\tsmlabt r7, r2, r5, r7\n\t"
#define D3_PARTS_S1(S)                                                                                      \
  ".L" S "_p1:\n\tldr r3, [r11]\n\t" D3_P1_S1(D3_SL, "4") D3_P1_S1("(2*" D3_SL ")", "12") D3_P1_S1("0", "20")            \
  D3_PEND("96", D3_PRQ("r3"), D3_ST1)                                                                       \
  ".L" S "_p2:\n\tldr r3, [r11]\n\tmov r6, r3\n\t" D3_P2_S1(D3_SL, "4") D3_P2_S1("(2*" D3_SL ")", "12") D3_P2_S1("0", "20") \
  D3_PEND("96", D3_PRQ("r3") D3_PRQ("r6"), D3_ST2)                                                           \
  ".L" S "_p3:\n\tldr r3, [r11]\n\tmov r6, r3\n\tmov r7, r3\n\t" D3_P3_S1(D3_SL, "(96+" D3_SL ")", "4")                  \
  D3_P3_S1("(2*" D3_SL ")", "(96+2*" D3_SL ")", "12") D3_P3_S1("0", "96", "20") D3_PEND("96", D3_PRQ("r3") D3_PRQ("r6") D3_PRQ("r7"), D3_ST3)
/* Stride 2 partial blocks: X0 X1 in r0 r1, X2 in r2, X3 in r10 (pe is free after the full blocks). */
#define D3_P1_S2(o, w) "ldrd r4, r5, [r11, #" w "]\n\tldrd r0, r1, [r9, #" o "]\n\tsmlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t"
#define D3_P2_S2(o, o2, w) D3_P1_S2(o, w) "ldr r2, [r9, #" o2 "]\n\tsmlad r6, r1, r4, r6\n\tsmlabt r6, r2, r5, r6\n\t"
#define D3_P3_S2(o, o2, o3, w) D3_P2_S2(o, o2, w) "ldr r10, [r9, #" o3 "]\n\tsmlad r7, r2, r4, r7\n\tsmlabt r7, r10, r5, r7\n\t"
#define D3_PARTS_S2(S)                                                                                      \
  ".L" S "_p1:\n\tldr r3, [r11]\n\t" D3_P1_S2(D3_SL, "4") D3_P1_S2("(2*" D3_SL ")", "12") D3_P1_S2("0", "20")            \
  D3_PEND("192", D3_PRQ("r3"), D3_ST1)                                                                      \
  ".L" S "_p2:\n\tldr r3, [r11]\n\tmov r6, r3\n\t" D3_P2_S2(D3_SL, "(96+" D3_SL ")", "4") D3_P2_S2("(2*" D3_SL ")", "(96+2*" D3_SL ")", "12")    \
  D3_P2_S2("0", "96", "20") D3_PEND("192", D3_PRQ("r3") D3_PRQ("r6"), D3_ST2)                               \
  ".L" S "_p3:\n\tldr r3, [r11]\n\tmov r6, r3\n\tmov r7, r3\n\t" D3_P3_S2(D3_SL, "(96+" D3_SL ")", "(100+" D3_SL ")", "4")           \
  D3_P3_S2("(2*" D3_SL ")", "(96+2*" D3_SL ")", "(100+2*" D3_SL ")", "12") D3_P3_S2("0", "96", "100", "20")                                        \
  D3_PEND("192", D3_PRQ("r3") D3_PRQ("r6") D3_PRQ("r7"), D3_ST3)
#define D3_CLAMP_ASM(v) "usub8 r7, " v ", r4\n\tsel " v ", r4, " v "\n\tuadd8 " v ", " v ", r5\n\t"
/* Groups, channels, full blocks (BODY, then the requantisation and the tail), the partial block,
 * then per group the clamp and store of the collected bytes. */
#define D3_ROWS_ASM(S, BODY, PARTS)                                                                   \
  "mov lr, %[j]\n\t"                                                                                 \
  "0:\n\t" /* group */                                                                               \
  "ldr r9, [lr, #0]\n\tldr r11, [lr, #8]\n\tldr r12, [lr, #12]\n"                                    \
  "2:\n\t" /* channel */                                                                             \
  "ldr r10, [lr, #4]\n\tadd r10, r9, r10\n\tcmp r9, r10\n\tbeq 7f\n"                                 \
  "1:\n\t" BODY /* block */                                                                          \
  "ldmdb r11, {r0, r1, r2}\n\t" D3_RQ_ASM("r3", "r4") D3_RQ_ASM("r6", "r5") D3_RQ_ASM("r7", "r4")    \
  D3_RQ_ASM("r8", "r5") "bx r2\n"                                                                    \
  "7:\n\t" /* the partial block, if any */                                                          \
  "ldr r0, [lr, #56]\n\tcmp r0, #0\n\tit ne\n\tbxne r0\n"                                            \
  "6:\n\t" /* next channel (2 words on): p, wp, s; after the 4th, s is a multiple of 4 again */                  \
  "ldr r0, [lr, #52]\n\tsub r9, r9, r0\n\tadd r11, r11, #" D3_CH_BYTES "\n\t"                        \
  "ldr r0, [lr, #16]\n\tsub r12, r12, r0\n\ttst r12, #3\n\tbne 2b\n\t"                               \
  /* clamp and store: st r9, y r10, C r11, 2C r12, 3C r6, dd r4, ll r5, end r8 */                   \
  "ldr r9, [lr, #12]\n\tldr r10, [lr, #20]\n\tldr r11, [lr, #24]\n\tadd r12, r11, r11\n\t"           \
  "add r6, r12, r11\n\tldrd r4, r5, [lr, #36]\n\tldr r8, [lr, #28]\n\tcmp r8, #0\n\tbeq 5f\n\t"      \
  "add r8, r9, r8, lsl #4\n"                                                                         \
  "4:\n\t"                                                                                           \
  "ldm r9!, {r0, r1, r2, r3}\n\t" D3_CLAMP_ASM("r0") D3_CLAMP_ASM("r1") D3_CLAMP_ASM("r2")           \
  D3_CLAMP_ASM("r3") "str r0, [r10]\n\tstr r1, [r10, r11]\n\tstr r2, [r10, r12]\n\tstr r3, [r10, r6]\n\t" \
  "add r10, r10, r11, lsl #2\n\tcmp r9, r8\n\tbne 4b\n"                                              \
  "5:\n\t"                                                                                           \
  "ldr r8, [lr, #32]\n\tcmp r8, #0\n\tbeq 8f\n"                                                      \
  "3:\n\t"                                                                                           \
  "ldr r0, [r9], #4\n\t" D3_CLAMP_ASM("r0") "str r0, [r10]\n\tadd r10, r10, r11\n\tsubs r8, r8, #1\n\tbne 3b\n" \
  "8:\n\t" /* next group */                                                                          \
  "ldrd r0, r1, [lr, #0]\n\tldr r2, [lr, #44]\n\tadd r0, r0, r2\n\tstr r0, [lr, #0]\n\t"             \
  "ldr r0, [lr, #8]\n\tadd r0, r0, #4 * " D3_CH_BYTES "\n\tstr r0, [lr, #8]\n\t"                     \
  "ldr r0, [lr, #20]\n\tadd r0, r0, #4\n\tstr r0, [lr, #20]\n\t"                                     \
  "ldr r0, [lr, #48]\n\tsubs r0, r0, #1\n\tstr r0, [lr, #48]\n\tbne 0b\n\t"                          \
  "b 9f\n" PARTS                                                                                     \
  ".balign 64\n"                                                                                     \
  ".L" S "_tails:\n\t" D3_TAILS(S) "9:"

#define D3_ROWS_FN(name, S, BODY, PARTS)                                                             \
  __attribute__((noinline, noclone)) static void name(d3_job_t *job) {                              \
    register d3_job_t *rj __asm__("r12") = job;                                                     \
    __asm__ volatile(D3_ROWS_ASM(S, BODY, PARTS)                                                    \
                     : [j] "+r"(rj)                                                                 \
                     :                                                                              \
                     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "lr", \
                       "cc", "memory");                                                             \
  }
D3_ROWS_FN(d3_rows_s1, "d3s1", D3_BODY_S1, D3_PARTS_S1("d3s1"))
D3_ROWS_FN(d3_rows_s2, "d3s2", D3_BODY_S2, D3_PARTS_S2("d3s2"))

void hb_d3_rows(d3_job_t *job, int stride) { (stride == 1 ? d3_rows_s1 : d3_rows_s2)(job); }

/* A label's address (Thumb bit set). */

int32_t hb_d3_shift_word(int stride, int r) {
  uint32_t a;
  if (stride == 1) D3_ADDR(".Ld3s1_tails");
  else D3_ADDR(".Ld3s2_tails");
  return (int32_t)(a + 64u * (uint32_t)(r - 1));
}

uint32_t hb_d3_part(int stride, int n) {
  uint32_t a = 0;
  if (stride == 1 && n == 1) D3_ADDR(".Ld3s1_p1");
  if (stride == 1 && n == 2) D3_ADDR(".Ld3s1_p2");
  if (stride == 1 && n == 3) D3_ADDR(".Ld3s1_p3");
  if (stride == 2 && n == 1) D3_ADDR(".Ld3s2_p1");
  if (stride == 2 && n == 2) D3_ADDR(".Ld3s2_p2");
  if (stride == 2 && n == 3) D3_ADDR(".Ld3s2_p3");
  return a;
}
#else
/* Clamp of one pixel's 4 channels: bytewise min(v, d), then + lo mod 2^8 (USUB8, SEL, UADD8). */
static inline uint32_t d3_clamp4(uint32_t v, uint32_t d, uint32_t lo) {
  uint32_t r = 0;
  for (int i = 0; i < 32; i += 8) {
    const uint32_t b = (v >> i) & 0xFFu, m = (d >> i) & 0xFFu;
    r |= (((b >= m ? m : b) + (lo >> i)) & 0xFFu) << i;
  }
  return r;
}

/* acc2 -> min(y - act_min, 255) clamped at 0: hb_rq_out with k' (set[1]), shift set[10]. */
static inline uint32_t d3_rq(int32_t a, const int32_t *set) {
  return hb_usat8(hb_smmlar(a, set[0], set[1] + (a >> 31)) >> set[10]);
}

/* Output j (< n) of the block at p, one kernel row: its slot's words from x (x[0], x[1], then
 * x[24], x[25], x[48]: the next ring blocks), weights W01 w0, W12 w1. */
static void d3_mac_row(const uint32_t *x, uint32_t w0, uint32_t w1, int stride, int n, int32_t *a) {
  if (stride == 2) {
    const uint32_t X[5] = {x[0], x[1], x[24], x[25], n == 4 ? x[48] : 0};
    for (int j = 0; j < n; j++) a[j] = hb_smlabt(X[j + 1], w1, hb_smlad(X[j], w0, a[j]));
    return;
  }
  const uint32_t x0 = x[0], x1 = x[1], x2 = n > 2 ? x[24] : 0;
  const int32_t o[4] = {hb_smlabt(x1, w1, hb_smlad(x0, w0, a[0])), hb_smlatb(x0, w0, hb_smlad(x1, w1, a[1])),
                        hb_smlabt(x2, w1, hb_smlad(x1, w0, a[2])), hb_smlatb(x1, w0, hb_smlad(x2, w1, a[3]))};
  for (int j = 0; j < n; j++) a[j] = o[j];
}

/* One channel along the row: nbf full blocks and a partial one of `part` outputs from ring words
 * p, weight set wp - 3 (wp: its bias2); bytes to s[0], s[4], s[8], s[12], then s += 16. */
static void d3_row(const uint32_t *p, int nbf, int part, const int32_t *wp, uint8_t *s, int stride) {
  for (int b = 0; b < nbf + (part > 0); b++, p += stride * D3_BLK, s += 16) {
    const int n = b < nbf ? 4 : part;
    int32_t a[4] = {wp[0], wp[0], wp[0], wp[0]};
    d3_mac_row(p + D3_SLOT, (uint32_t)wp[1], (uint32_t)wp[2], stride, n, a);
    d3_mac_row(p + 2 * D3_SLOT, (uint32_t)wp[3], (uint32_t)wp[4], stride, n, a);
    d3_mac_row(p, (uint32_t)wp[5], (uint32_t)wp[6], stride, n, a);
    for (int j = 0; j < n; j++) s[4 * j] = (uint8_t)d3_rq(a[j], wp - 3);
  }
}

void hb_d3_rows(d3_job_t *j, int stride) {
  const int nbf = j->nbf_bytes / (96 * stride);
  for (; j->ng > 0; j->ng--, j->p += j->gs / 4, j->wp += 4 * D3_CH, j->y += 4) {
    for (int i = 0; i < 4; i++) d3_row(j->p + 2 * i, nbf, (int)j->part, j->wp + D3_CH * i, j->st + i, stride);
    const uint32_t *st = (const uint32_t *)(const void *)j->st;
    int8_t *y = j->y;
    for (int n = 0; n < 4 * j->nq + j->nr; n++, y += j->C) {
      const uint32_t v = d3_clamp4(st[n], j->dd, j->ll);
      __builtin_memcpy(y, &v, 4);
    }
  }
}

int32_t hb_d3_shift_word(int stride, int r) {
  (void)stride;
  return r;
}

uint32_t hb_d3_part(int stride, int n) {
  (void)stride;
  return (uint32_t)n;
}
#endif
#endif
