/* The facts the Helium kernels rest on, checked on QEMU's mps3-an547 (Cortex-M55) with GCC 12's
 * arm_mve.h (tests/firmware/test_mve_probe.py builds and runs it; a bare image, no firmware):
 *  1. VMLADAVA.S8 (vmladavaq_s8) with tail predication equals the scalar int8 dot product;
 *  2. VQRDMULH, VSHR, VRSHL give the reference's requantisation (kernels/mve.h) on edge values;
 *  3. a WLSTP/LETP tail-predicated loop copies exactly n bytes (its pointer steps 16 a pass);
 *  4. VMOV of two registers to two lanes, as GCC emits it for vcreateq_s32, reads back on QEMU
 *     7.2 with the 64-bit halves swapped ({c, d, a, b}): recorded, so a QEMU that changes it
 *     shows here (the kernels never use it);
 *  5. under -icount shift=0, SysTick (32 MHz) advances one tick per 31.25 instructions: 200 000
 *     instructions of a known loop are 6 400 ticks.
 * Exit code (semihosting): 0 when all hold, else 10 + the first failing check. */
#include <arm_mve.h>
#include <stdint.h>

#define CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

extern uint32_t __stack_top;

static void probe_exit(int code) {
  volatile uint32_t block[2] = {0x20026u, (uint32_t)code};
  register uint32_t r0 __asm("r0") = 0x20u;
  register volatile uint32_t *r1 __asm("r1") = block;
  __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  for (;;) {}
}

static int8_t a[100], b[100], dst[64];

__attribute__((noipa)) static int32_t dot_mve(const int8_t *x, const int8_t *y, int n) {
  int32_t acc = 0;
  for (; n > 0; n -= 16, x += 16, y += 16) {
    const mve_pred16_t p = vctp8q((uint32_t)n);
    acc = vmladavaq_p_s8(acc, vldrbq_z_s8(x, p), vldrbq_z_s8(y, p), p);
  }
  return acc;
}

/* mve.h's requantisation of 4 lanes against the scalar reference. */
static int32_t rdbp(int32_t x, int e) {
  const int32_t mask = (int32_t)((1u << e) - 1u), rem = x & mask, thr = (mask >> 1) + (x < 0);
  return (x >> e) + (rem > thr);
}

__attribute__((noipa)) static int requant_ok(void) {
  static const int32_t acc[4] = {-1073741824, -3, 12345, 1073741823}, m = 1518500250;
  const int32x4_t r = vdupq_n_s32(-7);
  int32x4_t v = vqrdmulhq_n_s32(vld1q_s32(acc), m);
  v = vrshlq_s32(vaddq_s32(v, vshrq_n_s32(v, 31)), r);
  int32_t out[4];
  vst1q_s32(out, v);
  for (int i = 0; i < 4; i++) {
    const int64_t ab = (int64_t)acc[i] * m;
    const int32_t s = (int32_t)((ab + (ab >= 0 ? (1ll << 30) : 1 - (1ll << 30))) / (1ll << 31));
    if (out[i] != rdbp(s, 7)) return 0;
  }
  return 1;
}

__attribute__((noipa)) static int8_t *copy_tp(int8_t *d, const int8_t *s, int n) {
  int8_t *const end = d + n;
  __asm__ volatile("wlstp.8 lr, %[n], 2f\n1:\n\tvldrb.u8 q0, [%[s]], #16\n\tvstrb.8 q0, [%[d]], #16\n\tletp lr, 1b\n2:"
                   : [d] "+r"(d), [s] "+r"(s)
                   : [n] "r"(n)
                   : "q0", "lr", "memory");
  return end;
}

__attribute__((noipa)) static int32x4_t make4(int32_t p, int32_t q, int32_t r, int32_t s) {
  return vcreateq_s32((uint64_t)(uint32_t)p | (uint64_t)(uint32_t)q << 32, (uint64_t)(uint32_t)r | (uint64_t)(uint32_t)s << 32);
}

__attribute__((noipa)) static void spin(int n) { __asm volatile("1: subs %0, %0, #1\n bne 1b" : "+r"(n)); }

__attribute__((noinline)) static int probe(void) {
  int32_t ref = 0;
  for (int i = 0; i < 100; i++) {
    a[i] = (int8_t)(i * 37 - 128);
    b[i] = (int8_t)(i * 91 + 5);
    ref += a[i] * b[i];
  }
  if (dot_mve(a, b, 100) != ref) return 1;
  if (!requant_ok()) return 2;
  if (copy_tp(dst, a, 19) != dst + 19 || dst[18] != a[18] || dst[19] != 0) return 3;
  int32_t l[4];
  vst1q_s32(l, make4(1, 2, 3, 4));
  if (!(l[0] == 3 && l[1] == 4 && l[2] == 1 && l[3] == 2)) return 4;
  SYST_RVR = 0xFFFFFFu;
  SYST_CVR = 0u;
  SYST_CSR = 5u;
  spin(1000);
  const uint32_t t0 = SYST_CVR;
  spin(100000); /* 2 instructions a pass */
  const uint32_t t1 = SYST_CVR;
  return t0 - t1 == 6400u ? 0 : 5;
}

void probe_reset(void) {
  CPACR |= 0xFu << 20; /* FPU and MVE on before any vector code (probe() saves q registers) */
  __asm volatile("dsb\n isb");
  const int r = probe();
  probe_exit(r ? 10 + r : 0);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&__stack_top, probe_reset};
