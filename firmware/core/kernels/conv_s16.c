/* CONV_2D and DEPTHWISE_CONV_2D with int16 activations and int8 weights (TFLM's 16x8 kernels):
 * no zero points in the sums (int16 is symmetric), acc = sum w * x + bias, then per channel
 * hb_requant64 (an int64 accumulator: int64 bias, or CONV_2D without bias unless its options
 * ask for int32) or the int8 path's double rounding (CONV_2D with an int32 bias: TFLM then
 * accumulates in int32, wrapping like the compiled reference). Geometry, options and the
 * multipliers are the int8 prepare's (conv.c). */
#include "s16.h"

#include "quant_params.h"

int hb_conv_s16(hb_engine_t *e, int idx, int dw, int act, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int oc = out->dims[3], bi = op->nin > 2 ? op->in[2] : -1;
  if (hb_need_sym16(e, idx, in, "input", err) || hb_need_sym16(e, idx, out, "output", err) ||
      hb_bias_check_s16(e, idx, oc, !dw, err) ||
      hb_channel_params(e, idx, in, f, out, oc, dw ? 3 : 0, &p->mult, &p->shift, err))
    return err->code;
  p->acc32 = (uint8_t)hb_acc32_s16(e, idx, dw ? -1 : 6);  /* Conv2DOptions.quantized_bias_type */
  p->rq = 0;
  if (!p->acc32 && hb_check_requant64(e, idx, p->shift, oc, bi, err)) return err->code;
  op->kind = hb_kind_s16(op->code);
  return hb_act_range(e, idx, act, out, &p->act_min, &p->act_max, err);
}

static inline int16_t conv_out16(int64_t acc, const hb_tensor_t *bias, const hb_conv_params_t *p, int oc) {
  return hb_mac_out16(acc, bias ? bias->data : 0, p->acc32, oc, p->mult[oc], p->shift[oc], p->act_min, p->act_max);
}

static const hb_tensor_t *bias_of(const hb_engine_t *e, const hb_op_t *op) {
  return op->nin > 2 && op->in[2] >= 0 ? &e->tensors[op->in[2]] : 0;
}

/* Sum of w * x over one window; |w * x| <= 2^22 and at most 65536 taps: exact in int64, and
 * its low 32 bits are the wrapping int32 sum. */
void hb_eval_conv_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op), *bias = bias_of(e, op);
  const int16_t *x = (const int16_t *)(const void *)in->data;
  const int8_t *w = (const int8_t *)f->data;
  int16_t *y = (int16_t *)(void *)out->data;
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  const int KH = f->dims[1], KW = f->dims[2], FC = f->dims[3];
  const int OH = out->dims[1], OW = out->dims[2], OC = out->dims[3], per_group = OC / (C / FC);
  for (int b = 0; b < B; b++)
    for (int oy = 0; oy < OH; oy++) {
      const hb_span_t ys = hb_out_span(oy, p->stride_h, p->pad_h, p->dil_h, KH, H);
      for (int ox = 0; ox < OW; ox++) {
        const hb_span_t xs = hb_out_span(ox, p->stride_w, p->pad_w, p->dil_w, KW, W);
        int16_t *yp = y + (((size_t)b * OH + oy) * OW + ox) * OC;
        for (int oc = 0; oc < OC; oc++) {
          const int16_t *xg = x + (size_t)b * H * W * C + (size_t)(oc / per_group) * FC;
          int64_t acc = 0;
          for (int ky = ys.k0; ky < ys.k1; ky++) {
            const int16_t *xrow = xg + (size_t)(ys.i0 + p->dil_h * ky) * W * C;
            const int8_t *wrow = w + ((size_t)oc * KH + ky) * KW * FC;
            for (int kx = xs.k0; kx < xs.k1; kx++) {
              const int16_t *xp = xrow + (size_t)(xs.i0 + p->dil_w * kx) * C;
              const int8_t *wp = wrow + (size_t)kx * FC;
              for (int ic = 0; ic < FC; ic++) acc += (int32_t)wp[ic] * xp[ic];
            }
          }
          yp[oc] = conv_out16(acc, bias, p, oc);
        }
      }
    }
}

void hb_eval_dwconv_s16(hb_engine_t *e, const hb_op_t *op) {
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op), *bias = bias_of(e, op);
  const int16_t *x = (const int16_t *)(const void *)in->data;
  const int8_t *w = (const int8_t *)f->data;
  int16_t *y = (int16_t *)(void *)out->data;
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  const int KH = f->dims[1], KW = f->dims[2], OH = out->dims[1], OW = out->dims[2], OC = out->dims[3];
  const int M = p->depth_mult;
  for (int b = 0; b < B; b++)
    for (int oy = 0; oy < OH; oy++) {
      const hb_span_t ys = hb_out_span(oy, p->stride_h, p->pad_h, p->dil_h, KH, H);
      for (int ox = 0; ox < OW; ox++) {
        const hb_span_t xs = hb_out_span(ox, p->stride_w, p->pad_w, p->dil_w, KW, W);
        int16_t *yp = y + (((size_t)b * OH + oy) * OW + ox) * OC;
        for (int oc = 0; oc < OC; oc++) {
          const int16_t *xc = x + (size_t)b * H * W * C + (size_t)(oc / M);
          int64_t acc = 0;
          for (int ky = ys.k0; ky < ys.k1; ky++)
            for (int kx = xs.k0; kx < xs.k1; kx++) {
              const size_t at = (size_t)(ys.i0 + p->dil_h * ky) * W + (size_t)(xs.i0 + p->dil_w * kx);
              acc += (int32_t)w[((size_t)ky * KW + kx) * OC + oc] * xc[at * C];
            }
          yp[oc] = conv_out16(acc, bias, p, oc);
        }
      }
    }
}
