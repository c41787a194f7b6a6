/* AVERAGE_POOL_2D and MAX_POOL_2D, int8 NHWC. The window is clipped to the input;
 * the average divides by the clipped count, rounding half away from zero. */
#include "../ops.h"
#include "s16.h"
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "elementwise_dsp.h"
#endif

/* Pool2DOptions: padding(0) stride_w(1) stride_h(2) filter_w(3) filter_h(4) act(5). */
static int prepare_pool(hb_engine_t *e, int idx, hb_error_t *err) {
  hb_op_t *op = &e->ops[idx];
  hb_pool_params_t *p = &op->p.pool;
  fb_table_t t;
  uint8_t padding = 0, act = 0;
  int32_t sw = 1, sh = 1, fw = 1, fh = 1;
  int r = hb_options(e, idx, &t);
  if (r < 0 || (r > 0 && (fb_u8(&t, 0, 0, &padding) < 0 || fb_i32(&t, 1, 1, &sw) < 0 || fb_i32(&t, 2, 1, &sh) < 0 ||
                          fb_i32(&t, 3, 1, &fw) < 0 || fb_i32(&t, 4, 1, &fh) < 0 || fb_u8(&t, 5, 0, &act) < 0)))
    return hb_opt_corrupt(e, idx, err);
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  const int at = hb_act_type(in);
  if (hb_need_type(e, idx, in, at, "input", err) || hb_need_type(e, idx, out, at, "output", err) ||
      hb_need_ndims(e, idx, in, 4, "input", err) || hb_need_ndims(e, idx, out, 4, "output", err))
    return err->code;
  if (sw < 1 || sh < 1 || fw < 1 || fh < 1 || sw > 32767 || sh > 32767 || fw > 32767 || fh > 32767)
    return hb_bad_shape(e, idx, "stride or filter size out of range", err);
  int oh, ow, ph, pw;
  if (hb_conv_geometry(padding, in->dims[1], fh, sh, 1, &oh, &ph) ||
      hb_conv_geometry(padding, in->dims[2], fw, sw, 1, &ow, &pw))
    return hb_bad_shape(e, idx, "unknown padding", err);
  /* Matching the computed geometry also guarantees every window overlaps the input. */
  if (oh != out->dims[1] || ow != out->dims[2] || in->dims[0] != out->dims[0] || in->dims[3] != out->dims[3])
    return hb_bad_shape(e, idx, "output shape does not match input, filter, stride and padding", err);
  if (in->zp != out->zp || !(in->scale - out->scale <= 1e-6f && out->scale - in->scale <= 1e-6f))
    return hb_unsupported(e, idx, "input and output quantisation differ", err);
  p->stride_w = (int16_t)sw; p->stride_h = (int16_t)sh;
  p->filter_w = (int16_t)fw; p->filter_h = (int16_t)fh;
  p->pad_w = (int16_t)pw; p->pad_h = (int16_t)ph;
  if ((int64_t)fw * fh > 65536) return hb_unsupported(e, idx, "pooling window above 65536", err);
  if (hb_need_quant(e, idx, out, "output", err)) return err->code;
  if (at == HB_INT16) op->kind = hb_kind_s16(op->code);
  return hb_act_range(e, idx, act, out, &p->act_min, &p->act_max, err);
}

int hb_prepare_avgpool(hb_engine_t *e, int idx, hb_error_t *err) { return prepare_pool(e, idx, err); }
int hb_prepare_maxpool(hb_engine_t *e, int idx, hb_error_t *err) { return prepare_pool(e, idx, err); }

static void pool(hb_engine_t *e, const hb_op_t *op, int is_max) {
  const hb_pool_params_t *p = &op->p.pool;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  const int8_t *x = (const int8_t *)in->data;
  int8_t *y = (int8_t *)out->data;
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3], OH = out->dims[1], OW = out->dims[2];
  for (int b = 0; b < B; b++) {
    for (int oy = 0; oy < OH; oy++) {
      const int iy0 = oy * p->stride_h - p->pad_h;
      const int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = p->filter_h < H - iy0 ? p->filter_h : H - iy0;
      for (int ox = 0; ox < OW; ox++) {
        const int ix0 = ox * p->stride_w - p->pad_w;
        const int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = p->filter_w < W - ix0 ? p->filter_w : W - ix0;
        const int count = (ky1 - ky0) * (kx1 - kx0);
        for (int c = 0; c < C; c++) {
          int32_t acc = is_max ? -128 : 0;
          for (int ky = ky0; ky < ky1; ky++) {
            const int8_t *row = x + ((size_t)b * H + (size_t)(iy0 + ky)) * W * C + c;
            for (int kx = kx0; kx < kx1; kx++) {
              int32_t v = row[(size_t)(ix0 + kx) * C];
              if (is_max) acc = v > acc ? v : acc;
              else acc += v;
            }
          }
          if (!is_max) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          acc = acc < p->act_min ? p->act_min : acc;
          y[(((size_t)b * OH + oy) * OW + ox) * C + c] = (int8_t)(acc > p->act_max ? p->act_max : acc);
        }
      }
    }
  }
}

void hb_eval_avgpool(hb_engine_t *e, const hb_op_t *op) {
#ifdef HB_KERNELS_DSP
  if (hb_avgpool_dsp(e, op)) return;
#endif
  pool(e, op, 0);
}
void hb_eval_maxpool(hb_engine_t *e, const hb_op_t *op) { pool(e, op, 1); }
