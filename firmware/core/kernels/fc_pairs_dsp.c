/* FULLY_CONNECTED's fast DSP path (fully_connected.c says why its sums are exact): weights
 * read 8 at a time, two rows per pass, and the requantisation of requant_fast.h in a separate
 * pass over the batch's sums. Taken with p->rq, an even number of rows, a depth multiple of 8
 * and word-aligned weights (LDRD); otherwise fully_connected.c's 4-row loops run.
 *
 * Scratch: the input widened and doubled, one pair {x0,x2},{x1,x3} per 4 elements (2 * (x - zp)
 * fits int16: the sums are doubled, as requant_fast.h wants), then one int32 per row: 2 * bias
 * before the MAC pass, the doubled sum after it. Per 8 elements of two rows: 2 LDRD of the
 * input, per row 1 LDRD of weights, 4 extends, 4 SMLAD: 20 instructions for 16 MACs; 4 steps to a
 * loop test. About 9 instructions a row besides (pass set-up, sums) and 7 to requantise, clamp and
 * store it. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "fc_pairs_dsp.h"
#include "requant_fast.h"

typedef struct {      /* one batch; field offsets are used by the asm */
  const uint64_t *s;  /*  0: the widened input */
  const uint64_t *sm; /*  4: after its first (steps % 4) steps of 8 elements */
  const uint64_t *se; /*  8: its end */
  int32_t *acc;       /* 12: 2 * bias in, the doubled sums out; advances */
  int32_t D;          /* 16: row stride of the weights */
  int32_t n;          /* 20: row pairs left */
} fcp_job_t;

#ifdef HB_DSP_ASM
/* 8 elements of rows r6, r7 into r0, r1: input pairs r2-r5 from r11, weights r8, r9, t r10. */
#define FCP_ROW(a, w)                                                                       \
  "ldrd r8, r9, [" w "], #8\n\t"                                                            \
  "sxtb16 r10, r8\n\tsxtb16 r8, r8, ror #8\n\t"                                             \
  "smlad " a ", r10, r2, " a "\n\tsmlad " a ", r8, r3, " a "\n\t"                           \
  "sxtb16 r10, r9\n\tsxtb16 r9, r9, ror #8\n\t"                                             \
  "smlad " a ", r10, r4, " a "\n\tsmlad " a ", r9, r5, " a "\n\t"
#define FCP_STEP "ldrd r2, r3, [r11], #8\n\tldrd r4, r5, [r11], #8\n\t" FCP_ROW("r0", "r6") FCP_ROW("r1", "r7")

/* Every row pair from w (row stride D): the job's acc[] from 2 * bias to the doubled sums. */
__attribute__((noinline)) static void fcp_macs(fcp_job_t *job, const int8_t *w) {
  register fcp_job_t *rj __asm__("lr") = job;
  register const int8_t *w0 __asm__("r6") = w;
  __asm__ volatile("ldr r7, [lr, #16]\n\t"
                   "add r7, r7, r6\n"
                   "0:\n\t"
                   "ldr r12, [lr, #12]\n\t"
                   "ldrd r0, r1, [r12]\n\t"
                   "ldrd r11, r12, [lr, #0]\n\t"
                   "cmp r11, r12\n\t"
                   "beq 2f\n"
                   "1:\n\t" FCP_STEP
                   "cmp r11, r12\n\t"
                   "bne 1b\n"
                   "2:\n\t"
                   "ldr r12, [lr, #8]\n\t"
                   "cmp r11, r12\n\t"
                   "beq 4f\n"
                   "3:\n\t" FCP_STEP FCP_STEP FCP_STEP FCP_STEP
                   "cmp r11, r12\n\t"
                   "bne 3b\n"
                   "4:\n\t"
                   "ldr r12, [lr, #12]\n\t"
                   "strd r0, r1, [r12], #8\n\t"
                   "str r12, [lr, #12]\n\t"
                   "mov r6, r7\n\t" /* row 2 starts where row 1 ended */
                   "ldr r12, [lr, #16]\n\t"
                   "add r7, r7, r12\n\t"
                   "ldr r12, [lr, #20]\n\t"
                   "subs r12, r12, #1\n\t"
                   "str r12, [lr, #20]\n\t"
                   "bne 0b"
                   : "+r"(rj), "+r"(w0)
                   :
                   : "r0", "r1", "r2", "r3", "r4", "r5", "r7", "r8", "r9", "r10", "r11", "r12", "cc", "memory");
}
#undef FCP_STEP
#undef FCP_ROW

/* n4 groups of 4 doubled sums at acc -> clamped int8 at y (hb_rq_out, SSAT, bytewise clamp). */
#define FCP_RQ(a) "add r12, r5, " a ", asr #31\n\tsmmlar " a ", " a ", r4, r12\n\tasr " a ", " a ", r6\n\tssat " a ", #8, " a "\n\t"
static void fcp_requant(const int32_t *acc, int8_t *y, int n4, const hb_rq_t *q, uint32_t lo4, uint32_t hi4) {
  register int32_t m __asm__("r4") = q->mult, k __asm__("r5") = q->k, r __asm__("r6") = q->r;
  register uint32_t rlo __asm__("r7") = lo4, rhi __asm__("r8") = hi4;
  register const int32_t *ra __asm__("r9") = acc;
  register int8_t *ry __asm__("r10") = y, *end __asm__("r11") = y + 4 * n4;
  __asm__ volatile("1:\n\t"
                   "ldmia r9!, {r0, r1, r2, r3}\n\t" FCP_RQ("r0") FCP_RQ("r1") FCP_RQ("r2") FCP_RQ("r3")
                   "bfi r0, r1, #8, #8\n\t"
                   "bfi r0, r2, #16, #8\n\t"
                   "bfi r0, r3, #24, #8\n\t"
                   "ssub8 r12, r0, r7\n\t"
                   "sel r0, r0, r7\n\t"
                   "ssub8 r12, r8, r0\n\t"
                   "sel r0, r0, r8\n\t"
                   "str r0, [r10], #4\n\t"
                   "cmp r10, r11\n\t"
                   "bne 1b"
                   : "+r"(ra), "+r"(ry)
                   : "r"(m), "r"(k), "r"(r), "r"(rlo), "r"(rhi), "r"(end)
                   : "r0", "r1", "r2", "r3", "r12", "cc", "memory");
}
#undef FCP_RQ
#else
static void fcp_macs(fcp_job_t *j, const int8_t *w) {
  for (; j->n > 0; j->n--, w += 2 * (size_t)j->D, j->acc += 2) {
    const int8_t *u = w, *v = w + j->D;
    int32_t a0 = j->acc[0], a1 = j->acc[1];
    for (const uint64_t *s = j->s; s != j->se; s += 2, u += 8, v += 8) {
      const uint32_t x0 = hb_lo(s[0]), x1 = hb_hi(s[0]), x2 = hb_lo(s[1]), x3 = hb_hi(s[1]);
      const uint32_t u0 = hb_ld32(u), u1 = hb_ld32(u + 4), v0 = hb_ld32(v), v1 = hb_ld32(v + 4);
      a0 = hb_smlad(hb_sxtb16(u0), x0, a0); a0 = hb_smlad(hb_sxtb16_ror8(u0), x1, a0);
      a0 = hb_smlad(hb_sxtb16(u1), x2, a0); a0 = hb_smlad(hb_sxtb16_ror8(u1), x3, a0);
      a1 = hb_smlad(hb_sxtb16(v0), x0, a1); a1 = hb_smlad(hb_sxtb16_ror8(v0), x1, a1);
      a1 = hb_smlad(hb_sxtb16(v1), x2, a1); a1 = hb_smlad(hb_sxtb16_ror8(v1), x3, a1);
    }
    j->acc[0] = a0;
    j->acc[1] = a1;
  }
}

static void fcp_requant(const int32_t *acc, int8_t *y, int n4, const hb_rq_t *q, uint32_t lo4, uint32_t hi4) {
  for (; n4 > 0; n4--, acc += 4, y += 4) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= ((uint32_t)hb_ssat8(hb_rq_out(acc[i], q)) & 0xFFu) << (8 * i);
    v = hb_clamp8x4(v, lo4, hi4);
    __builtin_memcpy(y, &v, 4);
  }
}
#endif

/* 4 elements from x as {2(x0 - zp), 2(x2 - zp)}, {2(x1 - zp), 2(x3 - zp)}, G of them. */
static void fcp_widen(const int8_t *x, int G, int32_t io, uint64_t *s) {
  const uint32_t io2 = hb_pack16(io, io);
  for (int g = 0; g < G; g++, x += 4) {
    const uint64_t v = hb_widen4_off(io2, hb_ld32(x));
    s[g] = hb_pair(hb_sadd16(hb_lo(v), hb_lo(v)), hb_sadd16(hb_hi(v), hb_hi(v)));
  }
}

size_t hb_fc_pairs_dsp_scratch_size(const hb_fc_params_t *p) {
  const int D = p->accum_depth, OD = p->out_depth;
  const size_t need = (size_t)(D / 4) * 8 + (size_t)OD * 4;
  return !p->rq || D % 8 || D == 0 || OD % 2 || need > HB_DSP_SCRATCH_BYTES ? 0 : need;
}

int hb_fc_pairs_dsp(const hb_ctx_t *ctx, const hb_fc_params_t *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                    int8_t *y) {
  const int D = p->accum_depth, OD = p->out_depth, G = D / 4;
  const size_t need = hb_fc_pairs_dsp_scratch_size(p);
  if (!need || ((uintptr_t)w & 3) || need > ctx->size) return 0;
  uint64_t *s = (uint64_t *)ctx->buf;
  int32_t *acc = (int32_t *)(void *)(s + G);
  const uint32_t lo4 = hb_bytes4(p->act_min), hi4 = hb_bytes4(p->act_max);
  for (int b = 0; b < p->batches; b++, x += D, y += OD) {
    fcp_widen(x, G, p->in_offset, s);
    for (int oc = 0; oc < OD; oc++) acc[oc] = bias ? 2 * bias[oc] : 0;
    fcp_job_t job = {s, s + 2 * ((G / 2) % 4), s + G, acc, D, OD / 2};
    fcp_macs(&job, w);
    if (OD / 4) fcp_requant(acc, y, OD / 4, p->rq, lo4, hi4);
    for (int oc = OD & ~3; oc < OD; oc++)
      y[oc] = (int8_t)hb_clamp8x4((uint32_t)hb_ssat8(hb_rq_out(acc[oc], p->rq)) & 0xFFu, lo4, hi4);
  }
  return 1;
}
#endif
