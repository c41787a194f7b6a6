"""Each op in configurations the example models do not reach (dilation, groups, depth
multiplier, grouped filters, per-tensor weights, every fused activation, two-sided broadcast, axes...), built
with random weights and quantisation by tests/firmware/tflite_build.py, run on the firmware
engine and on the TFLM interpreter: every output byte equal on 10 seeded inputs."""

from __future__ import annotations

import numpy as np
import pytest

from tests.firmware.fwbuild import native_build  # noqa: F401 (fixture)
from tools.op_models import (NONE, RELU, RELU6, RELU_N1, SAME, VALID, binary, concat, conv, dequantize, dwconv, fc,  # noqa: F401
                              logistic, mean, pad, pool, quantize, reshape, softmax)

SPEED_CASES = {
    "conv_wide_dead_channels_relu6": lambda r: conv(r, in_shape=(1, 6, 6, 16), oc=12, k=(1, 1), act=RELU6, dead=3),
    "conv_c3_k3s2_dead": lambda r: conv(r, in_shape=(1, 11, 10, 3), oc=8, k=(3, 3), stride=(2, 2), dead=2),
    "conv_c1_k10x4_s2_first": lambda r: conv(r, in_shape=(1, 13, 8, 1), oc=8, k=(10, 4), stride=(2, 2), act=RELU),
    "conv_c3_k3s1_valid_first": lambda r: conv(r, in_shape=(2, 7, 9, 3), oc=6, k=(3, 3), pad=VALID, act=RELU6),
    "dw_k3s1_dead_channels": lambda r: dwconv(r, in_shape=(1, 6, 6, 12), mult=1, k=(3, 3), act=RELU6, dead=5),
    "dw_k3s2_w9_same_relu6": lambda r: dwconv(r, in_shape=(1, 9, 9, 8), mult=1, k=(3, 3), stride=(2, 2), act=RELU6),
    "dw_k3s2_w12_valid_1left": lambda r: dwconv(r, in_shape=(1, 12, 11, 12), mult=1, k=(3, 3), stride=(2, 2), pad=VALID),
    "dw_k3s2_w6_b2_3left": lambda r: dwconv(r, in_shape=(2, 6, 6, 16), mult=1, k=(3, 3), stride=(2, 2), act=RELU),
    "dw_k3s2_w4_2left": lambda r: dwconv(r, in_shape=(1, 5, 4, 4), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_k3s2_w16_tiles_zp_min": lambda r: dwconv(r, in_shape=(1, 8, 16, 264), mult=1, k=(3, 3), stride=(2, 2),
                                                 in_zp=-128, act=RELU6),
    "dw_k3s2_w13_odd_zp_max": lambda r: dwconv(r, in_shape=(1, 13, 13, 20), mult=1, k=(3, 3), stride=(2, 2), in_zp=127),
    "dw_k3s2_dead_channels": lambda r: dwconv(r, in_shape=(1, 8, 8, 8), mult=1, k=(3, 3), stride=(2, 2), dead=3),
    "dw_k3s1_w5_kws": lambda r: dwconv(r, in_shape=(1, 25, 5, 64), mult=1, k=(3, 3), act=RELU),
    "dw_k3s1_tall_b2_transposed": lambda r: dwconv(r, in_shape=(2, 14, 3, 12), mult=1, k=(3, 3), act=RELU6),
    "dw_k3s2_tall_transposed": lambda r: dwconv(r, in_shape=(1, 13, 3, 8), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_k3s2_tall_valid_transposed": lambda r: dwconv(r, in_shape=(1, 19, 5, 4), mult=1, k=(3, 3), stride=(2, 2),
                                                      pad=VALID, in_zp=-128),
    "fc_dead_rows_per_channel": lambda r: fc(r, in_shape=(1, 64), units=10, per_channel=True, dead=2),
    "fc_pairs_d40_units6_relu6": lambda r: fc(r, in_shape=(2, 40), units=6, act=RELU6),
    "fc_pairs_d8_units2": lambda r: fc(r, in_shape=(1, 8), units=2),
    "fc_pairs_d128_units13": lambda r: fc(r, in_shape=(1, 128), units=13, act=RELU),
    "add_same_shape_4k_relu": lambda r: binary(r, "ADD", (1, 8, 8, 67), (1, 8, 8, 67), act=RELU),
    "add_same_shape_tail3": lambda r: binary(r, "ADD", (1, 3, 5, 1), (1, 3, 5, 1), act=RELU_N1),
    "avgpool_global_25x5x64": lambda r: pool(r, "AVERAGE_POOL_2D", in_shape=(1, 25, 5, 64), k=(25, 5), stride=(1, 1),
                                             pad=VALID),
    "avgpool_c8_same_k3s2_relu6": lambda r: pool(r, "AVERAGE_POOL_2D", in_shape=(2, 7, 6, 8), k=(3, 3), stride=(2, 2),
                                                 pad=SAME, act=RELU6),
    "avgpool_c4_window_256": lambda r: pool(r, "AVERAGE_POOL_2D", in_shape=(1, 17, 16, 4), k=(16, 16), stride=(1, 1),
                                            pad=VALID),
    "avgpool_c4_window_272_c_path": lambda r: pool(r, "AVERAGE_POOL_2D", in_shape=(1, 17, 16, 4), k=(17, 16),
                                                   stride=(1, 1), pad=VALID),
}

CASES = {
    "conv_same_dil2_relu6": lambda r: conv(r, in_shape=(1, 9, 9, 3), oc=5, k=(3, 3), dil=(2, 2), act=RELU6),
    "conv_valid_s2x1_none": lambda r: conv(r, in_shape=(1, 11, 8, 4), oc=6, k=(3, 2), stride=(2, 1), pad=VALID),
    "conv_per_tensor_relu_n1": lambda r: conv(r, in_shape=(2, 6, 6, 3), oc=4, k=(2, 2), act=RELU_N1, per_channel=False),
    "conv_no_bias_s3_same": lambda r: conv(r, in_shape=(1, 10, 7, 2), oc=3, k=(5, 3), stride=(3, 3), bias=False),
    "conv_groups2": lambda r: conv(r, in_shape=(1, 6, 6, 8), oc=6, k=(3, 3), groups=2),
    "conv_1x1_relu": lambda r: conv(r, in_shape=(1, 5, 5, 16), oc=8, k=(1, 1), act=RELU),
    "dw_mult2_same": lambda r: dwconv(r, in_shape=(1, 8, 8, 3), mult=2, k=(3, 3)),
    "dw_s2_dil2_relu6": lambda r: dwconv(r, in_shape=(1, 12, 10, 4), mult=1, k=(3, 3), stride=(2, 2), dil=(2, 2), act=RELU6),
    "dw_per_tensor_valid": lambda r: dwconv(r, in_shape=(1, 7, 9, 5), mult=3, k=(2, 4), pad=VALID, per_channel=False),
    "fc_per_tensor_3d_relu": lambda r: fc(r, in_shape=(2, 3, 8), units=5, act=RELU),
    "fc_per_channel_relu6": lambda r: fc(r, in_shape=(1, 40), units=7, act=RELU6, per_channel=True),
    "fc_weights_zero_point": lambda r: fc(r, in_shape=(2, 24), units=6, wzp=5),
    "fc_no_bias": lambda r: fc(r, in_shape=(3, 16), units=4, bias=False),
    # Shapes for the DSP kernels' edges (KERNELS=dsp): 4-pixel blocks and 4-tap groups with
    # remainders, channel counts not a multiple of 4, patches in chunks, scratch-size fallbacks.
    "conv_1x1_b2_k12_odd_groups": lambda r: conv(r, in_shape=(2, 5, 3, 12), oc=10, k=(1, 1), act=RELU),
    "conv_c5_k3x3_tail": lambda r: conv(r, in_shape=(1, 6, 5, 5), oc=7, k=(3, 3), stride=(2, 1)),
    "conv_patch_in_chunks": lambda r: conv(r, in_shape=(1, 4, 3, 256), oc=3, k=(3, 3)),
    "conv_patch_in_chunks_odd_c": lambda r: conv(r, in_shape=(1, 3, 5, 250), oc=6, k=(3, 3), stride=(1, 2)),
    "conv_groups2_patch_in_chunks": lambda r: conv(r, in_shape=(1, 3, 3, 512), oc=4, k=(3, 3), groups=2),
    # CONV_2D with both operands widened (FC % 4 == 0, 4 | channels per group, >= 4 pixels):
    # weight tiles, groups, window edges, no bias, no fast requantisation, each activation;
    # and the shapes it leaves to the 4-pixel loops.
    "conv_wide_1x1_relu6": lambda r: conv(r, in_shape=(2, 3, 5, 24), oc=20, k=(1, 1), act=RELU6),
    "conv_wide_tiles_3x3": lambda r: conv(r, in_shape=(1, 4, 5, 128), oc=16, k=(3, 3), act=RELU),
    "conv_wide_groups2_s2_dil2": lambda r: conv(r, in_shape=(1, 9, 8, 16), oc=8, k=(3, 3), stride=(2, 2),
                                                dil=(2, 2), groups=2, act=RELU_N1),
    "conv_wide_valid_no_bias": lambda r: conv(r, in_shape=(1, 7, 6, 8), oc=12, k=(2, 3), pad=VALID, bias=False),
    "conv_wide_per_tensor_s2": lambda r: conv(r, in_shape=(1, 6, 7, 4), oc=4, k=(3, 3), stride=(2, 2),
                                              per_channel=False),
    "conv_wide_big_bias_no_rq": lambda r: conv(r, in_shape=(1, 5, 5, 16), oc=8, k=(3, 3), big_bias=True, act=RELU),
    "conv_wide_oc10_4px_path": lambda r: conv(r, in_shape=(1, 4, 4, 8), oc=10, k=(3, 3)),
    "conv_wide_c3_first_layer": lambda r: conv(r, in_shape=(1, 9, 9, 3), oc=8, k=(3, 3), stride=(2, 2), act=RELU6),
    "conv_wide_c1_k4x3_tail": lambda r: conv(r, in_shape=(1, 12, 6, 1), oc=6, k=(4, 3), stride=(2, 1), act=RELU),
    "conv_wide_c6_groups2_dil": lambda r: conv(r, in_shape=(1, 7, 7, 12), oc=4, k=(2, 2), dil=(2, 1), groups=2),
    "conv_wide_c5_k7x7_245_taps": lambda r: conv(r, in_shape=(1, 8, 8, 5), oc=4, k=(7, 7)),
    "conv_chunks_odd_c_odd_oc": lambda r: conv(r, in_shape=(1, 3, 5, 250), oc=5, k=(3, 3), stride=(1, 2)),
    "conv_wide_dil4_window_misses": lambda r: conv(r, in_shape=(1, 3, 3, 4), oc=4, k=(2, 2), dil=(4, 4)),
    "conv_wide_c3_dil4_window_misses": lambda r: conv(r, in_shape=(1, 3, 3, 3), oc=4, k=(2, 2), dil=(4, 4)),
    "conv_wide_3px_k24": lambda r: conv(r, in_shape=(1, 1, 3, 8), oc=8, k=(1, 3)),
    "conv_wide_1px_k4": lambda r: conv(r, in_shape=(1, 1, 1, 4), oc=6, k=(1, 1), act=RELU),
    "conv_2px_k64_4px_path": lambda r: conv(r, in_shape=(1, 1, 2, 64), oc=8, k=(1, 1)),
    "dw_c6_channel_tail": lambda r: dwconv(r, in_shape=(1, 7, 6, 6), mult=1, k=(3, 3), act=RELU),
    "dw_b2_c8_valid_s2": lambda r: dwconv(r, in_shape=(2, 9, 9, 8), mult=1, k=(3, 3), stride=(2, 2), pad=VALID),
    "dw_rows_in_strips_relu6": lambda r: dwconv(r, in_shape=(1, 6, 40, 128), mult=1, k=(3, 3), act=RELU6),
    "dw_strips_s2_dil2_c66": lambda r: dwconv(r, in_shape=(1, 9, 60, 66), mult=1, k=(3, 3), stride=(2, 2), dil=(2, 2)),
    "dw_weights_too_big_for_scratch": lambda r: dwconv(r, in_shape=(1, 7, 7, 256), mult=1, k=(7, 7)),
    # DEPTHWISE_CONV_2D 3x3 stride 1 (dwconv3x3_dsp.c): 4-output blocks with 1-3 left over,
    # widths under 4, padding rows and columns, VALID, several channel tiles, batches, every
    # activation, no bias, weights at -128; a huge bias rules out the fast requantisation.
    "dw_k3s1_w5_same_relu": lambda r: dwconv(r, in_shape=(1, 25, 5, 16), mult=1, k=(3, 3), act=RELU),
    "dw_k3s1_w6_relu6": lambda r: dwconv(r, in_shape=(1, 6, 6, 8), mult=1, k=(3, 3), act=RELU6),
    "dw_k3s1_w7_valid_b2": lambda r: dwconv(r, in_shape=(2, 7, 9, 12), mult=1, k=(3, 3), pad=VALID),
    "dw_k3s1_w3_h1_relu_n1": lambda r: dwconv(r, in_shape=(1, 1, 3, 4), mult=1, k=(3, 3), act=RELU_N1),
    "dw_k3s1_w1_same": lambda r: dwconv(r, in_shape=(1, 4, 1, 8), mult=1, k=(3, 3)),
    "dw_k3s1_w3_valid_min": lambda r: dwconv(r, in_shape=(1, 3, 3, 4), mult=1, k=(3, 3), pad=VALID, act=RELU6),
    "dw_k3s1_w12_odd_blocks": lambda r: dwconv(r, in_shape=(1, 12, 12, 64), mult=1, k=(3, 3), act=RELU6),
    "dw_k3s1_w33_per_tensor": lambda r: dwconv(r, in_shape=(1, 5, 33, 20), mult=1, k=(3, 3), per_channel=False),
    "dw_k3s1_tiles_c256": lambda r: dwconv(r, in_shape=(1, 5, 8, 256), mult=1, k=(3, 3), act=RELU),
    "dw_k3s1_no_bias_wmin": lambda r: dwconv(r, in_shape=(1, 9, 10, 8), mult=1, k=(3, 3), bias=False, w_lo=-128),
    "dw_k3s1_huge_bias_fallback": lambda r: dwconv(r, in_shape=(1, 6, 7, 8), mult=1, k=(3, 3), bias_span=2**31 - 1),
    "dw_k3s1_tiles_b2_zp_min": lambda r: dwconv(r, in_shape=(2, 4, 6, 136), mult=1, k=(3, 3), in_zp=-128),
    "dw_k3s1_zp_max_relu6": lambda r: dwconv(r, in_shape=(1, 5, 9, 8), mult=1, k=(3, 3), act=RELU6, in_zp=127),
    "dw_k3s1_row_too_wide": lambda r: dwconv(r, in_shape=(1, 3, 720, 4), mult=1, k=(3, 3)),
    # The direct kernel (dwconv3x3_direct_dsp.c: activation range all of int8, outputs saturated
    # and stored straight): map (small maps) and ring, stride 1 and 2, partial blocks of 1-3,
    # transposed, channel tiles, batches, VALID. Small padded maps and stride-2 maps up to 16
    # columns run dwconv3x3_small_dsp.c (the dw_small_* cases): these reach the map by 6-wide rows,
    # more than 81 outputs, more than 16 columns, no padding or a 1-wide input.
    "dw_direct_map_s1_w6_c128": lambda r: dwconv(r, in_shape=(1, 6, 6, 128), mult=1, k=(3, 3)),
    "dw_direct_map_s1_w9_tall": lambda r: dwconv(r, in_shape=(1, 13, 9, 8), mult=1, k=(3, 3)),
    "dw_direct_map_s1_w7_valid_b2": lambda r: dwconv(r, in_shape=(2, 9, 9, 12), mult=1, k=(3, 3), pad=VALID),
    "dw_direct_map_s1_w9_part1_valid": lambda r: dwconv(r, in_shape=(1, 6, 11, 8), mult=1, k=(3, 3), pad=VALID),
    "dw_direct_map_s2_w18_b2": lambda r: dwconv(r, in_shape=(2, 5, 18, 8), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_direct_map_s2_w17_part1": lambda r: dwconv(r, in_shape=(1, 5, 17, 8), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_direct_map_s2_w19_valid": lambda r: dwconv(r, in_shape=(1, 9, 19, 8), mult=1, k=(3, 3), stride=(2, 2),
                                                   pad=VALID),
    # Narrow map rows (dwconv3x3_narrow_dsp.c: 6 or 3 outputs a row in one pass, asm builds):
    # transposed, VALID, batches, channel tiles.
    "dw_narrow_s1_w6_b2_tr": lambda r: dwconv(r, in_shape=(2, 6, 1, 8), mult=1, k=(3, 3)),
    "dw_narrow_s1_w3_tr": lambda r: dwconv(r, in_shape=(1, 3, 1, 4), mult=1, k=(3, 3)),
    "dw_narrow_s1_w6_valid": lambda r: dwconv(r, in_shape=(1, 6, 8, 12), mult=1, k=(3, 3), pad=VALID),
    "dw_narrow_s1_w6_tiles_c264": lambda r: dwconv(r, in_shape=(1, 6, 6, 264), mult=1, k=(3, 3), in_zp=-128),
    # one-row stride-2 maps of 6 and 3 outputs (the small-map kernel leaves them): the general map loop
    "dw_map_s2_w6_b2_onerow": lambda r: dwconv(r, in_shape=(2, 1, 12, 8), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_map_s2_w3_zp_max_onerow": lambda r: dwconv(r, in_shape=(1, 1, 6, 4), mult=1, k=(3, 3), stride=(2, 2),
                                                   in_zp=127),
    # The small maps (dwconv3x3_small_dsp.c: channel-vectorised, only the taps inside the input):
    # vww's 3x3x256, 12x12x64 and 6x6x128 stride 2, tiles of 16 channels and partial ones (4, 8,
    # 12 left), batches, VALID, zero points at the ends, 2x2 (padding on both sides of each pixel)
    # up to 9x9 (4x6 for 6-wide rows); a clamped range goes to the other kernels.
    "dw_small_s1_w3_c256": lambda r: dwconv(r, in_shape=(1, 3, 3, 256), mult=1, k=(3, 3)),
    "dw_small_s1_w7_b2_c12": lambda r: dwconv(r, in_shape=(2, 5, 7, 12), mult=1, k=(3, 3)),
    "dw_small_s1_w9_tiles_c264": lambda r: dwconv(r, in_shape=(1, 4, 9, 264), mult=1, k=(3, 3), in_zp=-128),
    "dw_small_s1_w9_c36": lambda r: dwconv(r, in_shape=(1, 9, 9, 36), mult=1, k=(3, 3)),
    "dw_small_s1_w6_h4": lambda r: dwconv(r, in_shape=(1, 4, 6, 16), mult=1, k=(3, 3)),
    "dw_small_s1_w2_h2": lambda r: dwconv(r, in_shape=(1, 2, 2, 16), mult=1, k=(3, 3), in_zp=127),
    "dw_small_s1_valid_4x4_c20": lambda r: dwconv(r, in_shape=(1, 6, 6, 20), mult=1, k=(3, 3), pad=VALID),
    "dw_small_s1_w6_b2_c8": lambda r: dwconv(r, in_shape=(2, 6, 2, 8), mult=1, k=(3, 3)),
    "dw_small_s1_relu6_rows": lambda r: dwconv(r, in_shape=(1, 6, 6, 16), mult=1, k=(3, 3), act=RELU6),
    "dw_small_s2_w12_c64": lambda r: dwconv(r, in_shape=(1, 12, 12, 64), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_small_s2_w6_c128": lambda r: dwconv(r, in_shape=(1, 6, 6, 128), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_small_s2_w9_c8": lambda r: dwconv(r, in_shape=(1, 5, 9, 8), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_small_s2_w7_odd_b2": lambda r: dwconv(r, in_shape=(2, 7, 13, 16), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_small_s2_w12_b2_c8": lambda r: dwconv(r, in_shape=(2, 7, 12, 8), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_small_s2_valid_zp_max": lambda r: dwconv(r, in_shape=(1, 9, 7, 4), mult=1, k=(3, 3), stride=(2, 2),
                                                 pad=VALID, in_zp=127),
    "dw_small_s2_valid_w16_c48": lambda r: dwconv(r, in_shape=(1, 9, 16, 48), mult=1, k=(3, 3), stride=(2, 2),
                                                  pad=VALID, in_zp=-128),
    "dw_direct_ring_s1_kws_tr": lambda r: dwconv(r, in_shape=(1, 25, 5, 64), mult=1, k=(3, 3)),
    "dw_direct_ring_s1_w21_tiles": lambda r: dwconv(r, in_shape=(1, 4, 21, 264), mult=1, k=(3, 3)),
    "dw_direct_ring_s1_w24_b2": lambda r: dwconv(r, in_shape=(2, 5, 24, 8), mult=1, k=(3, 3), pad=VALID),
    "dw_direct_ring_s1_w23": lambda r: dwconv(r, in_shape=(1, 3, 23, 4), mult=1, k=(3, 3)),
    "dw_direct_ring_s2_w50": lambda r: dwconv(r, in_shape=(1, 6, 50, 16), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_direct_ring_s2_w21_tiles": lambda r: dwconv(r, in_shape=(1, 5, 21, 200), mult=1, k=(3, 3), stride=(2, 2)),
    "dw_direct_ring_s2_w38_valid": lambda r: dwconv(r, in_shape=(2, 6, 38, 4), mult=1, k=(3, 3), stride=(2, 2),
                                                    pad=VALID),
    "fc_rows_and_depth_tails": lambda r: fc(r, in_shape=(2, 13), units=6, per_channel=True),
    "fc_zero_point_odd": lambda r: fc(r, in_shape=(1, 37), units=9, wzp=-7),
    "fc_depth_too_big_for_scratch": lambda r: fc(r, in_shape=(1, 8200), units=2),
    "avgpool_same_k3s2_relu6": lambda r: pool(r, "AVERAGE_POOL_2D", in_shape=(1, 9, 7, 4), k=(3, 3), stride=(2, 2), pad=SAME, act=RELU6),
    "avgpool_valid_k2x4": lambda r: pool(r, "AVERAGE_POOL_2D", in_shape=(2, 6, 8, 3), k=(2, 4), stride=(2, 1), pad=VALID),
    "maxpool_same_k3s1_relu": lambda r: pool(r, "MAX_POOL_2D", in_shape=(1, 5, 6, 3), k=(3, 3), stride=(1, 1), pad=SAME, act=RELU),
    "add_two_sided_broadcast": lambda r: binary(r, "ADD", (1, 4, 1, 8), (1, 1, 5, 1)),
    "add_rank_diff_relu": lambda r: binary(r, "ADD", (4, 8), (2, 3, 4, 8), act=RELU),
    "add_same_shape_relu6": lambda r: binary(r, "ADD", (2, 3, 5), (2, 3, 5), act=RELU6),
    "mul_scalar_relu6": lambda r: binary(r, "MUL", (1,), (2, 3, 4), act=RELU6),
    "mul_same_shape": lambda r: binary(r, "MUL", (3, 7), (3, 7)),
    "mul_5d_broadcast": lambda r: binary(r, "MUL", (2, 1, 3, 1, 4), (1, 2, 1, 5, 1), act=RELU_N1),
    "softmax_beta_half": lambda r: softmax(r, (3, 17), 0.5, 0.1),
    "softmax_wide_scale": lambda r: softmax(r, (1, 2, 10), 1.0, 0.25),
    "softmax_small_scale": lambda r: softmax(r, (4, 6), 1.0, 0.004),
    "logistic_fine": lambda r: logistic(r, (2, 50), 0.02, 5),
    "logistic_coarse": lambda r: logistic(r, (2, 50), 0.12, -10),
    "quantize_float": lambda r: quantize(r, (3, 40), True, 0.037, -7),
    "requantize_up": lambda r: quantize(r, (3, 40), False, 0.005, 3),
    "requantize_down": lambda r: quantize(r, (3, 40), False, 0.3, -20),
    "dequantize": lambda r: dequantize(r, (2, 3, 7)),
    "pad_4d": lambda r: pad(r, (1, 3, 4, 2), [(0, 0), (1, 2), (2, 0), (0, 1)]),
    "pad_2d": lambda r: pad(r, (3, 5), [(2, 1), (0, 3)]),
    "padv2_const": lambda r: pad(r, (2, 3, 4), [(1, 0), (0, 2), (1, 1)], constant=-77),
    "mean_hw_keep": lambda r: mean(r, (1, 5, 6, 4), [1, 2], True),
    "mean_last_drop": lambda r: mean(r, (2, 3, 9), [-1], False),
    "mean_outer_axes": lambda r: mean(r, (3, 4, 5), [0, 2], False),
    "mean_all": lambda r: mean(r, (2, 5, 7), [0, 1, 2], True),
    "concat_axis1_three": lambda r: concat(r, [(2, 3, 4), (2, 1, 4), (2, 5, 4)], 1),
    "concat_last_neg": lambda r: concat(r, [(2, 3), (2, 7)], -1),
    "concat_axis0": lambda r: concat(r, [(1, 4, 2), (3, 4, 2)], 0),
    "reshape_shape_input": lambda r: reshape(r, (2, 3, 4), (4, 6)),
}
CASES.update(SPEED_CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_matrix_bitexact(native_build, name):
    try:
        from tflite_micro.python.tflite_micro import runtime as tflm
    except ImportError:
        pytest.skip("tflite-micro is not installed")

    rng = np.random.default_rng(sum(map(ord, name)))
    data = CASES[name](rng).build()
    oracle = tflm.Interpreter.from_bytes(data, arena_size=1 << 20)
    eng = native_build.engine(data)
    for k in range(10):
        xs = []
        for i in range(eng.num_inputs):
            info = eng.input_info(i)
            x = (rng.uniform(-6, 6, info.shape).astype(np.float32) if info.dtype == np.float32
                 else rng.integers(-128, 128, info.shape, dtype=np.int8))
            oracle.set_input(x, i)
            xs.append(x)
        oracle.invoke()
        for j, y in enumerate(eng.run(*xs)):
            ref = oracle.get_output(j)
            assert y.shape == tuple(ref.shape)
            diff = np.flatnonzero(y.view(np.uint8).ravel() != ref.view(np.uint8).ravel())
            assert diff.size == 0, (f"{name} input {k}: {diff.size}/{y.size} differ; first at {diff[0]}: "
                                    f"ours {y.ravel()[diff[0]]} TFLM {ref.ravel()[diff[0]]}")
