/* The 3x3 depthwise kernel's weight sets (dwconv3x3_rows.h: d3_sets_t), made per channel tile at
 * each invoke. With the asm, the direct kernel's sets (map and ring) take 33 instructions a
 * channel (45 with the ring's 3 rotations) against about 70 and 117 for GCC's code of the same C,
 * which spills: for vww's 3x3x256 layer the sets were a quarter of the op. The collecting
 * kernel's sets (act_min folded into k) and the C build use the C form. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "dwconv3x3_rows.h"
#include "requant_fast.h"

/* Kernel row r's pairs {W01, W12}, doubled (taps at t, `along` bytes apart): one channel at a time,
 * 3 LDRSB, 3 doublings and 2 PKHBT; the 4-channel SIMD form (SXTB16 of a word per tap) kept 24
 * pair words live and spilled them, 90 instructions a channel against about 40 this way. */
static inline void d3_pairs(const int8_t *t, size_t along, uint32_t w[2]) {
  const int32_t x0 = 2 * t[0], x1 = 2 * t[along], x2 = 2 * t[2 * along];
  w[0] = hb_pack16(x0, x1);
  w[1] = hb_pack16(x1, x2);
}

/* One set's pairs {W01, W12} for slots 1, 2, 0 (kernel rows ra, rb, rc). */
static inline void d3_set(int32_t *set, const uint32_t *ra, const uint32_t *rb, const uint32_t *rc) {
  set[4] = (int32_t)ra[0]; set[5] = (int32_t)ra[1]; set[6] = (int32_t)rb[0]; set[7] = (int32_t)rb[1];
  set[8] = (int32_t)rc[0]; set[9] = (int32_t)rc[1];
}

/* Each set's two offsets: channel c's input offset in + (c / 4) gw4 + (c % 4) cw4 (in: an address
 * with the asm), its output offset c; n a multiple of 4 (tiles are), sz the words from a channel's sets to the next's, nrot constant
 * at each call (about 5 instructions a set with the asm, against 13 a channel for one loop
 * stepping the offset). */
static inline __attribute__((always_inline)) void d3_offsets(int32_t *set, int n, int sz, int nrot, int32_t gw4,
                                                            int32_t cw4, int32_t in) {
  for (int32_t c = 0, off = in; c < n; c += 4, off += gw4)
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++, set += sz)
      for (int r = 0; r < nrot; r++) {
        set[r * D4_SET + 11] = off + i * cw4;
        set[r * D4_SET + 12] = c + i;
      }
}

/* The sets of channels [c0, c0 + n) in C; sz, nrot and fold constant at each call (always inlined). */
static inline __attribute__((always_inline)) void d3_sets_k(const d3_sets_t *a, int c0, int n, int32_t *set, int sz,
                                                           int nrot, int fold) {
  const size_t along = a->tr ? 3 * (size_t)a->C : (size_t)a->C, across = a->tr ? (size_t)a->C : 3 * (size_t)a->C;
  const uint32_t lo = fold ? (uint32_t)a->p->act_min : 0;
  const int32_t *words = a->words;
  const hb_rq_t *q = a->p->rq + c0;
  const int8_t *t = a->w + c0;
  if (sz == D4_SET) d3_offsets(set, n, nrot * sz, nrot, 4 * a->gw, 4 * a->cw, a->in);
  for (int c = 0; c < n; c++, t++, q++, set += nrot * sz) {
    uint32_t w0[2], w1[2], w2[2]; /* kernel rows 0, 1, 2: {W01, W12} */
    d3_pairs(t, along, w0);
    d3_pairs(t + across, along, w1);
    d3_pairs(t + 2 * across, along, w2);
    const int32_t r = q->r, h[4] = {q->mult, (int32_t)((uint32_t)q->k - (lo << r)), words[r], q->bias2};
    for (int k = 0; k < nrot; k++) { /* rotation 0: rows 1 2 0; 1: rows 0 1 2; 2: rows 2 0 1 */
      int32_t *st = set + k * sz;
      st[0] = h[0]; st[1] = h[1]; st[2] = h[2]; st[3] = h[3]; st[10] = r;
    }
    d3_set(set, w1, w2, w0);
    if (nrot == 3) {
      d3_set(set + sz, w0, w1, w2);
      d3_set(set + 2 * sz, w2, w0, w1);
    }
  }
}



#ifdef HB_DSP_ASM
/* What the asm loads with one LDM (r5-r12): the first channel's taps, the tap step along a kernel
 * row and twice it, the row step, the hb_rq_t, the shift words, the first set, past the last. */
typedef struct {
  const int8_t *t;
  int32_t along, along2, across;
  const hb_rq_t *q;
  const int32_t *words;
  int32_t *set, *end;
} d3_sets_job_t;

/* Kernel row at r4 (taps r4, r4 + along, r4 + 2 along): {W01, W12} doubled into r0, r1
 * (W01 = PKHBT(2 x0, x1 LSL 17), W12 = PKHBT(2 x1, x2 LSL 17)), stored at each offset of STS. */
#define D3S_PAIRS(LOADS, STS)                                                                      \
  LOADS "lsl r0, r0, #1\n\tpkhbt r0, r0, r1, lsl #17\n\tlsl r1, r1, #1\n\tpkhbt r1, r1, r2, lsl #17\n\t" STS
#define D3S_ROW(STS) D3S_PAIRS("ldrsb r0, [r4]\n\tldrsb r1, [r4, r6]\n\tldrsb r2, [r4, r7]\n\t", STS)
/* Kernel row 0 from r5 itself, which its last load moves to the next channel's taps. */
#define D3S_ROW0(STS) D3S_PAIRS("ldrsb r1, [r5, r6]\n\tldrsb r2, [r5, r7]\n\tldrsb r0, [r5], #1\n\t", STS)
#define D3S_ST(o) "strd r0, r1, [r11, #" o "]\n\t"
/* The constants m, k, the shift word, bias2 and r of a set at byte o. */
#define D3S_K(o) "strd r1, r2, [r11, #" o "]\n\tstrd r4, r0, [r11, #(" o "+8)]\n\tstr r3, [r11, #(" o "+40)]\n\t"
/* Per channel: kernel rows 1, 2, 0 (their pairs to every rotation's slot), then the constants. */
#define D3S_ASM(R0, R1, R2, KS, STEP)                                                              \
  "ldm r0, {r5-r12}\n"                                                                            \
  "1:\n\t"                                                                                         \
  "add r4, r5, r8\n\t" D3S_ROW(R1) "add r4, r4, r8\n\t" D3S_ROW(R2) D3S_ROW0(R0)                  \
  "ldm r9!, {r0, r1, r2, r3}\n\tldr r4, [r10, r3, lsl #2]\n\t" KS                                 \
  "add r11, r11, #" STEP "\n\tcmp r11, r12\n\tbne 1b"
#define D3S_FN(name, R0, R1, R2, KS, STEP)                                                         \
  __attribute__((noinline)) static void name(const d3_sets_job_t *job) {                          \
    register const d3_sets_job_t *rj __asm__("r0") = job;                                         \
    __asm__ volatile(D3S_ASM(R0, R1, R2, KS, STEP)                                                \
                     : "+r"(rj)                                                                   \
                     :                                                                            \
                     : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", \
                       "cc", "memory");                                                           \
  }
/* Map (rotation 0: slots 1 2 0 hold kernel rows 1 2 0): row 0 at byte 32, row 1 at 16, row 2 at 24. */
D3S_FN(d3_sets_map, D3S_ST("32"), D3S_ST("16"), D3S_ST("24"), D3S_K("0"), "52")
/* Ring: rotations 0, 1, 2 at bytes 0, 52, 104 (kernel rows 1 2 0, 0 1 2, 2 0 1 in slots 1 2 0). */
D3S_FN(d3_sets_ring, D3S_ST("32") D3S_ST("68") D3S_ST("128"), D3S_ST("16") D3S_ST("76") D3S_ST("136"),
       D3S_ST("24") D3S_ST("84") D3S_ST("120"), D3S_K("0") D3S_K("52") D3S_K("104"), "156")
_Static_assert(D4_SET == 13, "the asm's sets are 52 bytes");

/* The direct kernel's sets: pairs and constants in asm, then each set's two offsets. */
static void d3_sets_asm(const d3_sets_t *a, int c0, int n, int32_t *set) {
  const int tr = a->tr, nrot = a->nrot, sz = nrot * D4_SET;
  const int32_t along = tr ? 3 * a->C : a->C, gw4 = 4 * a->gw, cw4 = 4 * a->cw;
  const d3_sets_job_t job = {a->w + c0, along, 2 * along, tr ? a->C : 3 * a->C, a->p->rq + c0, a->words,
                             set, set + (size_t)n * sz};
  (nrot == 3 ? d3_sets_ring : d3_sets_map)(&job);
  if (nrot == 3) d3_offsets(set, n, sz, 3, gw4, cw4, a->in);
  else d3_offsets(set, n, sz, 1, gw4, cw4, a->in);
}
#endif

void hb_d3_sets(const d3_sets_t *a, int c0, int n, int32_t *set) {
  if (n <= 0) return;
  if (a->fold) d3_sets_k(a, c0, n, set, D3_SET, 3, 1);
#ifdef HB_DSP_ASM
  else d3_sets_asm(a, c0, n, set);
#else
  else if (a->nrot == 3) d3_sets_k(a, c0, n, set, D4_SET, 3, 0);
  else d3_sets_k(a, c0, n, set, D4_SET, 1, 0);
#endif
}
#endif
