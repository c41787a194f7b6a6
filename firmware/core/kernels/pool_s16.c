/* AVERAGE_POOL_2D and MAX_POOL_2D on int16 (TFLM's int16 pooling: the int8 arithmetic on wider
 * values; the int32 sum of at most 65536 int16 values cannot overflow). Checks and geometry are
 * the int8 prepare's (pool.c). */
#include "s16.h"

static void pool16(hb_engine_t *e, const hb_op_t *op, int is_max) {
  const hb_pool_params_t *p = &op->p.pool;
  const hb_tensor_t *in = HB_T(e, op, 0), *out = HB_OUT(e, op);
  const int16_t *x = (const int16_t *)(const void *)in->data;
  int16_t *y = (int16_t *)(void *)out->data;
  const int B = in->dims[0], H = in->dims[1], W = in->dims[2], C = in->dims[3], OH = out->dims[1], OW = out->dims[2];
  for (int b = 0; b < B; b++)
    for (int oy = 0; oy < OH; oy++) {
      const int iy0 = oy * p->stride_h - p->pad_h;
      const int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = p->filter_h < H - iy0 ? p->filter_h : H - iy0;
      for (int ox = 0; ox < OW; ox++) {
        const int ix0 = ox * p->stride_w - p->pad_w;
        const int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = p->filter_w < W - ix0 ? p->filter_w : W - ix0;
        const int count = (ky1 - ky0) * (kx1 - kx0);
        int16_t *yp = y + (((size_t)b * OH + oy) * OW + ox) * C;
        for (int c = 0; c < C; c++) {
          int32_t acc = is_max ? -32768 : 0;
          for (int ky = ky0; ky < ky1; ky++)
            for (int kx = kx0; kx < kx1; kx++) {
              const int32_t v = x[(((size_t)b * H + (size_t)(iy0 + ky)) * W + (size_t)(ix0 + kx)) * C + c];
              acc = is_max ? (v > acc ? v : acc) : acc + v;
            }
          if (!is_max) acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          acc = acc < p->act_min ? p->act_min : acc;
          yp[c] = (int16_t)(acc > p->act_max ? p->act_max : acc);
        }
      }
    }
}

void hb_eval_avgpool_s16(hb_engine_t *e, const hb_op_t *op) { pool16(e, op, 0); }
void hb_eval_maxpool_s16(hb_engine_t *e, const hb_op_t *op) { pool16(e, op, 1); }
