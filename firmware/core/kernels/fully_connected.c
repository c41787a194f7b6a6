/* FULLY_CONNECTED, int8: per-channel or per-tensor weights [out, accum], optional
 * int32 bias; batches = output elements / output depth. */
#include "../fixedpoint.h"
#include "../ops.h"
#include "quant_params.h"
#include "simd.h"
#include "conv_common.h" /* hb_requant */
#include "s16.h"
#include "requant_fast.h"
#include "mve.h"
#ifdef HB_KERNELS_DSP
#include "fc_pairs_dsp.h"
static size_t hb_fc_dsp_scratch_size(const hb_fc_params_t *p);
#endif

/* FullyConnectedOptions: act(0) weights_format(1) keep_num_dims(2). */
int hb_prepare_fc(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_fc_params_t *p = &op->p.fc;
  fb_table_t t;
  uint8_t act = 0, fmt = 0;
  int r = hb_options(e, idx, &t);
  if (r < 0 || (r > 0 && (fb_u8(&t, 0, 0, &act) < 0 || fb_u8(&t, 1, 0, &fmt) < 0))) return hb_opt_corrupt(e, idx, err);
  if (fmt != 0) return hb_unsupported(e, idx, "shuffled weights format", err);
  if (hb_need_input(e, idx, 0, err) || hb_need_input(e, idx, 1, err)) return err->code;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int at = hb_act_type(in);
  if (hb_need_type(e, idx, in, at, "input", err) || hb_need_type(e, idx, f, HB_INT8, "weights", err) ||
      hb_need_type(e, idx, out, at, "output", err) || hb_need_const(e, idx, f, "non-constant weights", err) ||
      hb_need_ndims(e, idx, f, 2, "weights", err))
    return err->code;
  if (out->ndims < 1) return hb_bad_shape(e, idx, "scalar output", err);
  p->out_depth = out->dims[out->ndims - 1];
  p->accum_depth = f->dims[1];
  p->batches = (int32_t)(hb_elems(out) / (uint32_t)p->out_depth);
  if (p->out_depth != f->dims[0] || (uint64_t)p->batches * (uint64_t)p->accum_depth != hb_elems(in))
    return hb_bad_shape(e, idx, "input, weights and output shapes disagree", err);
  if (f->zp < -128 || f->zp > 127) return hb_bad_shape(e, idx, "weights zero point out of range", err);
  p->in_offset = -in->zp;
  p->filter_offset = f->nscales > 1 ? 0 : -f->zp;  /* per-channel weights are symmetric */
  /* Each term is at most 128*255 (255*255 with a weights zero point): keep the sum in int32. */
  if (p->accum_depth > (p->filter_offset ? 32768 : 65536))
    return hb_unsupported(e, idx, "accumulation depth too large for int32 sums", err);
  p->out_offset = out->zp;
  if (at == HB_INT16) return hb_fc_s16(e, idx, act, err);
  if (hb_bias_check(e, idx, op->nin > 2 ? op->in[2] : -1, p->out_depth, err) ||
      hb_channel_params(e, idx, in, f, out, p->out_depth, 0, &p->mult, &p->shift, err))
    return err->code;
  p->rq = 0;
#ifdef HB_KERNELS_DSP
  const hb_rq_src_t src = {p->mult, p->shift, hb_conv_bias(e, op), (const int8_t *)f->data, p->out_depth, p->accum_depth, p->accum_depth, 1, p->in_offset,
                           p->out_offset, 1};
  if (!p->filter_offset) p->rq = hb_rq_make(e, &src);
  hb_scratch_need(e, hb_fc_dsp_scratch_size(p));
#endif
#ifdef HB_KERNELS_MVE
  hb_scratch_need(e, hb_fc_mve_scratch_size(op));
#endif
  return hb_act_range(e, idx, act, out, &p->act_min, &p->act_max, err);
}

#ifdef HB_ALTER_FC_SINGLE_ROUNDING
/* A deliberately altered engine for tests/host/test_attribution_engine.py: one rounding of the
 * 64-bit product, ties toward +inf (TFLITE_SINGLE_ROUNDING), instead of TFLM's two. Never built
 * into a release: the op replay (harness explain) must catch and name it. */
#define hb_requant(x, m, s) \
  ((int32_t)(((int64_t)(x) * (m) + ((int64_t)1 << (30 - (s)))) >> (31 - (s))))
#endif

static inline int8_t fc_out(int32_t acc, const int32_t *bias, const hb_fc_params_t *p, int oc) {
  if (bias) acc = hb_add_wrap(acc, bias[oc]);
  acc = hb_add_wrap(hb_requant(acc, p->mult[oc], p->shift[oc]), p->out_offset);
  acc = acc < p->act_min ? p->act_min : acc;
  return (int8_t)(acc > p->act_max ? p->act_max : acc);
}

#ifdef HB_KERNELS_DSP
/* The same exact int32 sums as the C loops below, by SIMD MACs (simd.h):
 * sum (w + fo)(x + io) = sum w (x + io) + fo * sum (x + io), all modulo 2^32 and the true
 * value fits in int32 (prepare's depth limit), so the result is identical. The input
 * vector is widened once per batch into the scratch, one pair {x0,x2},{x1,x3} per 4
 * elements; four weight rows share each LDRD of it. */
static uint32_t fc_widen(const int8_t *x, int D, int32_t io, int dbl, uint64_t *s) {
  const uint32_t io2 = hb_pack16(io, io);
  uint32_t sum = 0;
  for (int d = 0; d + 4 <= D; d += 4, s++) {
    const uint32_t v = hb_ld32(x + d);
    const uint64_t x4 = hb_widen4_off(io2, v);
    *s = dbl ? hb_pair(hb_sadd16(hb_lo(x4), hb_lo(x4)), hb_sadd16(hb_hi(x4), hb_hi(x4))) : x4;
  }
  if (!dbl)
    for (int d = 0; d < D; d++) sum += (uint32_t)((int32_t)x[d] + io);
  return sum;
}

#ifdef HB_DSP_ASM
#define FC_ROW_ASM(a, load)                                                        \
  load "\n\t"                                                                     \
  "sxtb16 %[t], %[v]\n\t"                                                         \
  "sxtb16 %[v], %[v], ror #8\n\t"                                                 \
  "smlad %[" #a "], %[t], %[xa], %[" #a "]\n\t"                                   \
  "smlad %[" #a "], %[v], %[xb], %[" #a "]\n\t"
/* One LDRD of the input pair, then rows 2 and 3 ([w0 + 2D], [w1 + 2D]), rows 0 and 1
 * (post-incremented): 21 instructions for 16 MACs. */
#define FC_GROUP4()                                                                \
  __asm__("ldrd %[xa], %[xb], [%[sx]], #8\n\t"                                    \
          FC_ROW_ASM(a2, "ldr %[v], [%[w0], %[d2]]")                               \
          FC_ROW_ASM(a3, "ldr %[v], [%[w1], %[d2]]")                               \
          FC_ROW_ASM(a0, "ldr %[v], [%[w0]], #4")                                  \
          FC_ROW_ASM(a1, "ldr %[v], [%[w1]], #4")                                  \
          : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w0] "+r"(w0), \
            [w1] "+r"(w1), [sx] "+r"(s), [xa] "=&r"(xa), [xb] "=&r"(xb), [v] "=&r"(v), \
            [t] "=&r"(t)                                                           \
          : [d2] "r"(D2)                                                           \
          : "memory")
#define FC_GROUP1()                                                                \
  __asm__("ldrd %[xa], %[xb], [%[sx]], #8\n\t"                                    \
          FC_ROW_ASM(a0, "ldr %[v], [%[w0]], #4")                                  \
          : [a0] "+r"(a0), [w0] "+r"(w), [sx] "+r"(s), [xa] "=&r"(xa), [xb] "=&r"(xb), \
            [v] "=&r"(v), [t] "=&r"(t)                                             \
          :                                                                        \
          : "memory")
#define FC_TEMPS uint32_t xa, xb, v, t
#else
#define FC_ROW(a, v)                                                    \
  do {                                                                  \
    const uint32_t v_ = (v);                                            \
    a = hb_smlad(hb_sxtb16(v_), xa, a);                                 \
    a = hb_smlad(hb_sxtb16_ror8(v_), xb, a);                            \
  } while (0)
#define FC_GROUP4()                                                     \
  do {                                                                  \
    const uint32_t xa = hb_lo(*s), xb = hb_hi(*s);                      \
    FC_ROW(a0, hb_ld32(w0)); FC_ROW(a1, hb_ld32(w1));                   \
    FC_ROW(a2, hb_ld32(w0 + D2)); FC_ROW(a3, hb_ld32(w1 + D2));         \
    s++; w0 += 4; w1 += 4;                                              \
  } while (0)
#define FC_GROUP1()                                                     \
  do {                                                                  \
    const uint32_t xa = hb_lo(*s), xb = hb_hi(*s);                      \
    FC_ROW(a0, hb_ld32(w));                                             \
    s++; w += 4;                                                        \
  } while (0)
#define FC_TEMPS
#endif

/* Rows w0..w3 (stride D) over the pairs [s, send): per 4 elements one LDRD of the input
 * and per row 1 LDR, 2 extends, 2 SMLAD. Rows 2 and 3 are addressed from rows 0 and 1
 * plus 2D, which keeps every value of the loop in a register on a Cortex-M. */
static void fc_rows4(const int8_t *w0, size_t D, const uint64_t *s, const uint64_t *send, int32_t a[4]) {
  const int8_t *w1 = w0 + D;
  const size_t D2 = 2 * D;
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  FC_TEMPS;
  while ((size_t)(send - s) >= 4) { FC_GROUP4(); FC_GROUP4(); FC_GROUP4(); FC_GROUP4(); } /* loop test per 64 MACs */
  while (s != send) FC_GROUP4();
  a[0] = a0; a[1] = a1; a[2] = a2; a[3] = a3;
}

static int32_t fc_row1(const int8_t *w, const uint64_t *s, const uint64_t *send) {
  int32_t a0 = 0;
  FC_TEMPS;
  while (s != send) FC_GROUP1();
  return a0;
}

/* Output oc from its exact sum a (of w * (x + io), doubled with p->rq). */
static inline int8_t fc_dsp_out(const hb_fc_params_t *p, int32_t a, uint32_t fo_sum, const int32_t *bias, int oc) {
  if (!p->rq) return fc_out(hb_add_wrap(a, (int32_t)fo_sum), bias, p, oc);
  const int32_t v = hb_ssat8(hb_rq_out(bias ? hb_add_wrap(a, 2 * bias[oc]) : a, p->rq));
  return (int8_t)(v < p->act_min ? p->act_min : v > p->act_max ? p->act_max : v);
}

/* The scratch of the DSP loops (the widened input vector) or of hb_fc_pairs_dsp, the larger. */
static size_t hb_fc_dsp_scratch_size(const hb_fc_params_t *p) {
  const size_t own = (size_t)(p->accum_depth / 4) * 8, pairs = hb_fc_pairs_dsp_scratch_size(p);
  return pairs > own ? pairs : own <= HB_DSP_SCRATCH_BYTES ? own : 0;
}

static int fc_dsp(const hb_ctx_t *ctx, const hb_fc_params_t *p, const int8_t *x, const int8_t *w, const int32_t *bias,
                  int8_t *y) {
  const int D = p->accum_depth, G = D / 4, OD = p->out_depth, k = p->rq ? 2 : 1;
  if (hb_fc_pairs_dsp(ctx, p, x, w, bias, y)) return 1;
  if ((size_t)G * 8 > HB_DSP_SCRATCH_BYTES || (size_t)G * 8 > ctx->size) return 0;
  uint64_t *s = (uint64_t *)ctx->buf, *send = s + G;
  for (int b = 0; b < p->batches; b++, x += D, y += OD) {
    const uint32_t fo_sum = (uint32_t)p->filter_offset * fc_widen(x, D, p->in_offset, k == 2, s);
    for (int oc = 0; oc < OD;) {
      int32_t a[4];
      const int n = OD - oc >= 4 ? 4 : 1;
      if (n == 4) fc_rows4(w + (size_t)oc * D, (size_t)D, s, send, a);
      else a[0] = fc_row1(w + (size_t)oc * D, s, send);
      for (int r = 0; r < n; r++, oc++) {
        const int8_t *wr = w + (size_t)oc * D;
        for (int d = 4 * G; d < D; d++) a[r] += (int32_t)wr[d] * k * ((int32_t)x[d] + p->in_offset);
        y[oc] = fc_dsp_out(p, a[r], fo_sum, bias, oc);
      }
    }
  }
  return 1;
}
#endif

void hb_eval_fc(hb_engine_t *e, const hb_op_t *op) {
  const hb_fc_params_t *p = &op->p.fc;
  const int8_t *x = (const int8_t *)HB_T(e, op, 0)->data, *w = (const int8_t *)HB_T(e, op, 1)->data;
  const int32_t *bias = hb_conv_bias(e, op);
  int8_t *y = (int8_t *)HB_OUT(e, op)->data;
#ifdef HB_KERNELS_MVE
  if (hb_fc_mve(&e->scratch, e, op)) return;
#endif
#ifdef HB_KERNELS_DSP
  if (fc_dsp(&e->scratch, p, x, w, bias, y)) return;
#endif
  const int D = p->accum_depth;
  const int32_t fo = p->filter_offset, io = p->in_offset;
  for (int b = 0; b < p->batches; b++) {
    const int8_t *xb = x + (size_t)b * D;
    for (int oc = 0; oc < p->out_depth; oc++) {
      const int8_t *wr = w + (size_t)oc * D;
      int32_t acc = 0;
      if (fo == 0) {  /* symmetric weights (always, per-channel): one add fewer per MAC */
        for (int d = 0; d < D; d++) acc += (int32_t)wr[d] * ((int32_t)xb[d] + io);
      } else {
        for (int d = 0; d < D; d++) acc += ((int32_t)wr[d] + fo) * ((int32_t)xb[d] + io);
      }
      y[(size_t)b * p->out_depth + oc] = fc_out(acc, bias, p, oc);
    }
  }
}
