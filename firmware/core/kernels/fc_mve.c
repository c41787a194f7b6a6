/* FULLY_CONNECTED with Helium (MVE, Cortex-M55); mve.h says why the result is the reference's.
 * The weights are read once per batch, so they are not packed (unlike conv_mve.c's): per 16
 * inputs one VLDRB of input, 4 of weights (one pointer a row) and 4 VMLADAVA.S8, 10 instructions
 * with the loop for 64 MACs; 4 rows at a time, the last group being the last 4 rows. A weights
 * zero point or under 4 rows go to the DSP kernels. */
#include "simd.h"
#ifdef HB_KERNELS_MVE
#include "conv_common.h"
#include "mve.h"

/* Rows w, w + D, w + 2D, w + 3D against x (D bytes): 4 sums, stored at a by the asm (mac_2x4). */
static void dot4(const int8_t *x, const int8_t *w, int D, int32_t a[4]) {
  register int32_t r0 __asm__("r0") = (int32_t)(uintptr_t)a;
  register const int8_t *r1 __asm__("r1") = x, *r3 __asm__("r3") = w, *r5 __asm__("r5") = w + D;
  register const int8_t *r7 __asm__("r7") = w + 2 * (size_t)D, *r9 __asm__("r9") = w + 3 * (size_t)D;
  register int32_t r8 __asm__("r8") = D >> 4, r10 __asm__("r10") = D & 15;
#define DOT_W(ra, rw) "vldrb.u8 q1, [" rw "], #16\n\tvmlava.s8 " ra ", q0, q1\n\t"
#define DOT_WT(ra, rw) "vpst\n\tvldrbt.u8 q1, [" rw "]\n\tvmlava.s8 " ra ", q0, q1\n\t"
  __asm__ volatile("push {r0}\n\t"
                   "movs r0, #0\n\tmovs r2, #0\n\tmovs r4, #0\n\tmovs r6, #0\n\t"
                   "wls lr, r8, 2f\n"
                   "1:\n\t"
                   "vldrb.u8 q0, [r1], #16\n\t" DOT_W("r0", "r3") DOT_W("r2", "r5") DOT_W("r4", "r7") DOT_W("r6", "r9")
                   "le lr, 1b\n"
                   "2:\n\t"
                   "cmp r10, #0\n\t"
                   "beq 3f\n\t"
                   "vctp.8 r10\n\t"
                   "vpst\n\t"
                   "vldrbt.u8 q0, [r1]\n\t" DOT_WT("r0", "r3") DOT_WT("r2", "r5") DOT_WT("r4", "r7") DOT_WT("r6", "r9")
                   "3:\n\t"
                   "pop {r8}\n\t"
                   "stm r8, {r0, r2, r4, r6}"
                   : "+r"(r0), "+r"(r1), "+r"(r3), "+r"(r5), "+r"(r7), "+r"(r9), "+r"(r8), "+r"(r10)
                   :
                   : "r2", "r4", "r6", "q0", "q1", "lr", "cc", "memory");
#undef DOT_W
#undef DOT_WT
}

size_t hb_fc_mve_scratch_size(const hb_op_t *op) {
  const hb_fc_params_t *p = &op->p.fc;
  const size_t need = (size_t)((p->out_depth + 3) / 4) * sizeof(hb_mve_rq4_t);
  return p->filter_offset || p->out_depth < 4 || need > HB_DSP_SCRATCH_BYTES ? 0 : need;
}

int hb_fc_mve(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  const hb_fc_params_t *p = &op->p.fc;
  const int D = p->accum_depth, OD = p->out_depth, ng = (OD + 3) / 4;
  const size_t need = hb_fc_mve_scratch_size(op);
  if (!need || need > ctx->size) return 0;
  hb_mve_rq4_t *t = (hb_mve_rq4_t *)ctx->buf;
  const int8_t *w = (const int8_t *)HB_T(e, op, 1)->data, *x = (const int8_t *)HB_T(e, op, 0)->data;
  const hb_mve_rq_src_t src = {w, D, D, hb_conv_bias(e, op), p->mult, p->shift, 1, p->in_offset};
  hb_mve_rq_fill(t, OD, &src);
  const int right = hb_mve_right_only(p->shift, OD);
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
  for (int b = 0; b < p->batches; b++, x += D, y += OD)
    for (int j = 0; j < ng; j++) {
      const int c0 = hb_mve_group_c0(j, OD);
      int32_t a[4] __attribute__((aligned(8)));
      dot4(x, w + (size_t)c0 * D, D, a);
      const int32x4_t v = right ? hb_mve_requant_right(vldrwq_s32(a), &t[j], p->out_offset)
                                : hb_mve_requant(vldrwq_s32(a), &t[j], p->out_offset);
      vstrbq_s32(y + c0, vminq_s32(vmaxq_s32(v, vdupq_n_s32(p->act_min)), vdupq_n_s32(p->act_max)));
    }
  return 1;
}
#endif
