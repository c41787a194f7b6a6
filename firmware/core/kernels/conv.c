/* CONV_2D (groups, strides, dilation, SAME/VALID) and DEPTHWISE_CONV_2D (depth
 * multiplier), int8 with per-channel or per-tensor int8 weights and int32 bias.
 * Accumulate (w * (x - in_zp)) + bias, then requantise per output channel. */
#include "../fixedpoint.h"
#include "../ops.h"
#include "quant_params.h"
#include "simd.h"
#include "conv_common.h"
#include "requant_fast.h"
#include "s16.h"
#include "mve.h"

/* Conv2DOptions: padding(0) stride_w(1) stride_h(2) act(3) dil_w(4) dil_h(5).
 * DepthwiseConv2DOptions: padding(0) stride_w(1) stride_h(2) depth_mult(3) act(4) dil_w(5) dil_h(6). */
typedef struct { uint8_t padding, act; int32_t sw, sh, dw, dh; } conv_opts_t;

static int read_opts(const hb_engine_t *e, int idx, int dw, conv_opts_t *o, hb_error_t *err) {
  fb_table_t t;
  int r = hb_options(e, idx, &t);
  o->padding = 0; o->act = 0; o->sw = o->sh = o->dw = o->dh = 1;
  if (r < 0) return hb_opt_corrupt(e, idx, err);
  if (r == 0) return hb_bad_shape(e, idx, "missing options", err);
  int a = dw ? 4 : 3, d = dw ? 5 : 4;
  if (fb_u8(&t, 0, 0, &o->padding) < 0 || fb_i32(&t, 1, 1, &o->sw) < 0 || fb_i32(&t, 2, 1, &o->sh) < 0 ||
      fb_u8(&t, a, 0, &o->act) < 0 || fb_i32(&t, d, 1, &o->dw) < 0 || fb_i32(&t, d + 1, 1, &o->dh) < 0)
    return hb_opt_corrupt(e, idx, err);
  if (o->sw < 1 || o->sh < 1 || o->dw < 1 || o->dh < 1 || o->sw > 255 || o->sh > 255 || o->dw > 255 || o->dh > 255)
    return hb_bad_shape(e, idx, "stride or dilation out of range", err);
  return HB_OK;
}

/* Shared checks: types, 4-D shapes, geometry against the output, quantisation. */
static int prepare_common(hb_engine_t *e, int idx, int dw, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_conv_params_t *p = &op->p.conv;
  conv_opts_t o;
  if (hb_need_input(e, idx, 0, err) || hb_need_input(e, idx, 1, err)) return err->code;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int at = hb_act_type(in);
  if (hb_need_type(e, idx, in, at, "input", err) || hb_need_type(e, idx, f, HB_INT8, "filter", err) ||
      hb_need_type(e, idx, out, at, "output", err) || hb_need_const(e, idx, f, "non-constant filter", err) ||
      hb_need_ndims(e, idx, in, 4, "input", err) || hb_need_ndims(e, idx, f, 4, "filter", err) ||
      hb_need_ndims(e, idx, out, 4, "output", err) || read_opts(e, idx, dw, &o, err))
    return err->code;
  int oh, ow, ph, pw, oc = out->dims[3];
  if (hb_conv_geometry(o.padding, in->dims[1], f->dims[1], o.sh, o.dh, &oh, &ph) ||
      hb_conv_geometry(o.padding, in->dims[2], f->dims[2], o.sw, o.dw, &ow, &pw))
    return hb_bad_shape(e, idx, "unknown padding", err);
  if (oh != out->dims[1] || ow != out->dims[2] || in->dims[0] != out->dims[0])
    return hb_bad_shape(e, idx, "output shape does not match input, filter, stride and padding", err);
  if (ph > 32767 || pw > 32767) return hb_bad_shape(e, idx, "padding too large", err);
  if (dw && (f->dims[0] != 1 || f->dims[3] != oc || oc % in->dims[3]))
    return hb_bad_shape(e, idx, "depthwise filter shape does not match the channels", err);
  if (!dw && (f->dims[0] != oc || in->dims[3] % f->dims[3] || oc % (in->dims[3] / f->dims[3])))
    return hb_bad_shape(e, idx, "filter shape does not match the channels", err);
  /* |w * (x - zp)| <= 128 * 255: this depth keeps the int32 sum from overflowing. */
  if ((int64_t)f->dims[1] * f->dims[2] * (dw ? 1 : f->dims[3]) > 65536)
    return hb_unsupported(e, idx, "accumulation depth above 65536", err);
  p->stride_w = (int16_t)o.sw; p->stride_h = (int16_t)o.sh;
  p->dil_w = (int16_t)o.dw; p->dil_h = (int16_t)o.dh;
  p->pad_w = (int16_t)pw; p->pad_h = (int16_t)ph;
  p->depth_mult = (int16_t)(dw ? oc / in->dims[3] : 1);
  p->in_offset = -in->zp;
  p->out_offset = out->zp;
  if (at == HB_INT16) return hb_conv_s16(e, idx, dw, o.act, err);
  if (hb_bias_check(e, idx, op->nin > 2 ? op->in[2] : -1, oc, err) ||
      hb_channel_params(e, idx, in, f, out, oc, dw ? 3 : 0, &p->mult, &p->shift, err))
    return err->code;
  p->rq = 0;
#ifdef HB_KERNELS_DSP
  const int taps = f->dims[1] * f->dims[2] * (dw ? 1 : f->dims[3]);
  const hb_rq_src_t src = {p->mult, p->shift, hb_conv_bias(e, op), (const int8_t *)f->data, oc, taps,
                           dw ? 1 : taps, dw ? oc : 1, p->in_offset, p->out_offset, 0};
  p->rq = hb_rq_make(e, &src);
  hb_scratch_need(e, dw ? hb_dwconv_dsp_scratch_size(e, op) : hb_conv_dsp_scratch_size(e, op));
#endif
#ifdef HB_KERNELS_MVE
  hb_scratch_need(e, dw ? hb_dwconv_mve_scratch_size(e, op) : hb_conv_mve_scratch_size(e, op));
#endif
  return hb_act_range(e, idx, o.act, out, &p->act_min, &p->act_max, err);
}

int hb_prepare_conv(hb_engine_t *e, int idx, hb_error_t *err) { return prepare_common(e, idx, 0, err); }
int hb_prepare_dwconv(hb_engine_t *e, int idx, hb_error_t *err) { return prepare_common(e, idx, 1, err); }

void hb_eval_conv(hb_engine_t *e, const hb_op_t *op) {
#ifdef HB_KERNELS_MVE
  if (hb_conv_mve(&e->scratch, e, op)) return;
#endif
#ifdef HB_KERNELS_DSP
  if (hb_conv_dsp(&e->scratch, e, op)) return;
#endif
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int8_t *x = (const int8_t *)in->data, *w = (const int8_t *)f->data;
  const int32_t *bias = hb_conv_bias(e, op);
  int8_t *y = (int8_t *)out->data;
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  const int KH = f->dims[1], KW = f->dims[2], FC = f->dims[3];
  const int OH = out->dims[1], OW = out->dims[2], OC = out->dims[3], per_group = OC / (C / FC);
  const int32_t in_off = p->in_offset;
  for (int b = 0; b < B; b++) {
    for (int oy = 0; oy < OH; oy++) {
      const hb_span_t ys = hb_out_span(oy, p->stride_h, p->pad_h, p->dil_h, KH, H);
      for (int ox = 0; ox < OW; ox++) {
        const hb_span_t xs = hb_out_span(ox, p->stride_w, p->pad_w, p->dil_w, KW, W);
        int8_t *yp = y + (((size_t)b * OH + oy) * OW + ox) * OC;
        for (int oc = 0; oc < OC; oc++) {
          const int8_t *xg = x + (size_t)b * H * W * C + (size_t)(oc / per_group) * FC;
          int32_t acc = 0;
          for (int ky = ys.k0; ky < ys.k1; ky++) {
            const int8_t *xrow = xg + (size_t)(ys.i0 + p->dil_h * ky) * W * C;
            const int8_t *wrow = w + ((size_t)oc * KH + ky) * KW * FC;
            for (int kx = xs.k0; kx < xs.k1; kx++) {
              const int8_t *xp = xrow + (size_t)(xs.i0 + p->dil_w * kx) * C, *wp = wrow + (size_t)kx * FC;
              for (int ic = 0; ic < FC; ic++) acc += (int32_t)wp[ic] * ((int32_t)xp[ic] + in_off);
            }
          }
          yp[oc] = hb_conv_out(acc, bias, p, oc);
        }
      }
    }
  }
}

void hb_eval_dwconv(hb_engine_t *e, const hb_op_t *op) {
#ifdef HB_KERNELS_MVE
  if (hb_dwconv_mve(&e->scratch, e, op)) return;
#endif
#ifdef HB_KERNELS_DSP
  if (hb_dwconv_dsp(&e->scratch, e, op)) return;
#endif
  const hb_conv_params_t *p = &op->p.conv;
  const hb_tensor_t *in = HB_T(e, op, 0), *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const int8_t *x = (const int8_t *)in->data, *w = (const int8_t *)f->data;
  const int32_t *bias = hb_conv_bias(e, op);
  int8_t *y = (int8_t *)out->data;
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3];
  const int KH = f->dims[1], KW = f->dims[2], OH = out->dims[1], OW = out->dims[2], OC = out->dims[3];
  const int M = p->depth_mult;
  const int32_t in_off = p->in_offset;
  const size_t xstep = (size_t)p->dil_w * C;
  for (int b = 0; b < B; b++) {
    for (int oy = 0; oy < OH; oy++) {
      const hb_span_t ys = hb_out_span(oy, p->stride_h, p->pad_h, p->dil_h, KH, H);
      for (int ox = 0; ox < OW; ox++) {
        const hb_span_t xs = hb_out_span(ox, p->stride_w, p->pad_w, p->dil_w, KW, W);
        int8_t *yp = y + (((size_t)b * OH + oy) * OW + ox) * OC;
        for (int oc = 0; oc < OC; oc++) {
          const int8_t *xc = x + (size_t)b * H * W * C + (size_t)(oc / M);
          int32_t acc = 0;
          for (int ky = ys.k0; ky < ys.k1 && xs.k0 < xs.k1; ky++) {  /* a dilated window can miss the input */
            const size_t at = (size_t)(ys.i0 + p->dil_h * ky) * W + (size_t)(xs.i0 + p->dil_w * xs.k0);
            const int8_t *xp = xc + at * C, *wp = w + ((size_t)ky * KW + xs.k0) * OC + oc;
            for (int kx = xs.k0; kx < xs.k1; kx++, xp += xstep, wp += OC)
              acc += (int32_t)*wp * ((int32_t)*xp + in_off);
          }
          yp[oc] = hb_conv_out(acc, bias, p, oc);
        }
      }
    }
  }
}
