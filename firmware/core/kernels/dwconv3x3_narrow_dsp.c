/* The 3x3 depthwise kernel's narrow map rows (dwconv3x3_rows.h: the map layout and the sets): a
 * whole output row of 6 or 3 outputs at stride 1 in one pass with one requantisation tail (small
 * stride-2 maps go to dwconv3x3_small_dsp.c, the rest to the general loop). The
 * general row loop (dwconv3x3_direct_dsp.c) takes such a row as a block of 4 and a partial block
 * of 2 (or a partial block of 3), whose per-block overhead and shift-by-register requantisation
 * cost 108 instructions a 6-wide row (vww's 6x6x128 layers: 2.06 per MAC in the row loop) and 71
 * a 3-wide one; here 83 and 46.
 *
 * Six accumulators, two weight words and three input words take every register but sp: the job
 * is copied to the stack and read from there. Per kernel row (its input row's words X01 X23 at
 * p + o, X45 X67 one block on), 4 loads and 12 MACs for 6 outputs:
 *   o0 = X01.W01 + x2 w2   o1 = X23.W12 + x1 w0   o2 = X23.W01 + x4 w2
 *   o3 = X45.W12 + x3 w0   o4 = X45.W01 + x6 w2   o5 = X67.W12 + x5 w0
 * (3 outputs: o0-o2 from X01 X23 and x4). The tail for the channel's shift r saturates and
 * stores the row. Only with the asm (the C build takes these rows through the general loop). */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "dwconv3x3_rows.h"
#include "requant_fast.h"

#ifdef HB_DSP_ASM
_Static_assert(HB_RQ_MAX_R == 22, "dwconv3x3_narrow_dsp.c has one asm tail per shift 1..22");
_Static_assert(sizeof(d5_job_t) == 40, "the asm's stack frame is the job");

/* Bytes between the per-shift tails: a 6-wide tail is 62, a 3-wide one 30 (.org fails the build
 * if one outgrows its room). */
#define D5_SP6 64
#define D5_SP3 32
#define D5_STR2(x) #x
#define D5_STR(x) D5_STR2(x)

/* Registers: x r0-r2, a0 r3, W01/W12 r4/r5, a1-a3 r6-r8, p r9, a4 r10, wp r11, y r12, a5 lr. */
/* Kernel row 1 (at p + RS, the map's row stride) with the bias (the set's first word, into a0
 * and from it the rest). */
#define D5_FIRST6(RS)                                                                                       \
  "ldm r11, {r3, r4, r5}\n\tldrd r0, r1, [r9, #" RS "]\n\tldr r2, [r9, #(" RS "+32)]\n\t"                         \
  "smlad r6, r1, r5, r3\n\tsmlad r7, r1, r4, r3\n\tsmlatb r8, r1, r4, r3\n\tsmlad r10, r2, r4, r3\n\t" \
  "smlatb lr, r2, r4, r3\n\tsmlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\tsmlatb r6, r0, r4, r6\n\t" \
  "smlabt r7, r2, r5, r7\n\tsmlad r8, r2, r5, r8\n\tldr r0, [r9, #(" RS "+36)]\n\t"                            \
  "smlabt r10, r0, r5, r10\n\tsmlad lr, r0, r5, lr\n\t"
/* Kernel row k at p + o (o as text), its weights at wp + w. */
#define D5_ROW6(o, w)                                                                                  \
  "ldrd r4, r5, [r11, #" w "]\n\tldrd r0, r1, [r9, #" o "]\n\tldr r2, [r9, #(" o "+32)]\n\t"           \
  "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\tsmlad r6, r1, r5, r6\n\tsmlatb r6, r0, r4, r6\n\t" \
  "smlad r7, r1, r4, r7\n\tsmlabt r7, r2, r5, r7\n\tsmlad r8, r2, r5, r8\n\tsmlatb r8, r1, r4, r8\n\t" \
  "smlad r10, r2, r4, r10\n\tsmlatb lr, r2, r4, lr\n\tldr r0, [r9, #(" o "+36)]\n\t"                  \
  "smlabt r10, r0, r5, r10\n\tsmlad lr, r0, r5, lr\n\t"
#define D5_BODY6(RS) D5_FIRST6(RS) D5_ROW6("(2*" RS ")", "12") D5_ROW6("0", "20")
#define D5_RQ6                                                                                         \
  D3_RQ_ASM("r3", "r4") D3_RQ_ASM("r6", "r5") D3_RQ_ASM("r7", "r4") D3_RQ_ASM("r8", "r5")           \
  D3_RQ_ASM("r10", "r4") D3_RQ_ASM("lr", "r5")
/* The row's 6 outputs at y, y + ys, ..: y moves on by 4 ys (the job's yadv takes it to the next row). */
#define D5_TAIL6(S, r)                                                                                 \
  ".org .L" S "_tails + " D5_STR(D5_SP6) " * (" r " - 1)\n\t"                                          \
  "ssat r3, #8, r3, asr #" r "\n\tssat r6, #8, r6, asr #" r "\n\tssat r7, #8, r7, asr #" r "\n\t"     \
  "ssat r8, #8, r8, asr #" r "\n\tssat r10, #8, r10, asr #" r "\n\tssat lr, #8, lr, asr #" r "\n\t"   \
  "ldrd r0, r1, [sp, #20]\n\tstrb r3, [r12]\n\tstrb r6, [r12, r0]\n\tstrb r7, [r12, r0, lsl #1]\n\t"   \
  "strb r8, [r12, r1]\n\tadd r12, r12, r0, lsl #2\n\t"                                                \
  "strb r10, [r12]\n\tstrb lr, [r12, r0]\n\tb.w 6b\n\t"

#define D5_FIRST3(RS)                                                                                      \
  "ldm r11, {r3, r4, r5}\n\tldrd r0, r1, [r9, #" RS "]\n\tldr r2, [r9, #(" RS "+32)]\n\t"                         \
  "smlad r6, r1, r5, r3\n\tsmlad r7, r1, r4, r3\n\tsmlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t" \
  "smlatb r6, r0, r4, r6\n\tsmlabt r7, r2, r5, r7\n\t"
#define D5_ROW3(o, w)                                                                                  \
  "ldrd r4, r5, [r11, #" w "]\n\tldrd r0, r1, [r9, #" o "]\n\tldr r2, [r9, #(" o "+32)]\n\t"           \
  "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\tsmlad r6, r1, r5, r6\n\tsmlatb r6, r0, r4, r6\n\t" \
  "smlad r7, r1, r4, r7\n\tsmlabt r7, r2, r5, r7\n\t"
#define D5_BODY3(RS) D5_FIRST3(RS) D5_ROW3("(2*" RS ")", "12") D5_ROW3("0", "20")
#define D5_RQ3 D3_RQ_ASM("r3", "r4") D3_RQ_ASM("r6", "r5") D3_RQ_ASM("r7", "r4")
#define D5_TAIL3(S, r)                                                                                 \
  ".org .L" S "_tails + " D5_STR(D5_SP3) " * (" r " - 1)\n\t"                                          \
  "ssat r3, #8, r3, asr #" r "\n\tssat r6, #8, r6, asr #" r "\n\tssat r7, #8, r7, asr #" r "\n\t"     \
  "ldr r0, [sp, #20]\n\tstrb r3, [r12]\n\tstrb r6, [r12, r0]\n\tstrb r7, [r12, r0, lsl #1]\n\tb.w 6b\n\t"

/* The job onto the stack (40 bytes: d5_job_t, its pend word the asm's), then channels (p and y
 * from the set's offsets), their rows (BODY, requantisation, the tail for r), the next row. */
#define D5_ROWS_ASM(S, BODY, RQS, TAIL, ADV)                                                             \
  "sub sp, sp, #40\n\tldm r12, {r0-r8}\n\tmov r9, sp\n\tstm r9, {r0-r8}\n\tmov r11, r2\n"            \
  "0:\n\t" /* channel */                                                                           \
  "ldr r9, [r11, #32]\n\t" /* the set's pointer */                                                  \
  "ldr r12, [sp, #4]\n\tldr r0, [r11, #36]\n\tadd r12, r12, r0\n\t"                                 \
  "ldr r0, [sp, #32]\n\tadd r0, r9, r0\n\tstr r0, [sp, #36]\n"                                      \
  "1:\n\t" BODY /* row */                                                                          \
  "ldmdb r11, {r0, r1, r2}\n\t" RQS "bx r2\n"                                                       \
  "6:\n\t" /* next row, next channel */                                                            \
  "ldr r0, [sp, #28]\n\tadd r12, r12, r0\n\tadd r9, r9, #" ADV "\n\t"                                  \
  "ldr r0, [sp, #36]\n\tcmp r9, r0\n\tbne 1b\n\t"                                                   \
  "ldr r0, [sp, #16]\n\tadd r11, r11, r0\n\tldr r0, [sp, #12]\n\tcmp r11, r0\n\tbne 0b\n\t"         \
  "add sp, sp, #40\n\t"                                                                            \
  "b 9f\n"                                                                                         \
  ".balign 64\n"                                                                                   \
  ".L" S "_tails:\n\t" D3_EACH_SHIFT(TAIL, S) "9:"

#define D5_ROWS_FN(name, S, BODY, RQS, TAIL, ADV)                                                         \
  __attribute__((noinline, noclone)) static void name(const d5_job_t *job) {                        \
    register const d5_job_t *rj __asm__("r12") = job;                                               \
    __asm__ volatile(D5_ROWS_ASM(S, BODY, RQS, TAIL, ADV)                                                \
                     : "+r"(rj)                                                                     \
                     :                                                                              \
                     : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "lr", \
                       "cc", "memory");                                                             \
  }
/* The map's row stride for these rows: their nj blocks of 32 bytes. */
#define D5_RS 64
D5_ROWS_FN(d5_rows6, "d5w6", D5_BODY6(D5_STR(D5_RS)), D5_RQ6, D5_TAIL6, D5_STR(D5_RS))
D5_ROWS_FN(d5_rows3, "d5w3", D5_BODY3(D5_STR(D5_RS)), D5_RQ3, D5_TAIL3, D5_STR(D5_RS))

void hb_d5_rows(const d5_job_t *job, int n) { (n == 6 ? d5_rows6 : d5_rows3)(job); }

int hb_d5_row_bytes(void) { return D5_RS; }

int32_t hb_d5_shift_word(int n, int r) {
  uint32_t a;
  if (n == 6) D3_ADDR(".Ld5w6_tails");
  else D3_ADDR(".Ld5w3_tails");
  return (int32_t)(a + (uint32_t)(n == 6 ? D5_SP6 : D5_SP3) * (uint32_t)(r - 1));
}
#endif
#endif
