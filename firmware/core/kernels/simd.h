/* The few Armv7E-M DSP instructions the fast kernels use, with one meaning everywhere:
 * on a core with the DSP extension they are the instructions themselves (<arm_acle.h>,
 * plus inline asm for the ROR #8 forms, which GCC 12 does not fold into SXTB16/SXTAB16:
 * it emits a separate `mov ror`); elsewhere exact portable C, so the DSP kernels build
 * and are tested bit-exact on the development machine (`make native KERNELS=dsp`).
 *
 * Kernel choice (build time): HB_KERNELS_DSP selects the SIMD-MAC kernels, HB_KERNELS_C
 * the plain C ones, HB_KERNELS_MVE (with HB_KERNELS_DSP) the Helium kernels first; with none,
 * DSP when the target has __ARM_FEATURE_DSP (M4, M7, M55) and MVE when it has __ARM_FEATURE_MVE.
 * Values are 32-bit words holding two int16 lanes (lo = bits 0-15) or four int8 bytes. */
#ifndef HB_SIMD_H
#define HB_SIMD_H
#include <stdint.h>

#if !defined(HB_KERNELS_DSP) && !defined(HB_KERNELS_C) && !defined(HB_KERNELS_MVE)
#if defined(__ARM_FEATURE_DSP)
#define HB_KERNELS_DSP 1
#endif
#if defined(__ARM_FEATURE_MVE)
#define HB_KERNELS_MVE 1 /* Helium (kernels/mve.h), the DSP kernels as its fallback */
#endif
#endif
#if defined(HB_KERNELS_MVE) && !(defined(__ARM_FEATURE_MVE) && defined(HB_KERNELS_DSP))
#error "HB_KERNELS_MVE needs a core with MVE (-mcpu=cortex-m55) and HB_KERNELS_DSP (KERNELS=mve sets both)"
#endif

/* An unaligned little-endian 32-bit load (a plain LDR on Cortex-M3 and up). The builtin:
 * with -ffreestanding a plain memcpy stays a library call. */
static inline uint32_t hb_ld32(const int8_t *p) {
  uint32_t v;
  __builtin_memcpy(&v, p, 4);
  return v;
}

/* An unaligned 32-bit store, and an empty asm that hides a pointer's value from the optimiser:
 * in a copy or fill loop it stops GCC from turning the loop into a memcpy/memset call, which
 * costs ~150 instructions for the few bytes the kernels move at a time. */
static inline void hb_st32(int8_t *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
#define HB_OPAQUE(p) __asm__("" : "+r"(p))

/* Byte v in each of the 4 bytes. */
static inline uint32_t hb_bytes4(int32_t v) { return ((uint32_t)v & 0xFFu) * 0x01010101u; }

static inline uint64_t hb_pair(uint32_t lo, uint32_t hi) { return (uint64_t)hi << 32 | lo; }
static inline uint32_t hb_lo(uint64_t v) { return (uint32_t)v; }
static inline uint32_t hb_hi(uint64_t v) { return (uint32_t)(v >> 32); }

#if defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
/* The innermost MAC blocks as Thumb-2 asm: GCC 12 -O2 schedules their loads early and
 * spills pointers (FC: 28 instead of 23 instructions per 16 MACs; CONV_2D: 1.34 instead
 * of 0.97 per MAC). The C forms beside them are the same data flow (native tests). The
 * asm needs 12 free registers: not at -O0 (frame pointer); -DHB_DSP_NO_ASM also opts out
 * (e.g. with -fno-omit-frame-pointer). */
#if defined(__thumb2__) && defined(__OPTIMIZE__) && !defined(HB_DSP_NO_ASM)
#define HB_DSP_ASM 1
#endif

static inline uint32_t hb_sxtb16(uint32_t x) { return (uint32_t)__sxtb16((int32_t)x); }
static inline uint32_t hb_sxtab16(uint32_t a, uint32_t x) { return (uint32_t)__sxtab16((int32_t)a, (int32_t)x); }
static inline uint32_t hb_sxtb16_ror8(uint32_t x) {
  uint32_t r;
  __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
  return r;
}
static inline uint32_t hb_sxtab16_ror8(uint32_t a, uint32_t x) {
  uint32_t r;
  __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
  return r;
}
/* Halfword packs, PKHBT's {lo.lo, hi.lo} and PKHTB's {lo.hi, hi.hi}: no ACLE intrinsic, and
 * GCC 12 emits two or three instructions for the C form (UXTH + ORR, LSR + LSL + ORR). */
static inline uint32_t hb_pack16(int32_t lo, int32_t hi) {
  uint32_t r;
  __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(r) : "r"(lo), "r"(hi));
  return r;
}
static inline uint32_t hb_pkhtb(uint32_t hi, uint32_t lo) {
  uint32_t r;
  __asm__("pkhtb %0, %1, %2, asr #16" : "=r"(r) : "r"(hi), "r"(lo));
  return r;
}
static inline int32_t hb_smlad(uint32_t a, uint32_t b, int32_t acc) {
  return __smlad((int32_t)a, (int32_t)b, acc);
}
static inline int32_t hb_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return __smlabb((int32_t)a, (int32_t)b, acc);
}
static inline int32_t hb_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return __smlatt((int32_t)a, (int32_t)b, acc);
}
static inline int32_t hb_smlabt(uint32_t a, uint32_t b, int32_t acc) {
  return __smlabt((int32_t)a, (int32_t)b, acc);
}
static inline int32_t hb_smlatb(uint32_t a, uint32_t b, int32_t acc) {
  return __smlatb((int32_t)a, (int32_t)b, acc);
}
/* SMMLAR (no ACLE intrinsic): high word of c * 2^32 + a * b + 2^31. */
static inline int32_t hb_smmlar(int32_t a, int32_t b, int32_t c) {
  int32_t r;
  __asm__("smmlar %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(c));
  return r;
}
static inline uint32_t hb_sadd16(uint32_t a, uint32_t b) { return (uint32_t)__sadd16((int32_t)a, (int32_t)b); }
static inline int32_t hb_ssat8(int32_t x) { return __ssat(x, 8); }
static inline uint32_t hb_usat8(int32_t x) { return (uint32_t)__usat(x, 8); }
/* Each byte of v clamped to [lo, hi] (bytewise): SSUB8 sets GE where v >= lo, SEL keeps
 * v there; then the same against hi. One asm block: the GE flags must not be split. */
static inline uint32_t hb_clamp8x4(uint32_t v, uint32_t lo, uint32_t hi) {
  uint32_t t;
  __asm__("ssub8 %[t], %[v], %[lo]\n\t"
          "sel %[v], %[v], %[lo]\n\t"
          "ssub8 %[t], %[hi], %[v]\n\t"
          "sel %[v], %[v], %[hi]"
          : [v] "+r"(v), [t] "=&r"(t)
          : [lo] "r"(lo), [hi] "r"(hi)
          : "cc");
  return v;
}

#else /* portable reference semantics (Arm ARM: SXTB16, SXTAB16, SMLAD, SMLAxy, SADD16, SSAT, USAT) */

/* Halfword packs, PKHBT's {lo.lo, hi.lo} and PKHTB's {lo.hi, hi.hi}. */
static inline uint32_t hb_pack16(int32_t lo, int32_t hi) {
  return ((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16);
}
static inline uint32_t hb_pkhtb(uint32_t hi, uint32_t lo) { return (hi & 0xFFFF0000u) | (lo >> 16); }
static inline int32_t hb_lane_lo(uint32_t v) { return (int16_t)(uint16_t)(v & 0xFFFFu); }
static inline int32_t hb_lane_hi(uint32_t v) { return (int16_t)(uint16_t)(v >> 16); }
static inline int32_t hb_byte(uint32_t v, int i) { return (int8_t)(uint8_t)(v >> (8 * i)); }
static inline uint32_t hb_ror8(uint32_t x) { return (x >> 8) | (x << 24); }

/* Bytes 0 and 2, sign-extended into the low and high halfwords. */
static inline uint32_t hb_sxtb16(uint32_t x) { return hb_pack16(hb_byte(x, 0), hb_byte(x, 2)); }
static inline uint32_t hb_sxtb16_ror8(uint32_t x) { return hb_sxtb16(hb_ror8(x)); }
/* Each halfword of a plus the sign-extended byte 0 / byte 2 of x, modulo 2^16. */
static inline uint32_t hb_sxtab16(uint32_t a, uint32_t x) {
  return hb_pack16(hb_lane_lo(a) + hb_byte(x, 0), hb_lane_hi(a) + hb_byte(x, 2));
}
static inline uint32_t hb_sxtab16_ror8(uint32_t a, uint32_t x) { return hb_sxtab16(a, hb_ror8(x)); }
/* acc + lo*lo + hi*hi (signed 16 x 16), modulo 2^32 (the Q flag is not modelled). */
static inline int32_t hb_smlad(uint32_t a, uint32_t b, int32_t acc) {
  uint32_t s = (uint32_t)acc + (uint32_t)(hb_lane_lo(a) * hb_lane_lo(b)) + (uint32_t)(hb_lane_hi(a) * hb_lane_hi(b));
  return (int32_t)s;
}
static inline int32_t hb_smlabb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(hb_lane_lo(a) * hb_lane_lo(b)));
}
static inline int32_t hb_smlatt(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(hb_lane_hi(a) * hb_lane_hi(b)));
}
static inline int32_t hb_smlabt(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(hb_lane_lo(a) * hb_lane_hi(b)));
}
static inline int32_t hb_smlatb(uint32_t a, uint32_t b, int32_t acc) {
  return (int32_t)((uint32_t)acc + (uint32_t)(hb_lane_hi(a) * hb_lane_lo(b)));
}
/* High word of c * 2^32 + a * b + 2^31, modulo 2^64. */
static inline int32_t hb_smmlar(int32_t a, int32_t b, int32_t c) {
  const uint64_t v = ((uint64_t)(uint32_t)c << 32) + (uint64_t)((int64_t)a * b) + 0x80000000u;
  return (int32_t)(uint32_t)(v >> 32);
}
/* Lanewise sum modulo 2^16. */
static inline uint32_t hb_sadd16(uint32_t a, uint32_t b) {
  return hb_pack16(hb_lane_lo(a) + hb_lane_lo(b), hb_lane_hi(a) + hb_lane_hi(b));
}
static inline int32_t hb_ssat8(int32_t x) { return x < -128 ? -128 : x > 127 ? 127 : x; }
static inline uint32_t hb_usat8(int32_t x) { return x < 0 ? 0u : x > 255 ? 255u : (uint32_t)x; }
/* Each signed byte of v clamped to [lo, hi]'s byte (SSUB8 + SEL, twice). */
static inline uint32_t hb_clamp8x4(uint32_t v, uint32_t lo, uint32_t hi) {
  uint32_t r = 0;
  for (int i = 0; i < 4; i++) {
    int32_t b = hb_byte(v, i);
    b = b < hb_byte(lo, i) ? hb_byte(lo, i) : b;
    b = b > hb_byte(hi, i) ? hb_byte(hi, i) : b;
    r |= (uint32_t)(uint8_t)b << (8 * i);
  }
  return r;
}
#endif

/* One word's 4 int8 as the pair {b0,b2},{b1,b3} of int16 (SXTB16, SXTB16 ROR 8); _off: plus
 * off2's lanes (SXTAB16), e.g. x - in_zp. */
static inline uint64_t hb_widen4(uint32_t v) { return hb_pair(hb_sxtb16(v), hb_sxtb16_ror8(v)); }
static inline uint64_t hb_widen4_off(uint32_t off2, uint32_t v) {
  return hb_pair(hb_sxtab16(off2, v), hb_sxtab16_ror8(off2, v));
}

#ifdef HB_KERNELS_DSP
/* The DSP and Helium kernels work in the scratch the engine lends them (hb_ctx_t, engine.h):
 * widened input patches and a tile of widened weights (CONV_2D), widened weights and input rows
 * (DEPTHWISE_CONV_2D), the widened input vector (FULLY_CONNECTED). Each says what it needs for an
 * op (its *_scratch_size, at prepare), at most HB_DSP_SCRATCH_BYTES: the kernels that tile ask for
 * that much and work in fewer, larger tiles with more; a shape that needs more than it is given
 * falls back to other loops. The unit is often a pair of words {lo, hi} (one LDRD): the widened
 * bytes {0,2} and {1,3} of one 32-bit word. */
#ifndef HB_DSP_SCRATCH_BYTES
#define HB_DSP_SCRATCH_BYTES 16384
#endif
#endif

#endif
