/* The DSP set's cheaper non-MAC ops: ADD by two lookup tables and requant_fast.h, and
 * AVERAGE_POOL_2D summing 4 channels per load with SXTAB16. Both give exactly what
 * elementwise.c / pool.c give (those stay the KERNELS=c kernels and the fallback).
 *
 * ADD: the reference scales each input on its own, x -> scaled(x) = hb_mbqm((x - zp) << 20, m, s),
 * then requantises the sum. scaled() takes 256 values per input: both tables are built per invoke
 * in the scratch by that same function (512 entries), doubled, so that the sum is requant_fast.h's
 * acc2. |scaled| < 255 * 2^20, so |sum| < 2^30: hb_rq_out is exact whenever the output shift is in
 * [-22, -1] (tools/requant_check.c), which prepare sees (other shifts keep elementwise.c's loop).
 * Per element 2 byte loads, 2 table loads, the add and 4 instructions of requantisation; the
 * clamp and the stores go 4 outputs at a time.
 *
 * AVERAGE_POOL_2D: a window of at most 256 pixels sums in int16 lanes without overflow
 * (|sum| <= 256 * 128), so SXTAB16 adds channels {0,2} and {1,3} of a word in one instruction each;
 * the rounding division is pool.c's. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "../fixedpoint.h"
#include "elementwise_dsp.h"
#include "requant_fast.h"

/* 2 * scaled(x) for x = -128..127 at t[(uint8_t)x]. */
static void add_table(int32_t *t, int32_t offset, int32_t mult, int shift) {
  for (int x = -128; x < 128; x++)
    t[(uint8_t)x] = 2 * hb_mbqm((int32_t)((uint32_t)(x + offset) << 20), mult, shift);
}

static inline uint32_t add_one(const int32_t *t1, const int32_t *t2, int8_t a, int8_t b, const hb_rq_t *q) {
  return (uint32_t)hb_ssat8(hb_rq_out(t1[(uint8_t)a] + t2[(uint8_t)b], q)) & 0xFFu;
}

#ifdef HB_DSP_ASM
/* One element into register a: 2 byte loads, 2 table loads, the sum, hb_rq_out (r0-r2 hold
 * m, k, r: see add_rows), SSAT. */
#define ADD_ONE(a)                                                                 \
  "ldrb " a ", [r3], #1\n\t"                                                     \
  "ldrb r12, [r4], #1\n\t"                                                       \
  "ldr " a ", [r6, " a ", lsl #2]\n\t"                                          \
  "ldr r12, [r7, r12, lsl #2]\n\t"                                              \
  "add " a ", " a ", r12\n\t"                                                   \
  "add r12, r1, " a ", asr #31\n\t"                                             \
  "smmlar " a ", " a ", r0, r12\n\t"                                            \
  "asr " a ", " a ", r2\n\t"                                                    \
  "ssat " a ", #8, " a "\n\t"
/* n4 groups of 4 elements: 47 instructions a group (the clamp bounds from the stack). */
static void add_rows(const int8_t *a, const int8_t *b, int8_t *y, int32_t n4, const int32_t *t1, const hb_rq_t *q,
                     uint32_t lo4, uint32_t hi4) {
  register int32_t m __asm__("r0") = q->mult, k __asm__("r1") = q->k, r __asm__("r2") = q->r;
  register const int8_t *ra __asm__("r3") = a, *rb __asm__("r4") = b;
  register int8_t *ry __asm__("r5") = y;
  register const int32_t *rt1 __asm__("r6") = t1, *rt2 __asm__("r7") = t1 + 256;
  register int8_t *end __asm__("r8") = y + 4 * n4;
  register uint32_t rlo __asm__("r9") = lo4, rhi __asm__("r10") = hi4;
  __asm__ volatile("push {r9, r10}\n"
                   "1:\n\t" ADD_ONE("r9") ADD_ONE("r10") ADD_ONE("r11") ADD_ONE("lr")
                   "bfi r9, r10, #8, #8\n\t"
                   "bfi r9, r11, #16, #8\n\t"
                   "bfi r9, lr, #24, #8\n\t"
                   "ldrd r10, r11, [sp]\n\t"
                   "ssub8 r12, r9, r10\n\t"
                   "sel r9, r9, r10\n\t"
                   "ssub8 r12, r11, r9\n\t"
                   "sel r9, r9, r11\n\t"
                   "str r9, [r5], #4\n\t"
                   "cmp r5, r8\n\t"
                   "bne 1b\n\t"
                   "add sp, sp, #8"
                   : "+r"(ra), "+r"(rb), "+r"(ry), "+r"(rlo), "+r"(rhi)
                   : "r"(m), "r"(k), "r"(r), "r"(rt1), "r"(rt2), "r"(end)
                   : "r11", "r12", "lr", "cc", "memory");
}
#undef ADD_ONE
#else
static void add_rows(const int8_t *a, const int8_t *b, int8_t *y, int32_t n4, const int32_t *t1, const hb_rq_t *q,
                     uint32_t lo4, uint32_t hi4) {
  const int32_t *t2 = t1 + 256;
  for (; n4 > 0; n4--, a += 4, b += 4, y += 4) {
    const uint32_t v = add_one(t1, t2, a[0], b[0], q) | add_one(t1, t2, a[1], b[1], q) << 8 |
                       add_one(t1, t2, a[2], b[2], q) << 16 | add_one(t1, t2, a[3], b[3], q) << 24;
    const uint32_t c = hb_clamp8x4(v, lo4, hi4);
    __builtin_memcpy(y, &c, 4);
  }
}
#endif

static int add_takes(const hb_binary_params_t *p) {
  return !p->broadcast && -p->out_shift >= 1 && -p->out_shift <= HB_RQ_MAX_R;
}

size_t hb_add_dsp_scratch_size(const hb_op_t *op) { return add_takes(&op->p.bin) ? 2 * 256 * sizeof(int32_t) : 0; }

int hb_add_dsp(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  const hb_binary_params_t *p = &op->p.bin;
  const int r = -p->out_shift;
  if (!add_takes(p) || ctx->size < hb_add_dsp_scratch_size(op)) return 0;
  int32_t *t1 = (int32_t *)ctx->buf, *t2 = t1 + 256;
  add_table(t1, p->in1_offset, p->in1_mult, p->in1_shift);
  add_table(t2, p->in2_offset, p->in2_mult, p->in2_shift);
  const hb_rq_t q = {0, p->out_mult, (1 << (r - 1)) + (int32_t)((uint32_t)p->out_offset << r), r};
  const uint32_t lo4 = hb_bytes4(p->act_min), hi4 = hb_bytes4(p->act_max);
  const int8_t *a = (const int8_t *)HB_T(e, op, 0)->data, *b = (const int8_t *)HB_T(e, op, 1)->data;
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
  const int32_t n4 = p->count / 4;
  if (n4) add_rows(a, b, y, n4, t1, &q, lo4, hi4);
  for (int32_t i = 4 * n4; i < p->count; i++) y[i] = (int8_t)hb_clamp8x4(add_one(t1, t2, a[i], b[i], &q), lo4, hi4);
  return 1;
}

/* 4 channels from x (the batch's input at channel c) over rows [iy0, iy1) and columns [ix0, ix1):
 * the int16 sums {c0,c2} and {c1,c3}. */
static uint64_t window_sums(const int8_t *x, int W, int C, int iy0, int iy1, int ix0, int ix1) {
  uint32_t lo = 0, hi = 0;
  for (int iy = iy0; iy < iy1; iy++) {
    const int8_t *px = x + ((size_t)iy * W + (size_t)ix0) * C;
    for (int ix = ix0; ix < ix1; ix++, px += C) {
      const uint32_t v = hb_ld32(px);
      lo = hb_sxtab16(lo, v);
      hi = hb_sxtab16_ror8(hi, v);
    }
  }
  return hb_pair(lo, hi);
}

static inline int8_t avg_out(int32_t acc, int count, const hb_pool_params_t *p) {
  acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
  acc = acc < p->act_min ? p->act_min : acc;
  return (int8_t)(acc > p->act_max ? p->act_max : acc);
}

int hb_avgpool_dsp(hb_engine_t *e, const hb_op_t *op) {
  const hb_pool_params_t *p = &op->p.pool;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3], OH = out->dims[1], OW = out->dims[2];
  if (C % 4 || (int32_t)p->filter_w * p->filter_h > 256) return 0;
  int8_t *y = (int8_t *)out->data;
  for (int b = 0; b < B; b++)
    for (int oy = 0; oy < OH; oy++) {
      const int iy0 = oy * p->stride_h - p->pad_h;
      const int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = p->filter_h < H - iy0 ? p->filter_h : H - iy0;
      for (int ox = 0; ox < OW; ox++, y += C) {
        const int ix0 = ox * p->stride_w - p->pad_w;
        const int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = p->filter_w < W - ix0 ? p->filter_w : W - ix0;
        const int count = (ky1 - ky0) * (kx1 - kx0);
        const int8_t *x = (const int8_t *)in->data + (size_t)b * H * W * C;
        for (int c = 0; c < C; c += 4) {
          const uint64_t s = window_sums(x + c, W, C, iy0 + ky0, iy0 + ky1, ix0 + kx0, ix0 + kx1);
          y[c] = avg_out((int16_t)hb_lo(s), count, p);
          y[c + 1] = avg_out((int16_t)hb_hi(s), count, p);
          y[c + 2] = avg_out((int16_t)(hb_lo(s) >> 16), count, p);
          y[c + 3] = avg_out((int16_t)(hb_hi(s) >> 16), count, p);
        }
      }
    }
  return 1;
}
#endif
