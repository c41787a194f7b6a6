/* DEPTHWISE_CONV_2D 3x3 on small maps (dwconv3x3_dsp.c routes them here, see d6_worth):
 * channel-vectorised, and only the taps inside the input. The row kernels widen each channel's
 * rows apart and do every padding tap's MACs; on vww's 3x3 and 6x6 maps a fifth to a half of
 * the taps are padding, and a channel's fixed costs (its weight sets, the edge blocks) are
 * spread over 9 or 36 outputs only.
 *
 * Tiles of 16 channels (4 groups of 4). The tile's input map is widened once per image as the
 * words {c0,c2},{c1,c3} of x - in_zp (SXTAB16, SXTAB16 ROR 8), a map column holding the 4
 * groups' pairs (32 bytes), a map row 16 columns (512 bytes): every tap of every group is an
 * immediate offset from the group's centre pixel. Padding slots are never written nor read.
 * The weights are widened per tile the same way, doubled (the doubled accumulator of
 * requant_fast.h). Per output pixel and group, one LDM starts the 4 accumulators at bias2, each
 * real tap is LDRD x, LDRD w and SMLABB/SMLATT x 4 (4 MACs), two LDM bring m, k, r of the 4
 * channels, and each output is add (the sign's rounding), SMMLAR, ASR by register (the
 * channels' shifts differ), SSAT and STRB: the group's 4 outputs are adjacent bytes (NHWC).
 *
 * Which taps a pixel has: its kernel rows are [0,3), [1,3) (top padding) or [0,2) (bottom),
 * its columns likewise: 9 variants, each straight-line code for the 4 groups of a tile. A table
 * of the image's pixels in raster order (output step, map position, stream, variant's code)
 * drives them, one LDM (with PC) a pixel. Maps where an output has padding on both sides of one
 * axis (a 1-wide input with SAME) stay with dwconv3x3_dsp.c's kernels.
 *
 * The per-group stream (18 words, one LDM of 6 and two of 6): bias2 of c0..c3, two unused
 * words, then m, k, r of c0, c1, then of c2, c3; the tile's weights follow the 4 streams, 72
 * bytes a group as well, so one pointer (advanced by the LDMs) reaches both. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "dwconv3x3_dsp.h"
#include "requant_fast.h"

#define D6_G 4        /* groups of 4 channels a tile */
#define D6_CS 32      /* map bytes a column: the tile's groups' pairs */
#define D6_WC 16      /* map columns a row */
#define D6_RS 512     /* map bytes a row, D6_CS * D6_WC */
#define D6_SW 18      /* stream words a group: 4 bias2, 2 unused, 12 constants */
#define D6_WW (D6_G * D6_SW) /* words from the streams to the weights (72: a group's 9 taps' pairs too) */
#define D6_E 4        /* table words a pixel: output step, map position, stream, code */
#define D6_STR2(x) #x
#define D6_STR(x) D6_STR2(x)
_Static_assert(D6_RS == D6_CS * D6_WC && D6_CS == 8 * D6_G, "the map's strides");
_Static_assert(D6_SW * 4 == 9 * 8, "a group's stream and weights are both 72 bytes");

/* A tap's kernel rows or columns: [0,3) (class 0), [1,3) (1: padding before), [0,2) (2: after). */
static int d6_class(hb_span_t s) {
  if (s.k0 == 0 && s.k1 == 3) return 0;
  if (s.k0 == 1 && s.k1 == 3) return 1;
  return s.k0 == 0 && s.k1 == 2 ? 2 : -1;
}

#ifdef HB_DSP_ASM
/* Registers: accumulators r0-r3 (c0 c1 c2 c3), x r4/r5, w r6/r7, map r8 (the group's centre
 * pixel after its first LDRD), stream r9, y r10, table r11; the constants r4-r7, r12, lr. */
#define D6_MAC "smlabb r0, r4, r6, r0\n\tsmlatt r2, r4, r6, r2\n\tsmlabb r1, r5, r7, r1\n\tsmlatt r3, r5, r7, r3\n\t"
/* Tap (ky, kx): its map pair from the centre, its weights from the stream (r9 = stream + 24). */
#define D6_TAP(ky, kx)                                                                                     \
  "ldrd r4, r5, [r8, #((" #ky " - 1) * " D6_STR(D6_RS) " + (" #kx " - 1) * " D6_STR(D6_CS) ")]\n\t"       \
  "ldrd r6, r7, [r9, #(" D6_STR(D6_WW) " * 4 - 24 + 8 * (3 * " #ky " + " #kx "))]\n\t" D6_MAC
#define D6_C0(ky) D6_TAP(ky, 0) D6_TAP(ky, 1) D6_TAP(ky, 2)
#define D6_C1(ky) D6_TAP(ky, 1) D6_TAP(ky, 2)
#define D6_C2(ky) D6_TAP(ky, 0) D6_TAP(ky, 1)
#define D6_M0 D6_TAP(1, 0) D6_TAP(1, 2) /* kernel row 1 without the centre, taken first */
#define D6_M1 D6_TAP(1, 2)
#define D6_M2 D6_TAP(1, 0)
/* acc a -> its saturated output: m, k (a scratch), r in registers. */
#define D6_RQ(a, m, k, r) \
  "add " k ", " k ", " a ", asr #31\n\tsmmlar " a ", " a ", " m ", " k "\n\tasr " a ", " a ", " r "\n\tssat " a ", #8, " a "\n\t"
/* Group g of the tile: the bias2 (and 2 unused words), the centre tap (r8 moves to it), the
 * other taps, the constants and the 4 outputs at y + 4g. */
#define D6_GRP(g, TAPS)                                                                                    \
  "ldm r9!, {r0-r5}\n\tldrd r4, r5, [r8, #8]!\n\t"                                                        \
  "ldrd r6, r7, [r9, #(" D6_STR(D6_WW) " * 4 - 24 + 32)]\n\t" D6_MAC TAPS                                \
  "ldm r9!, {r4-r7, r12, lr}\n\t" D6_RQ("r0", "r4", "r5", "r6") D6_RQ("r1", "r7", "r12", "lr")            \
  "ldm r9!, {r4-r7, r12, lr}\n\t" D6_RQ("r2", "r4", "r5", "r6") D6_RQ("r3", "r7", "r12", "lr")            \
  "strb r0, [r10, #(4 * " g ")]\n\tstrb r1, [r10, #(4 * " g " + 1)]\n\t"                                   \
  "strb r2, [r10, #(4 * " g " + 2)]\n\tstrb r3, [r10, #(4 * " g " + 3)]\n\t"
/* Variant v: its 4 groups (a partial tile enters at group k by the trampoline tk), then the next
 * pixel's output step (r4), map position, stream and code from the table. */
#define D6_VAR(v, TAPS)                                                                                    \
  ".Ld6v" v "k0:\n\tadd r10, r10, r4\n\t" D6_GRP("0", TAPS) ".Ld6v" v "k1:\n\t" D6_GRP("1", TAPS)           \
  ".Ld6v" v "k2:\n\t" D6_GRP("2", TAPS) ".Ld6v" v "k3:\n\t" D6_GRP("3", TAPS)                               \
  "ldm r11!, {r4, r8, r9, pc}\n"                                                                          \
  ".Ld6v" v "t1:\n\tadd r10, r10, r4\n\tb .Ld6v" v "k1\n"                                                 \
  ".Ld6v" v "t2:\n\tadd r10, r10, r4\n\tb .Ld6v" v "k2\n"                                                 \
  ".Ld6v" v "t3:\n\tadd r10, r10, r4\n\tb .Ld6v" v "k3\n"
#define D6_ADDRS(v) ".word .Ld6v" v "k0 + 1, .Ld6v" v "t1 + 1, .Ld6v" v "t2 + 1, .Ld6v" v "t3 + 1\n\t"
/* Variant 3 * rows + columns (classes as d6_class); the centre tap is every variant's first. */
#define D6_VARS                                                                                            \
  D6_VAR("0", D6_C0(0) D6_M0 D6_C0(2)) D6_VAR("1", D6_C1(0) D6_M1 D6_C1(2))                                \
  D6_VAR("2", D6_C2(0) D6_M2 D6_C2(2)) D6_VAR("3", D6_M0 D6_C0(2)) D6_VAR("4", D6_M1 D6_C1(2))             \
  D6_VAR("5", D6_M2 D6_C2(2)) D6_VAR("6", D6_C0(0) D6_M0) D6_VAR("7", D6_C1(0) D6_M1)                      \
  D6_VAR("8", D6_C2(0) D6_M2)

/* The table's pixels from y (y - 4 k for a partial tile entered at group k). */
__attribute__((noinline, noclone)) static void d6_run(const uintptr_t *prog, int8_t *y) {
  register const uintptr_t *rp __asm__("r0") = prog;
  register int8_t *ry __asm__("r1") = y;
  __asm__ volatile("mov r11, r0\n\tmov r10, r1\n\tldm r11!, {r4, r8, r9, pc}\n" D6_VARS
                   ".pushsection .rodata\n\t.balign 4\n.Ld6addrs:\n\t" D6_ADDRS("0") D6_ADDRS("1") D6_ADDRS("2")
                   D6_ADDRS("3") D6_ADDRS("4") D6_ADDRS("5") D6_ADDRS("6") D6_ADDRS("7") D6_ADDRS("8")
                   ".word .Ld6exit + 1\n\t.popsection\n"
                   ".Ld6exit:"
                   : "+r"(rp), "+r"(ry)
                   :
                   : "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
}

/* The code of variant v entered at group k (v = 9: the end of the table). */
static uintptr_t d6_code(int v, int k) {
  uint32_t a;
  __asm__("movw %0, #:lower16:.Ld6addrs\n\tmovt %0, #:upper16:.Ld6addrs" : "=r"(a));
  return ((const uintptr_t *)a)[4 * v + k];
}

/* What the widening's asm loads: the tile's first input word, the pixel step, the offset,
 * the map's first row's first pixel, the bytes between a row's last pixel and the next row's first,
 * the first row's end, the map's end (rows of W pixels, D6_RS apart), whether W is odd. */
typedef struct {
  const int8_t *x;
  int32_t C;
  uint32_t off2;
  uint32_t *m;
  int32_t gap;
  uint32_t *row_end, *end;
  int32_t odd;
} d6_widen_job_t;

/* One image's map for a whole tile: per pixel one LDM of its 16 channels, 8 SXTAB16, one STM;
 * two pixels a loop pass, a row of odd width entering at the second. */
#define D6_PIXEL                                                                                            \
  "ldm r10, {r0-r3}\n\tadd r10, r10, r9\n\t"                                                               \
  "sxtab16 r7, r8, r3, ror #8\n\tsxtab16 r6, r8, r3\n\tsxtab16 r5, r8, r2, ror #8\n\t"                    \
  "sxtab16 r4, r8, r2\n\tsxtab16 r3, r8, r1, ror #8\n\tsxtab16 r2, r8, r1\n\t"                            \
  "sxtab16 r1, r8, r0, ror #8\n\tsxtab16 r0, r8, r0\n\tstm r11!, {r0-r7}\n"
__attribute__((noinline)) static void d6_widen_asm(const d6_widen_job_t *job) {
  register const d6_widen_job_t *rj __asm__("r0") = job;
  __asm__ volatile("ldr r10, [r0]\n\tldrd r9, r8, [r0, #4]\n\tldrd r11, lr, [r0, #12]\n\tldrd r12, r1, [r0, #20]\n\t"
                   "ldr r0, [r0, #28]\n\tadr r2, 1f + 1\n\tadr r3, 2f + 1\n\tcmp r0, #0\n\tit ne\n\tmovne r2, r3\n\t"
                   "push {r1, r2}\n\t" /* the map's end, the rows' entry */
                   "ldr pc, [sp, #4]\n"
                   "1:\n\t" D6_PIXEL "2:\n\t" D6_PIXEL
                   "cmp r11, r12\n\tbne 1b\n\t"
                   "add r11, r11, lr\n\tadd r12, r12, #" D6_STR(D6_RS) "\n\t"
                   "ldr r0, [sp]\n\tcmp r12, r0\n\tit ne\n\tldrne pc, [sp, #4]\n\t"
                   "pop {r1, r2}"
                   : "+r"(rj)
                   :
                   : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
}
/* What the tile's constants' asm loads: the first channel's hb_rq_t, its tap 0, the bytes from a
 * tap to the next, the streams (the weights D6_WW words on). */
typedef struct {
  const hb_rq_t *q;
  const int8_t *w;
  int32_t C;
  int32_t *st;
} d6_consts_job_t;

/* A whole tile's streams (per 2 channels one LDM of their hb_rq_t, a STRD of the bias2s, an STM
 * of m k r m k r) and weights (per tap 4 LDR: the filter may be unaligned). */
#define D6_STREAM(o)                                                                                        \
  "ldm r8!, {r0-r7}\n\tstrd r0, r4, [lr, #(" o ")]\n\tadd r9, lr, #(" o " + 24)\n\tstm r9, {r1-r3, r5-r7}\n\t" \
  "ldm r8!, {r0-r7}\n\tstrd r0, r4, [lr, #(" o " + 8)]\n\tadd r9, lr, #(" o " + 48)\n\tstm r9, {r1-r3, r5-r7}\n\t"
#define D6_WIDEN2(a, b) "sxtb16 " b ", " a ", ror #8\n\tsxtb16 " a ", " a "\n\tsadd16 " a ", " a ", " a "\n\tsadd16 " b ", " b ", " b "\n\t"
__attribute__((noinline)) static void d6_consts_asm(const d6_consts_job_t *job) {
  register const d6_consts_job_t *rj __asm__("r0") = job;
  __asm__ volatile("ldm r0, {r8, r10, r11, r12}\n\tmov lr, r12\n\t" D6_STREAM("0") D6_STREAM("72") D6_STREAM("144")
                   D6_STREAM("216") "add lr, r12, #(4 * " D6_STR(D6_WW) ")\n\tadd r12, lr, #72\n"
                   "1:\n\t"
                   "ldr r0, [r10]\n\tldr r2, [r10, #4]\n\tldr r4, [r10, #8]\n\tldr r6, [r10, #12]\n\tadd r10, r10, r11\n\t"
                   D6_WIDEN2("r0", "r1") D6_WIDEN2("r2", "r3") D6_WIDEN2("r4", "r5") D6_WIDEN2("r6", "r7")
                   "strd r2, r3, [lr, #72]\n\tstrd r4, r5, [lr, #144]\n\tstrd r6, r7, [lr, #216]\n\tstrd r0, r1, [lr], #8\n\t"
                   "cmp lr, r12\n\tbne 1b"
                   : "+r"(rj)
                   :
                   : "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "lr", "cc", "memory");
}
_Static_assert(sizeof(hb_rq_t) == 16 && D6_SW == 18 && D6_WW == 72, "the constants' asm layout");
#else
/* The C form of the asm above: the same table, streams and map; the code word is 4 v + k. */
static const int8_t d6_k0[3] = {0, 1, 0}, d6_k1[3] = {3, 3, 2}; /* the classes' taps [k0, k1) */
static uintptr_t d6_code(int v, int k) { return v == 9 ? UINTPTR_MAX : (uintptr_t)(4 * v + k); }

static void d6_run(const uintptr_t *e, int8_t *y) {
  for (; e[3] != UINTPTR_MAX; e += D6_E) {
    const int v = (int)(e[3] / 4), k = (int)(e[3] % 4), rc = v / 3, cc = v % 3;
    y += (intptr_t)e[0];
    const uint8_t *xc = (const uint8_t *)e[1] + 8; /* group k's centre pixel */
    const int32_t *s = (const int32_t *)e[2];
    for (int g = k; g < D6_G; g++, xc += 8, s += D6_SW) {
      int32_t a[4] = {s[0], s[1], s[2], s[3]};
      for (int ky = d6_k0[rc]; ky < d6_k1[rc]; ky++)
        for (int kx = d6_k0[cc]; kx < d6_k1[cc]; kx++) {
          const uint32_t *x = (const uint32_t *)(const void *)(xc + (ky - 1) * D6_RS + (kx - 1) * D6_CS);
          const uint32_t *w = (const uint32_t *)(const void *)(s + D6_WW) + 2 * (3 * ky + kx);
          a[0] = hb_smlabb(x[0], w[0], a[0]); a[2] = hb_smlatt(x[0], w[0], a[2]);
          a[1] = hb_smlabb(x[1], w[1], a[1]); a[3] = hb_smlatt(x[1], w[1], a[3]);
        }
      for (int i = 0; i < 4; i++) {
        const int32_t *q = s + 6 + 3 * i; /* m, k, r */
        y[4 * g + i] = (int8_t)hb_ssat8(hb_smmlar(a[i], q[0], q[1] + (a[i] >> 31)) >> q[2]);
      }
    }
  }
}
#endif

/* The op, as its tiles see it. */
typedef struct {
  const hb_conv_params_t *p;
  int B, H, W, C, OH, OW, s;
  const int8_t *x, *w;
  int8_t *y;
  int32_t *st;       /* the tile's streams, then its weights (2 D6_WW words) */
  uint32_t *map;     /* the map's first (padded) row */
  uintptr_t *prog[2]; /* the tables for a whole tile and for a tile of C % 16 channels */
} d6_op_t;

/* The table of one image (D6_E words a pixel, raster order), its last entry the end; groups:
 * the tile's (a partial tile enters each variant at group 4 - groups). */
static void d6_table(const d6_op_t *o, const int *rc, const int *cc, int groups, uintptr_t *e) {
  uintptr_t code[9];
  for (int v = 0; v < 9; v++) code[v] = d6_code(v, D6_G - groups);
  const uint8_t *row = (const uint8_t *)o->map + D6_RS + D6_CS - 8; /* output (0, 0): its centre - 8 */
  const size_t rstep = (size_t)o->s * D6_RS, cstep = (size_t)o->s * D6_CS;
  const uintptr_t step = (uintptr_t)o->C, st = (uintptr_t)o->st; /* locals: e may alias *o */
  const int OH = o->OH, OW = o->OW;
  uintptr_t *const first = e;
  for (int oy = 0; oy < OH; oy++, row += rstep) {
    const uintptr_t *vc = code + 3 * rc[oy];
    const uint8_t *xc = row;
    for (int ox = 0; ox < OW; ox++, xc += cstep, e += D6_E) {
      e[0] = step;
      e[1] = (uintptr_t)xc;
      e[2] = st;
      e[3] = vc[cc[ox]];
    }
  }
  e[0] = e[1] = e[2] = 0;
  e[3] = d6_code(9, 0);
  first[0] = 0; /* the first pixel's output step */
}

/* The streams and the doubled weights of `groups` groups from channel c0 (per tap, per group the
 * pair {c0,c2},{c1,c3} at word D6_WW + D6_SW g + 2 t). */
static void d6_tile_consts(const d6_op_t *o, int c0, int groups) {
#ifdef HB_DSP_ASM
  if (groups == D6_G) {
    const d6_consts_job_t job = {o->p->rq + c0, o->w + c0, o->C, o->st};
    d6_consts_asm(&job);
    return;
  }
#endif
  const hb_rq_t *q = o->p->rq + c0;
  int32_t *s = o->st;
  for (int g = 0; g < groups; g++, s += D6_SW, q += 4) {
    for (int i = 0; i < 4; i++) {
      s[i] = q[i].bias2;
      s[6 + 3 * i] = q[i].mult;
      s[7 + 3 * i] = q[i].k;
      s[8 + 3 * i] = q[i].r;
    }
    s[4] = s[5] = 0;
    uint32_t *wd = (uint32_t *)(void *)(s + D6_WW);
    for (int t = 0; t < 9; t++) {
      const uint32_t v = hb_ld32(o->w + (size_t)t * o->C + c0 + 4 * g);
      const uint32_t lo = hb_sxtb16(v), hi = hb_sxtb16_ror8(v);
      wd[2 * t] = hb_sadd16(lo, lo);
      wd[2 * t + 1] = hb_sadd16(hi, hi);
    }
  }
}

/* Image b's map for the tile at channel c0 (`groups` groups): pixel (iy, ix) at map row iy + pad_h,
 * column ix + pad_w. */
static void d6_widen(const d6_op_t *o, int b, int c0, int groups) {
  const int8_t *x = o->x + (size_t)b * o->H * o->W * o->C + c0;
  const uint32_t off2 = hb_pack16(o->p->in_offset, o->p->in_offset);
  uint32_t *m = o->map + (size_t)o->p->pad_h * (D6_RS / 4) + (size_t)o->p->pad_w * (D6_CS / 4);
#ifdef HB_DSP_ASM
  if (groups == D6_G && !((uintptr_t)x % 4)) { /* LDM: a constant input may be unaligned */
    const d6_widen_job_t job = {x, o->C, off2, m, D6_RS - o->W * D6_CS, m + o->W * (D6_CS / 4),
                                m + o->W * (D6_CS / 4) + (size_t)o->H * (D6_RS / 4), o->W % 2};
    d6_widen_asm(&job);
    return;
  }
#endif
  for (int iy = 0; iy < o->H; iy++, m += D6_RS / 4)
    for (int ix = 0; ix < o->W; ix++, x += o->C)
      for (int g = 0; g < groups; g++) {
        const uint64_t v = hb_widen4_off(off2, hb_ld32(x + 4 * g));
        m[ix * (D6_CS / 4) + 2 * g] = hb_lo(v);
        m[ix * (D6_CS / 4) + 2 * g + 1] = hb_hi(v);
      }
}

/* The class of each output row (along oy) or column: 0 when one is outside d6_class's. */
static int d6_classes(int n, int stride, int pad, int in, int *cls) {
  for (int o = 0; o < n; o++)
    if ((cls[o] = d6_class(hb_out_span(o, stride, pad, 1, 3, in))) < 0) return 0;
  return 1;
}

/* Whether this kernel is the cheaper one: measured on qemu-m4 against the row kernels
 * (bench.perf_kernels on single-op 64-channel maps, docs/firmware.md), it is at stride 2 for every
 * map it takes (7-60 % fewer instructions, 3x3 to 16x16 inputs), at stride 1 for up to 16 outputs
 * (2x2 of a 4x4 VALID input: 38 %) and, with padding, up to 9x9 outputs (5x5: 24 %, 7x7: 10 %,
 * 9x9: 2 %) but for the narrow rows' 6-wide ones from 6x6 on (6x6: 2 % more, 4x6: 5 % fewer);
 * the row kernels win at 10x10 (2 %), kws's 25x5 (9 %) and 6x6 without padding (17 %). */
static int d6_worth(const hb_conv_params_t *p, int OH, int OW) {
  return p->stride_w == 2 || OH * OW <= 16 || (p->pad_h && p->pad_w && OH * OW <= (OW == 6 ? 24 : 81));
}

#define D6_MAX_OUT 64 /* output rows and columns d6_classes holds */

int hb_dw3x3_small_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  d6_op_t o = {p, in->dims[0], in->dims[1], in->dims[2], in->dims[3], out->dims[1], out->dims[2], p->stride_w,
               (const int8_t *)in->data, (const int8_t *)HB_T(e, op, 1)->data, (int8_t *)out->data, 0, 0, {0, 0}};
  int rc[D6_MAX_OUT], cc[D6_MAX_OUT];
  if (p->act_min != -128 || p->act_max != 127 || o.OH > D6_MAX_OUT || o.OW > D6_MAX_OUT || o.W + p->pad_w > D6_WC ||
      !d6_worth(p, o.OH, o.OW) || !d6_classes(o.OH, o.s, p->pad_h, o.H, rc) || !d6_classes(o.OW, o.s, p->pad_w, o.W, cc))
    return 0;
  const int partial = o.C % (4 * D6_G) != 0;
  const size_t entries = ((size_t)o.OH * o.OW + 1) * D6_E, map_words = (size_t)(o.H + p->pad_h) * (D6_RS / 4);
  if ((1 + (size_t)partial) * entries * sizeof(uintptr_t) + (2 * D6_WW + map_words) * 4 > ctx->size) return 0;
  o.prog[0] = (uintptr_t *)ctx->buf;
  o.prog[1] = o.prog[0] + entries;
  o.st = (int32_t *)(void *)(o.prog[0] + (1 + (size_t)partial) * entries);
  o.map = (uint32_t *)(void *)(o.st + 2 * D6_WW);
  d6_table(&o, rc, cc, D6_G, o.prog[0]);
  if (partial) d6_table(&o, rc, cc, (o.C % (4 * D6_G)) / 4, o.prog[1]);
  const size_t ob = (size_t)o.OH * o.OW * o.C;
  for (int c0 = 0; c0 < o.C; c0 += 4 * D6_G) {
    const int groups = o.C - c0 < 4 * D6_G ? (o.C - c0) / 4 : D6_G;
    d6_tile_consts(&o, c0, groups);
    for (int b = 0; b < o.B; b++) {
      d6_widen(&o, b, c0, groups);
      /* a partial tile's first group is the code's group 4 - groups: y as if from there */
      d6_run(o.prog[groups < D6_G], (int8_t *)((uintptr_t)(o.y + (size_t)b * ob + c0) - 4u * (unsigned)(D6_G - groups)));
    }
  }
  return 1;
}
#endif
