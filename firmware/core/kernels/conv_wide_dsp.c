/* CONV_2D's widened path (conv_dsp.c dispatches to it and says why the result is exact): both
 * operands widened, for an even count of channels per group. A tile of output channels' weights
 * is widened once per invoke into the scratch (conv_dsp.h: the block layout); the patches of each
 * pixel pair are then run against the tile's blocks (conv_rows_dsp.c).
 * Patches: with one filter group and dil_w 1, copied from input rows widened once into a ring
 * (conv_win_dsp.c); otherwise (groups, dilated rows) widened per pixel from the input
 * (conv_patch_dsp.h). The window's patches of first layers (channels not a multiple of 4) pair
 * adjacent taps {t, t+1} ("natural" order); all others pair SXTB16's {t, t+2},{t+1, t+3}. */
#include "simd.h"
#ifdef HB_KERNELS_DSP
#include "conv_common.h"
#include "conv_dsp.h"
#include "requant_fast.h"

#include "conv_patch_dsp.h"


/* Groups G padded to the MAC loop's unrolling u (1, 2 or 4 groups a pass), the cheapest: a group
 * costs 10 instructions, a pass 2 more. */
static int pad_groups(int G, int *u) {
  const int g2 = (G + 1) & ~1, g4 = (G + 3) & ~3;
  const int c1 = 12 * G, c2 = 11 * g2, c4 = 21 * g4 / 2;
  *u = c4 <= c2 && c4 <= c1 ? 4 : c2 <= c1 ? 2 : 1;
  return *u == 4 ? g4 : *u == 2 ? g2 : G;
}
static size_t wblock_u64(int Gp) { return 2 + (size_t)Gp * QB; }

static void pix_next(const conv_geo_t *g, pix_t *q) {
  if (++q->ox < g->OW) return;
  q->ox = 0;
  if (++q->oy < g->OH) return;
  q->oy = 0;
  q->b++;
}

/* n groups of 4 weights of channels c (at w0) and c+1 (w0 + K) as {c lo, c hi, c+1 lo, c+1 hi},
 * SXTB16's pairing, doubled if dbl; returns the end. The asm: 12 instructions per group. */
static uint64_t *widen_groups(const int8_t *w0, int K, int n, int dbl, uint64_t *s) {
#ifdef HB_DSP_ASM
  register const int8_t *p0 __asm__("r0") = w0, *p1 __asm__("r1") = w0 + K;
  register uint64_t *rs __asm__("r2") = s;
  register int rn __asm__("r3") = n;
  if (n && dbl)
    __asm__ volatile("1:\n\tldr r8, [r0], #4\n\tldr r9, [r1], #4\n\t"
            "sxtb16 r4, r8\n\tsxtb16 r5, r8, ror #8\n\tsxtb16 r6, r9\n\tsxtb16 r7, r9, ror #8\n\t"
            "sadd16 r4, r4, r4\n\tsadd16 r5, r5, r5\n\tsadd16 r6, r6, r6\n\tsadd16 r7, r7, r7\n\t"
            "stmia r2!, {r4, r5, r6, r7}\n\tsubs r3, r3, #1\n\tbne 1b"
            : "+r"(p0), "+r"(p1), "+r"(rs), "+r"(rn) : : "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
  else if (n)
    __asm__ volatile("1:\n\tldr r8, [r0], #4\n\tldr r9, [r1], #4\n\t"
            "sxtb16 r4, r8\n\tsxtb16 r5, r8, ror #8\n\tsxtb16 r6, r9\n\tsxtb16 r7, r9, ror #8\n\t"
            "stmia r2!, {r4, r5, r6, r7}\n\tsubs r3, r3, #1\n\tbne 1b"
            : "+r"(p0), "+r"(p1), "+r"(rs), "+r"(rn) : : "r4", "r5", "r6", "r7", "r8", "r9", "cc", "memory");
  return rs;
#else
  for (int g = 0; g < n; g++, s += QB) {
    const uint32_t v0 = hb_ld32(w0 + 4 * g), v1 = hb_ld32(w0 + K + 4 * g);
    const uint32_t l0 = hb_sxtb16(v0), h0 = hb_sxtb16_ror8(v0), l1 = hb_sxtb16(v1), h1 = hb_sxtb16_ror8(v1);
    s[0] = dbl ? hb_pair(hb_sadd16(l0, l0), hb_sadd16(h0, h0)) : hb_pair(l0, h0);
    s[1] = dbl ? hb_pair(hb_sadd16(l1, l1), hb_sadd16(h1, h1)) : hb_pair(l1, h1);
  }
  return s;
#endif
}

/* Weight word u (two taps) of a natural-order patch of KH rows of R words: the rows' first R2 = R & ~1
 * words row by row, then (R odd) each row's last word; word j of a row holds its taps {2j, 2j+1} of
 * `row`, 0 past them; doubled if dbl. */
static uint32_t nat_word(const int8_t *wc, int u, int KH, int R, int row, int dbl) {
  const int R2 = R & ~1, pairs = u < KH * R2;
  const int8_t *r = wc + (size_t)(pairs ? u / R2 : u - KH * R2) * row;
  const int t = 2 * (pairs ? u % R2 : R2);
  return hb_pack16(r[t] * (1 + dbl), t + 1 < row ? r[t + 1] * (1 + dbl) : 0);
}

/* Blocks [b0, b0 + nb) of the filter (QB channels each, K taps) into s, Gp groups a block; nat:
 * the window's natural order (words: KH rows of R); dbl: doubled (rq and x not doubled). */
static void widen_weights(const conv_geo_t *g, const int8_t *w, const int32_t *bias, const hb_rq_t *rq, int b0,
                          int nb, int Gp, int nat, int dbl, uint64_t *s) {
  const int K = g->K, G = K / 4, R = nat ? hb_cw_patch_words(g) / g->KH : 0;
  for (int oc = b0 * QB; oc < (b0 + nb) * QB; oc += QB) {
    const int32_t i0 = rq ? rq[oc].bias2 : bias ? bias[oc] : 0, i1 = rq ? rq[oc + 1].bias2 : bias ? bias[oc + 1] : 0;
    s[0] = s[1] = hb_pair((uint32_t)i0, (uint32_t)i1);
    uint64_t *e = s + 2, *end = e + (size_t)Gp * QB;
    const int8_t *w0 = w + (size_t)oc * K, *w1 = w0 + K;
    if (nat) {
      for (int u = 0, n = g->KH * R; u < n; u += 2, e += QB) {
        const int row = g->KW * g->C;
        e[0] = hb_pair(nat_word(w0, u, g->KH, R, row, dbl), u + 1 < n ? nat_word(w0, u + 1, g->KH, R, row, dbl) : 0);
        e[1] = hb_pair(nat_word(w1, u, g->KH, R, row, dbl), u + 1 < n ? nat_word(w1, u + 1, g->KH, R, row, dbl) : 0);
      }
    } else {
      e = widen_groups(w0, K, G, dbl, e);
      if (K % 4) { /* the last taps, zero-padded to a group */
        int8_t v[8] = {0};
        for (int k = 4 * G; k < K; k++) v[k - 4 * G] = w0[k], v[4 + k - 4 * G] = w1[k];
        e = widen_groups(v, 4, 1, dbl, e);
      }
    }
    for (; e < end; e++) *e = 0;
    s = end;
  }
}

/* The per-pixel patches (filter groups, dilated rows): every pixel pair of group xg. */
static void conv_tile(const conv_geo_t *g, const int8_t *xg, cw_tile_t *t, int8_t *y, int OC) {
  uint64_t *s = (uint64_t *)(uintptr_t)t->job.x;
  pix_t q = {0, 0, 0};
  for (size_t P = 0; P < g->npix; P += 2) {
    const int two = P + 1 < g->npix;
    widen_patch(g, xg, &q, s);
    pix_next(g, &q);
    if (two) {
      widen_patch(g, xg, &q, s + 1);
      pix_next(g, &q);
    }
    hb_cw_pair(t, y + P * (size_t)OC + t->oc0, two ? (size_t)OC : 0);
  }
}

/* Whether widening the weights pays for n pixels of K taps, per weight: about 2.75 to widen
 * it, then per pixel 0.7 a MAC + 10 / K an output here against 1.2 + 40 / K (hb_conv_out)
 * in conv_dsp.c's 4-pixel loops, which read the weights on the fly: 2.75 < n (0.5 + 30 / K). */
static int widening_pays(size_t n, int K) { return 2 * n * ((size_t)K + 60) > 11 * (size_t)K; }

/* How the widened path runs a shape: the ring's u64 (-1: per-pixel patches), the order of the
 * pairs, the groups a patch takes and the unrolling. */
typedef struct { long ring; int nat, Gp, u; } cw_plan_t;

static int plan(const conv_geo_t *g, int window, size_t room, cw_plan_t *pl) {
  pl->ring = window ? hb_cw_ring_u64(g) : -1;
  pl->nat = pl->ring >= 0 && g->FC % 4;
  if ((window && pl->ring < 0) || (!window && g->FC % 4 && g->K > HB_ANY_MAX_K)) return 0;
  pl->Gp = pad_groups(window ? (hb_cw_patch_words(g) + 1) / 2 : (g->K + 3) / 4, &pl->u);
  return wblock_u64(pl->Gp) + (size_t)QB * (pl->Gp + 1) + (size_t)(pl->ring > 0 ? pl->ring : 0) <= room;
}

/* Whether the window path doubles x - in_zp (as it widens it) rather than the weights for the fast
 * requantisation: when that doubles fewer values, the input widened once per tile (at most)
 * against OC x K weights (1x1 layers of few pixels and many channels). */
static int double_x(const conv_geo_t *g, const cw_plan_t *pl, int OC, int tiles) {
  const size_t xs = (pl->ring == 0 ? g->npix : (size_t)g->H * g->W) * (size_t)g->C * (size_t)tiles;
  return pl->ring >= 0 && xs < (size_t)OC * (size_t)g->K;
}

/* The widened path, if the shape suits it and it pays: 1 when done. The weights are widened
 * once per tile, each patch once per tile. */
static int conv_widened(const hb_ctx_t *ctx, const conv_geo_t *g, const hb_op_t *op, const int8_t *w,
                        const int32_t *bias, int8_t *y, int OC, int groups) {
  const size_t room = ctx->size / 8; /* scratch u64 */
  uint64_t *scratch = (uint64_t *)ctx->buf;
  const hb_conv_params_t *p = &op->p.conv;
  const int per_group = OC / groups;
  cw_plan_t pl;
  if (per_group % QB || !widening_pays(g->npix, g->K) || !(plan(g, groups == 1, room, &pl) || plan(g, 0, room, &pl))) return 0;
  const size_t wb = wblock_u64(pl.Gp), patch = (size_t)QB * (pl.Gp + 1), ring = pl.ring > 0 ? (size_t)pl.ring : 0;
  const int fit = (int)((room - patch - ring) / wb), tile = fit < per_group / QB ? fit : per_group / QB;
  uint64_t *xs = scratch + (size_t)tile * wb;
  const int dx = p->rq && double_x(g, &pl, OC, (per_group / QB + tile - 1) / tile);
  cw_tile_t t = {{0, 0, 0, 0, hb_bytes4(p->act_min), hb_bytes4(p->act_max), xs, scratch}, 0, p, 0, pl.u};
  for (int grp = 0; grp < groups; grp++) {
    const int bend = (grp + 1) * per_group / QB;
    for (int b0 = grp * per_group / QB; b0 < bend; b0 += tile) {
      t.job.nb = bend - b0 < tile ? bend - b0 : tile;
      t.oc0 = b0 * QB;
      t.job.rq = p->rq ? p->rq + t.oc0 : 0;
      hb_cw_run(&t);
      widen_weights(g, w, bias, p->rq, b0, t.job.nb, pl.Gp, pl.nat, p->rq && !dx, scratch);
      for (uint64_t *e = xs; e < xs + patch; e++) *e = 0; /* the padding groups */
      xs[patch - QB] = hb_pair(END_MARK, 0);
      if (pl.ring >= 0)
        hb_cw_window(g, &t, y, OC, xs + patch, b0 == 0, dx);
      else
        conv_tile(g, g->x + (size_t)grp * g->FC, &t, y, OC);
    }
  }
  return 1;
}

int hb_conv_widened(const hb_ctx_t *ctx, hb_engine_t *e, const hb_op_t *op) {
  const hb_tensor_t *f = HB_T(e, op, 1), *out = HB_OUT(e, op);
  const conv_geo_t g = hb_conv_geo(e, op);
  const int OC = out->dims[3], groups = g.C / g.FC;
  return conv_widened(ctx, &g, op, (const int8_t *)f->data, hb_conv_bias(e, op), (int8_t *)out->data, OC, groups);
}
#endif
