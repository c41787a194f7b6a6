/* DEPTHWISE_CONV_2D 3x3, stride 1, no dilation, depth multiplier 1, C % 4 == 0, with the
 * fast requantisation (p->rq): 1.95 instructions per MAC on a Cortex-M4 for 32x32x64,
 * everything included. Other shapes stay with dwconv_dsp.c.
 *
 * Channel-major rows: each input row is widened once per channel tile into a ring of three
 * rows as int16 x - in_zp, padding columns stored as 0, so that one word holds two
 * horizontally adjacent taps of one channel and SMLAD does two MACs. For a kernel row with
 * weights W01 = {w0,w1}, W12 = {w1,w2} and inputs X01, X23, X45, four outputs along x take
 *   o0 = X01.W01 + x2 w2   o1 = X23.W12 + x1 w0   o2 = X23.W01 + x4 w2   o3 = X45.W12 + x3 w0
 * (SMLAD + SMLABT / SMLATB): 8 MAC instructions for 12 MACs, 3 loads.
 *
 * Ring layout, per group of 4 channels: blocks of 4 columns; block j holds, for channel
 * i and ring slot s (input row iy sits in slot iy % 3), the words {u,u+1},{u+2,u+3}
 * (u = 4j, padded column u = ix + pad_w) at word 24j + 6i + 2s: one pointer reaches every
 * slot with immediate offsets, and the widening stores one group's 4 channels from one
 * pointer as well. Output block b (columns 4b..4b+3) reads words 2b..2b+2 of each slot.
 *
 * The weights are per channel and ring rotation (which slot holds which kernel row),
 * doubled for the requantisation's doubled accumulator (requant_fast.h), with the
 * accumulator's start (bias2) and the constants {m, k', r}: one set of 10 words. k' folds
 * -act_min into the rounding constant (exact: a multiple of 2^r), so USAT #8 gives
 * min(y - act_min, 255) >= 0; the outputs of one group are collected as bytes
 * [pixel][channel] and a word per pixel then takes the upper clamp (USUB8/SEL against
 * act_max - act_min), adds act_min back (UADD8) and is stored: the 4 channels of a pixel
 * are adjacent in NHWC.
 *
 * Instructions per block of 4 outputs (36 MACs) on the Arm path: 33 loads and MACs, 10
 * requantisation (SMMLAR and its sign, the ASR folded into USAT by a per-shift tail), 8
 * USAT and byte stores, 2 loop; 5 for the clamp and store per pixel group; about 6 for
 * the widening (23 instructions per 16 input elements). */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "dwconv3x3_dsp.h"
#include "requant_fast.h"

_Static_assert(HB_RQ_MAX_R == 22, "dwconv3x3_dsp.c has one asm tail per shift 1..22");

#define D3_BLK 24 /* words in a ring block: 4 channels x 3 slots x 2 words */
#define D3_SET 10 /* words in a weight set: m, k', r, bias2, {W01, W12} for slots 1, 2, 0 */
#define D3_CH (3 * D3_SET)
#define D3_CH_BYTES "120" /* D3_CH * 4, for the asm */

/* USUB8, SEL, UADD8 (the clamp of one pixel's 4 channels), with its exact C twin off-Arm. */
#if defined(__ARM_FEATURE_DSP)
/* Bytewise min(v, d) (USUB8 sets GE where v >= d, SEL picks d there), then + lo mod 2^8;
 * one asm block: the GE flags must not be separated from their SEL. */
static inline uint32_t d3_clamp4(uint32_t v, uint32_t d, uint32_t lo) {
  uint32_t t, r;
  __asm__("usub8 %0, %2, %3\n\tsel %1, %3, %2\n\tuadd8 %1, %1, %4"
          : "=&r"(t), "=&r"(r) : "r"(v), "r"(d), "r"(lo) : "cc");
  (void)t;
  return r;
}
#else
static inline uint32_t d3_clamp4(uint32_t v, uint32_t d, uint32_t lo) {
  uint32_t r = 0;
  for (int i = 0; i < 32; i += 8) {
    const uint32_t b = (v >> i) & 0xFFu, m = (d >> i) & 0xFFu;
    r |= (((b >= m ? m : b) + (lo >> i)) & 0xFFu) << i;
  }
  return r;
}
#endif

/* acc2 -> min(y - act_min, 255) clamped at 0: hb_rq_out with k' (set[1]). */
static inline uint32_t d3_rq(int32_t a, const int32_t *set) {
  return hb_usat8(hb_smmlar(a, set[0], set[1] + (a >> 31)) >> set[2]);
}

/* One kernel row (its slot's words x, weights w) into the 4 accumulators. */
#define D3_MAC8(x0, x1, x2, w0, w1)                                                  \
  do {                                                                               \
    a0 = hb_smlad(x0, w0, a0); a0 = hb_smlabt(x1, w1, a0);                           \
    a1 = hb_smlad(x1, w1, a1); a1 = hb_smlatb(x0, w0, a1);                           \
    a2 = hb_smlad(x1, w0, a2); a2 = hb_smlabt(x2, w1, a2);                           \
    a3 = hb_smlad(x2, w1, a3); a3 = hb_smlatb(x1, w0, a3);                           \
  } while (0)

/* One output row of the tile's groups (4 channels each). Field offsets are used by the asm;
 * it advances p, wp, y and ng group by group. */
typedef struct {
  const uint32_t *p;  /*  0: ring words of the group's channel 0 at block 0 */
  int32_t nb96;       /*  4: bytes of nb ring blocks */
  const int32_t *wp;  /*  8: channel 0's weight set + 3 (its bias2); D3_CH words per channel */
  uint8_t *st;        /* 12: collected bytes, one word per pixel */
  int32_t nb16m1;     /* 16: 16 * nb - 1 */
  int8_t *y;          /* 20: output of the group's first channel at pixel 0 */
  int32_t C;          /* 24: output pixel stride (channels) */
  int32_t nq, nr;     /* 28, 32: pixels to store: nq quads, then nr single pixels */
  uint32_t dd, ll;    /* 36, 40: act_max - act_min and act_min in each byte */
  int32_t gs;         /* 44: bytes from one group's ring to the next */
  int32_t ng;         /* 48: groups left */
  int32_t nb96m24;    /* 52: nb96 - 24 */
} d3_job_t;

#ifdef HB_DSP_ASM
/* Per channel nb blocks of 53 instructions for 4 outputs (36 MACs): loads and MACs 33, the
 * constants 1, SMMLAR and its sign 8, a branch to the tail for the channel's shift r (USAT
 * #8 with ASR #r: the shift is an immediate, so one 64-byte tail per r = 1..22, its address
 * in the weight set) with 4 USAT, 4 byte stores and the loop test. Then per group the clamp and
 * store, 20 instructions per 16 outputs. Fixed registers (the LDM lists): in a block x0-x2
 * r0-r2 (then m, k', tail), a0 r3, w0/w1 r4/r5, a1-a3 r6-r8, p r9, pe r10, wp r11, s r12,
 * the job lr. */
#define D3_MAC8_ASM                                                                 \
  "smlad r3, r0, r4, r3\n\tsmlabt r3, r1, r5, r3\n\t"                               \
  "smlad r6, r1, r5, r6\n\tsmlatb r6, r0, r4, r6\n\t"                               \
  "smlad r7, r1, r4, r7\n\tsmlabt r7, r2, r5, r7\n\t"                               \
  "smlad r8, r2, r5, r8\n\tsmlatb r8, r1, r4, r8\n\t"
#define D3_RQ_ASM(a, t) "add " t ", r1, " a ", asr #31\n\tsmmlar " a ", " a ", r0, " t "\n\t"
#define D3_TAIL_ASM(r)                                                                             \
  ".org .Ld3_tails + 64 * (" r " - 1)\n\t" /* d3_shift_word's spacing (.org cannot go back) */  \
  "usat r3, #8, r3, asr #" r "\n\tusat r6, #8, r6, asr #" r "\n\t"                                 \
  "usat r7, #8, r7, asr #" r "\n\tusat r8, #8, r8, asr #" r "\n\t"                                 \
  "strb.w r6, [r12, #4]\n\tstrb.w r7, [r12, #8]\n\tstrb.w r8, [r12, #12]\n\tstrb.w r3, [r12], #16\n\t" \
  "cmp r9, r10\n\t"                                                                                \
  "bne.w 1b\n\t"                                                                                   \
  "b.w 6b\n\t"
#define D3_CLAMP_ASM(v) "usub8 r7, " v ", r4\n\tsel " v ", r4, " v "\n\tuadd8 " v ", " v ", r5\n\t"

__attribute__((noinline, noclone)) static void d3_rows(d3_job_t *job) {
  register d3_job_t *rj __asm__("r12") = job;
  __asm__ volatile(
      "mov lr, %[j]\n\t"
      "0:\n\t" /* group */
      "ldr r9, [lr, #0]\n\t"
      "ldr r11, [lr, #8]\n\t"
      "ldr r12, [lr, #12]\n\t"
      "2:\n\t" /* channel */
      "ldr r10, [lr, #4]\n\t"
      "add r10, r9, r10\n\t"
      "1:\n\t" /* block */
      "ldm r11, {r3, r4, r5}\n\t" /* bias2 and slot 1's weights: slot 1 first, from bias2 */
      "ldrd r0, r1, [r9, #8]\n\t"
      "ldr r2, [r9, #104]\n\t"
      "smlad r6, r1, r5, r3\n\tsmlad r7, r1, r4, r3\n\tsmlad r8, r2, r5, r3\n\tsmlad r3, r0, r4, r3\n\t"
      "smlabt r3, r1, r5, r3\n\tsmlatb r6, r0, r4, r6\n\tsmlabt r7, r2, r5, r7\n\tsmlatb r8, r1, r4, r8\n\t"
      "ldrd r4, r5, [r11, #12]\n\t"
      "ldrd r0, r1, [r9, #16]\n\t"
      "ldr r2, [r9, #112]\n\t" D3_MAC8_ASM
      "ldrd r4, r5, [r11, #20]\n\t"
      "ldr r2, [r9, #96]\n\t"
      "ldrd r0, r1, [r9], #96\n\t" D3_MAC8_ASM /* slot 0 last: p moves to the next block */
      "ldmdb r11, {r0, r1, r2}\n\t"
      D3_RQ_ASM("r3", "r4") D3_RQ_ASM("r6", "r5") D3_RQ_ASM("r7", "r4") D3_RQ_ASM("r8", "r5")
      "bx r2\n\t"
      "6:\n\t" /* next channel: p, wp, s; after the 4th, s is a multiple of 4 again */
      "ldr r0, [lr, #52]\n\t"
      "sub r9, r9, r0\n\t"
      "add r11, r11, #" D3_CH_BYTES "\n\t"
      "ldr r0, [lr, #16]\n\t"
      "sub r12, r12, r0\n\t"
      "tst r12, #3\n\t"
      "bne 2b\n\t"
      /* clamp and store: st r9, y r10, C r11, 2C r12, 3C r6, dd r4, ll r5, end r8 */
      "ldr r9, [lr, #12]\n\t"
      "ldr r10, [lr, #20]\n\t"
      "ldr r11, [lr, #24]\n\t"
      "add r12, r11, r11\n\t"
      "add r6, r12, r11\n\t"
      "ldrd r4, r5, [lr, #36]\n\t"
      "ldr r8, [lr, #28]\n\t"
      "cmp r8, #0\n\t"
      "beq 5f\n\t"
      "add r8, r9, r8, lsl #4\n\t"
      "4:\n\t"
      "ldm r9!, {r0, r1, r2, r3}\n\t" D3_CLAMP_ASM("r0") D3_CLAMP_ASM("r1") D3_CLAMP_ASM("r2") D3_CLAMP_ASM("r3")
      "str r0, [r10]\n\tstr r1, [r10, r11]\n\tstr r2, [r10, r12]\n\tstr r3, [r10, r6]\n\t"
      "add r10, r10, r11, lsl #2\n\t"
      "cmp r9, r8\n\t"
      "bne 4b\n\t"
      "5:\n\t"
      "ldr r8, [lr, #32]\n\t"
      "cmp r8, #0\n\t"
      "beq 7f\n\t"
      "8:\n\t"
      "ldr r0, [r9], #4\n\t" D3_CLAMP_ASM("r0")
      "str r0, [r10]\n\t"
      "add r10, r10, r11\n\t"
      "subs r8, r8, #1\n\t"
      "bne 8b\n\t"
      "7:\n\t" /* next group */
      "ldrd r0, r1, [lr, #0]\n\t"
      "ldr r2, [lr, #44]\n\t"
      "add r0, r0, r2\n\t"
      "str r0, [lr, #0]\n\t"
      "ldr r0, [lr, #8]\n\t"
      "add r0, r0, #4 * " D3_CH_BYTES "\n\t"
      "str r0, [lr, #8]\n\t"
      "ldr r0, [lr, #20]\n\t"
      "add r0, r0, #4\n\t"
      "str r0, [lr, #20]\n\t"
      "ldr r0, [lr, #48]\n\t"
      "subs r0, r0, #1\n\t"
      "str r0, [lr, #48]\n\t"
      "bne 0b\n\t"
      "b 9f\n\t"
      ".balign 64\n"
      ".Ld3_tails:\n\t"
      D3_TAIL_ASM("1") D3_TAIL_ASM("2") D3_TAIL_ASM("3") D3_TAIL_ASM("4") D3_TAIL_ASM("5") D3_TAIL_ASM("6")
      D3_TAIL_ASM("7") D3_TAIL_ASM("8") D3_TAIL_ASM("9") D3_TAIL_ASM("10") D3_TAIL_ASM("11") D3_TAIL_ASM("12")
      D3_TAIL_ASM("13") D3_TAIL_ASM("14") D3_TAIL_ASM("15") D3_TAIL_ASM("16") D3_TAIL_ASM("17")
      D3_TAIL_ASM("18") D3_TAIL_ASM("19") D3_TAIL_ASM("20") D3_TAIL_ASM("21") D3_TAIL_ASM("22")
      "9:"
      : [j] "+r"(rj)
      :
      : "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "lr", "cc", "memory");
}
#undef D3_MAC8_ASM
#undef D3_RQ_ASM
#undef D3_TAIL_ASM
#undef D3_CLAMP_ASM

/* Where the weight set keeps the shift: the address of its tail (Thumb bit set). */
static int32_t d3_shift_word(int r) {
  uint32_t base;
  __asm__("movw %0, #:lower16:.Ld3_tails\n\tmovt %0, #:upper16:.Ld3_tails" : "=r"(base));
  return (int32_t)(base + 64u * (uint32_t)(r - 1) + 1u);
}
#else
/* One channel along the row: blocks of 4 outputs from ring words p (nb blocks), weight set
 * wp - 3 (wp: its bias2), bytes to s[0], s[4], s[8], s[12], then s += 16. */
static void d3_row(const uint32_t *p, int nb, const int32_t *wp, uint8_t *s) {
  for (int b = 0; b < nb; b++, p += D3_BLK, s += 16) {
    int32_t a0 = wp[0], a1 = a0, a2 = a0, a3 = a0;
    D3_MAC8(p[2], p[3], p[26], (uint32_t)wp[1], (uint32_t)wp[2]);
    D3_MAC8(p[4], p[5], p[28], (uint32_t)wp[3], (uint32_t)wp[4]);
    D3_MAC8(p[0], p[1], p[24], (uint32_t)wp[5], (uint32_t)wp[6]);
    s[0] = (uint8_t)d3_rq(a0, wp - 3); s[4] = (uint8_t)d3_rq(a1, wp - 3);
    s[8] = (uint8_t)d3_rq(a2, wp - 3); s[12] = (uint8_t)d3_rq(a3, wp - 3);
  }
}

static void d3_rows(d3_job_t *j) {
  const int nb = j->nb96 / 96;
  for (; j->ng > 0; j->ng--, j->p += j->gs / 4, j->wp += 4 * D3_CH, j->y += 4) {
    for (int i = 0; i < 4; i++) d3_row(j->p + 6 * i, nb, j->wp + D3_CH * i, j->st + i);
    const uint32_t *st = (const uint32_t *)(const void *)j->st;
    int8_t *y = j->y;
    for (int n = 0; n < 4 * j->nq + j->nr; n++, y += j->C) {
      const uint32_t v = d3_clamp4(st[n], j->dd, j->ll);
      __builtin_memcpy(y, &v, 4);
    }
  }
}

static int32_t d3_shift_word(int r) { return r; }
#endif

typedef struct {
  const hb_conv_params_t *p;
  const int8_t *x;      /* the batch's input */
  int H, W, C;
  int nb, nj;           /* output blocks of 4 columns per row; ring blocks (nb + 1) */
  int c0, ct;           /* the tile's channels [c0, c0 + ct) */
  uint32_t *ring;       /* ct / 4 groups of nj blocks */
  const int8_t *zprow;  /* C input zero points: the padding pixels */
} d3_t;

/* Widening: two pixels' words a, b (4 channels each) give, by PKHBT and PKHTB, the bytes
 * {a0,a1,b0,b1} and {a2,a3,b2,b3}; SXTAB16 with the offset (and ROR 8) then gives each
 * channel's two columns {x - zp} directly: per 2 pixels 2 packs and 4 extends. */

/* Ring blocks q .. qe (exclusive, D3_BLK words apart) of one group and slot from the 4
 * channels at xp, pixels C bytes apart: per 4 pixels 4 loads, 4 packs, 8 extends, 4
 * double-word stores; 23 instructions. */
#ifdef HB_DSP_ASM
__attribute__((noinline)) static void d3_widen(const int8_t *xp, int32_t C, uint32_t off2, uint32_t *q,
                                               const uint32_t *qe) {
  register const int8_t *rx __asm__("r0") = xp;
  register int32_t rc __asm__("r1") = C;
  register uint32_t ro __asm__("r2") = off2;
  register uint32_t *rq __asm__("r3") = q;
  register const uint32_t *rqe __asm__("r12") = qe;
  __asm__ volatile(
      "add r10, %[c], %[c]\n\t"
      "add r11, r10, %[c]\n\t"
      "1:\n\t"
      "ldr r4, [%[x]]\n\tldr r5, [%[x], %[c]]\n\tldr r6, [%[x], r10]\n\tldr r7, [%[x], r11]\n\t"
      "add %[x], %[x], %[c], lsl #2\n\t"
      "pkhbt r8, r4, r5, lsl #16\n\tpkhtb r4, r5, r4, asr #16\n\t" /* pixels 0, 1 */
      "pkhbt r9, r6, r7, lsl #16\n\tpkhtb r6, r7, r6, asr #16\n\t" /* pixels 2, 3 */
      "sxtab16 r5, %[o], r8, ror #8\n\tsxtab16 r7, %[o], r9, ror #8\n\t"
      "strd r5, r7, [%[q], #24]\n\t" /* channel 1 */
      "sxtab16 r5, %[o], r4\n\tsxtab16 r7, %[o], r6\n\t"
      "strd r5, r7, [%[q], #48]\n\t" /* channel 2 */
      "sxtab16 r5, %[o], r4, ror #8\n\tsxtab16 r7, %[o], r6, ror #8\n\t"
      "strd r5, r7, [%[q], #72]\n\t" /* channel 3 */
      "sxtab16 r5, %[o], r8\n\tsxtab16 r7, %[o], r9\n\t"
      "strd r5, r7, [%[q]], #96\n\t" /* channel 0 */
      "cmp %[q], %[qe]\n\t"
      "bne 1b"
      : [x] "+r"(rx), [q] "+r"(rq)
      : [c] "r"(rc), [o] "r"(ro), [qe] "r"(rqe)
      : "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "cc", "memory");
}
#else
/* Channels 0-3 of pixels a, b: ring words w[0], w[6], w[12], w[18] (one ring block apart). */
static inline void d3_widen2(uint32_t a, uint32_t b, uint32_t off2, uint32_t *w) {
  const uint32_t lo = hb_pack16((int32_t)a, (int32_t)b), hi = hb_pkhtb(b, a);
  w[0] = hb_sxtab16(off2, lo); w[6] = hb_sxtab16_ror8(off2, lo);
  w[12] = hb_sxtab16(off2, hi); w[18] = hb_sxtab16_ror8(off2, hi);
}

static void d3_widen(const int8_t *xp, int32_t C, uint32_t off2, uint32_t *q, const uint32_t *qe) {
  for (; q != qe; q += D3_BLK, xp += 4 * (size_t)C) {
    d3_widen2(hb_ld32(xp), hb_ld32(xp + C), off2, q);
    d3_widen2(hb_ld32(xp + 2 * C), hb_ld32(xp + 3 * C), off2, q + 1);
  }
}
#endif

/* One ring block (and slot) in every group of the tile, [q, qe) gs bytes apart, from 4
 * pixel pointers that advance 4 channels a group (padding pixels: a row of zero points):
 * the blocks with padding columns. 27 instructions a group. */
#ifdef HB_DSP_ASM
#define D3_EDGE_ASM(pa, pb, o)                                                                   \
  "ldr r4, [" pa "], #4\n\tldr r5, [" pb "], #4\n\t"                                             \
  "pkhbt r6, r4, r5, lsl #16\n\tpkhtb r4, r5, r4, asr #16\n\t"                                   \
  "sxtab16 r5, %[o], r6\n\tstr r5, [%[q], #" #o "]\n\t"                                          \
  "sxtab16 r5, %[o], r6, ror #8\n\tstr r5, [%[q], #" #o "+24]\n\t"                               \
  "sxtab16 r5, %[o], r4\n\tstr r5, [%[q], #" #o "+48]\n\t"                                       \
  "sxtab16 r5, %[o], r4, ror #8\n\tstr r5, [%[q], #" #o "+72]\n\t"
__attribute__((noinline)) static void d3_widen_edge(const int8_t *const px[4], uint32_t off2, uint32_t *q,
                                                    const uint32_t *qe, int32_t gs) {
  register const int8_t *p0 __asm__("r0") = px[0], *p1 __asm__("r1") = px[1], *p2 __asm__("r2") = px[2],
                        *p3 __asm__("r3") = px[3];
  register uint32_t *rq __asm__("r9") = q, ro __asm__("r10") = off2;
  register const uint32_t *rqe __asm__("r11") = qe;
  register int32_t rgs __asm__("r12") = gs;
  __asm__ volatile("1:\n\t" D3_EDGE_ASM("%[p0]", "%[p1]", 0) D3_EDGE_ASM("%[p2]", "%[p3]", 4)
                   "add %[q], %[q], %[gs]\n\t"
                   "cmp %[q], %[qe]\n\t"
                   "bne 1b"
                   : [p0] "+r"(p0), [p1] "+r"(p1), [p2] "+r"(p2), [p3] "+r"(p3), [q] "+r"(rq)
                   : [o] "r"(ro), [qe] "r"(rqe), [gs] "r"(rgs)
                   : "r4", "r5", "r6", "cc", "memory");
}
#undef D3_EDGE_ASM
#else
static void d3_widen_edge(const int8_t *const px[4], uint32_t off2, uint32_t *q, const uint32_t *qe, int32_t gs) {
  for (size_t n = 0; q != qe; q += gs / 4, n += 4) {
    d3_widen2(hb_ld32(px[0] + n), hb_ld32(px[1] + n), off2, q);
    d3_widen2(hb_ld32(px[2] + n), hb_ld32(px[3] + n), off2, q + 1);
  }
}
#endif

/* Input row iy (zeros outside the input) into ring slot s of every group of the tile:
 * the blocks inside the input group by group, the others block by block. */
static void d3_fill_row(const d3_t *d, int iy, int s) {
  const uint32_t off2 = hb_pack16(d->p->in_offset, d->p->in_offset);
  const int pw = d->p->pad_w, inside = iy >= 0 && iy < d->H, G = d->ct / 4;
  const int8_t *xrow = d->x + (size_t)(inside ? iy : 0) * d->W * d->C + d->c0;
  const size_t gw = (size_t)d->nj * D3_BLK; /* words per group */
  /* ring blocks whose 4 columns are all inside the input: [j0, j1) */
  int j0 = (pw + 3) / 4, j1 = d->W + pw >= 4 ? (d->W + pw - 4) / 4 + 1 : 0;
  if (j1 > d->nj) j1 = d->nj;
  if (j1 < j0) j1 = j0;
  uint32_t *ring = d->ring + 2 * s;
  if (!inside) { /* a padding row: zeros */
    for (uint32_t *q = ring, *end = ring + (size_t)G * gw; q != end; q += D3_BLK)
      for (int i = 0; i < 4; i++) q[6 * i] = q[6 * i + 1] = 0;
    return;
  }
  for (int g = 0; g < G && j1 > j0; g++)
    d3_widen(xrow + (size_t)(4 * j0 - pw) * d->C + 4 * g, d->C, off2, ring + g * gw + (size_t)j0 * D3_BLK,
             ring + g * gw + (size_t)j1 * D3_BLK);
  for (int j = 0; j < d->nj; j++) {
    if (j == j0 && j1 > j0) j = j1;
    if (j >= d->nj) break;
    const int8_t *px[4];
    for (int k = 0; k < 4; k++) {
      const int ix = 4 * j + k - pw;
      px[k] = ix >= 0 && ix < d->W ? xrow + (size_t)ix * d->C : d->zprow + d->c0;
    }
    d3_widen_edge(px, off2, ring + (size_t)j * D3_BLK, ring + (size_t)G * gw + (size_t)j * D3_BLK, (int32_t)(4 * gw));
  }
}

/* Channel c's 3 weight sets, one per ring rotation t (slot s holds kernel row (s - t) mod
 * 3): m, k' (act_min folded in), the shift word, bias2, then {W01, W12} doubled for slots
 * 1, 2, 0. */
static void d3_weight_sets(const hb_conv_params_t *p, const int8_t *w, int C, int c, int32_t *set) {
  const hb_rq_t *q = &p->rq[c];
  int32_t rows[6]; /* {W01, W12} of kernel rows 0-2 */
  for (int ky = 0; ky < 3; ky++, w += 3 * (size_t)C) {
    const int32_t k0 = 2 * w[c], k1 = 2 * w[C + c], k2 = 2 * w[2 * (size_t)C + c];
    rows[2 * ky] = (int32_t)hb_pack16(k0, k1);
    rows[2 * ky + 1] = (int32_t)hb_pack16(k1, k2);
  }
  for (int t = 0; t < 3; t++, set += D3_SET) {
    set[0] = q->mult;
    set[1] = (int32_t)((uint32_t)q->k - ((uint32_t)p->act_min << q->r));
    set[2] = d3_shift_word(q->r);
    set[3] = q->bias2;
    for (int n = 0, s = 1; n < 3; n++, s = s == 2 ? 0 : s + 1) { /* slots 1, 2, 0 */
      const int ky = s >= t ? s - t : s - t + 3;
      set[4 + 2 * n] = rows[2 * ky];
      set[5 + 2 * n] = rows[2 * ky + 1];
    }
  }
}

int hb_dw3x3_dsp(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  if (!p->rq || f->dims[1] != 3 || f->dims[2] != 3 || p->stride_w != 1 || p->stride_h != 1 || p->dil_w != 1 ||
      p->dil_h != 1 || p->depth_mult != 1 || in->dims[3] % 4)
    return 0;
  d3_t d = {p, 0, in->dims[1], in->dims[2], in->dims[3], 0, 0, 0, 0, 0, 0};
  const int B = in->dims[0], OH = out->dims[1], OW = out->dims[2];
  if (OW < 1 || OH < 1) return 0; /* the block loops run at least once */
  d.nb = (OW + 3) / 4;
  d.nj = d.nb + 1;
  /* channels per tile: weight sets, rings and the collected bytes in the scratch */
  const size_t words = HB_DSP_SCRATCH_BYTES / 4, st_words = 4 * (size_t)d.nb + (size_t)d.C / 4;
  const size_t per4 = 4 * (size_t)D3_CH + (size_t)d.nj * D3_BLK;
  if (words < st_words + per4) return 0;
  const int ct_max = 4 * (int)((words - st_words) / per4);
  uint32_t *scratch = (uint32_t *)(void *)hb_dsp_scratch, *st = scratch;
  int32_t *sets = (int32_t *)(void *)(st + st_words);
  int8_t *zprow = (int8_t *)(st + 4 * (size_t)d.nb);
  for (int c = 0; c < d.C; c++) zprow[c] = (int8_t)-p->in_offset;
  d.zprow = zprow;
  const uint32_t dd = hb_bytes4(p->act_max - p->act_min), ll = hb_bytes4(p->act_min);
  const int8_t *w = (const int8_t *)f->data;
  for (d.c0 = 0; d.c0 < d.C; d.c0 += d.ct) {
    d.ct = d.C - d.c0 < ct_max ? d.C - d.c0 : ct_max;
    d.ring = (uint32_t *)(void *)(sets + (size_t)d.ct * D3_CH);
    for (int c = 0; c < d.ct; c++) d3_weight_sets(p, w, d.C, d.c0 + c, sets + (size_t)c * D3_CH);
    for (int b = 0; b < B; b++) {
      d.x = (const int8_t *)in->data + (size_t)b * d.H * d.W * d.C;
      int held[3] = {INT32_MIN, INT32_MIN, INT32_MIN}; /* the input row in each slot */
      for (int oy = 0; oy < OH; oy++) {
        const int iy0 = oy - p->pad_h, t = ((iy0 % 3) + 3) % 3;
        for (int ky = 0; ky < 3; ky++) {
          const int s = (t + ky) % 3;
          if (held[s] != iy0 + ky) d3_fill_row(&d, iy0 + ky, s);
          held[s] = iy0 + ky;
        }
        d3_job_t job = {d.ring, 96 * d.nb, sets + t * D3_SET + 3, (uint8_t *)st, 16 * d.nb - 1,
                        (int8_t *)out->data + (((size_t)b * OH + oy) * OW) * d.C + d.c0, d.C, OW / 4, OW % 4,
                        dd, ll, 4 * d.nj * D3_BLK, d.ct / 4, 96 * d.nb - 24};
        d3_rows(&job);
      }
    }
  }
  return 1;
}
#endif
