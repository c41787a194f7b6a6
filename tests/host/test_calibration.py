"""Calibration metrics against hand-computed cases."""

import numpy as np

from harness.analysis import calibration as cal


def test_ece_of_a_perfectly_calibrated_set_is_zero():
    # 10 samples at confidence 0.8 of which 8 are right: accuracy = confidence in the only bin
    probs = np.tile([0.8, 0.2], (10, 1))
    labels = np.array([0] * 8 + [1] * 2)
    r = cal.reliability(probs.max(axis=1), probs.argmax(axis=1), labels)
    assert abs(r["ece"]) < 1e-12 and sum(r["count"]) == 10


def test_ece_hand_case():
    # confidence 0.9 in every sample, half right: ECE = |0.5 − 0.9| = 0.4
    probs = np.tile([0.9, 0.1], (4, 1))
    assert np.isclose(cal.reliability(probs.max(axis=1), probs.argmax(axis=1), np.array([0, 1, 0, 1]))["ece"], 0.4)


def test_known_swap_set():
    f = np.array([[0.55, 0.45], [0.95, 0.05], [0.4, 0.6], [0.1, 0.9]])
    d = np.array([[0.45, 0.55], [0.94, 0.06], [0.6, 0.4], [0.1, 0.9]])
    y = np.array([0, 0, 1, 1])
    s = cal.study(d, f, y)
    assert s["swapped"] == 2 and s["swapped_pct"] == 50.0
    assert s["error_float_pct"] == 0.0 and s["error_device_pct"] == 50.0 and s["delta_error_pct"] == 50.0
    assert s["swaps_per_abs_delta_error"] == 1.0
    # both swaps are low-confidence (0.55 and 0.6 → bins 5 and 6)
    assert s["swaps_by_float_confidence"]["swapped"][5] == 1 and s["swaps_by_float_confidence"]["swapped"][6] == 1


def test_logits_go_through_softmax():
    p = cal.probabilities(np.array([[2.0, 0.0], [0.0, 0.0]]))
    assert np.allclose(p.sum(axis=1), 1) and np.isclose(p[1, 0], 0.5)
