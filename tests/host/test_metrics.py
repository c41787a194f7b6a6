"""Metrics against hand-computed cases."""

import numpy as np

from harness.analysis import metrics


def test_lsb_drift_hand_case():
    ref = np.array([[0, 0, 0, 0], [10, 10, 10, 10]], np.int8)
    dev = np.array([[0, 1, 0, 0], [10, 10, 7, 10]], np.int8)
    m = metrics.lsb_drift(dev, ref)
    assert m["exact_pct"] == 75.0 and m["max_abs"] == 3 and m["mean_abs"] == 0.5
    assert m["hist"] == {"-3": 1, "0": 6, "1": 1} and m["samples_differing_pct"] == 100.0


def test_lsb_drift_no_overflow_at_extremes():
    m = metrics.lsb_drift(np.array([[127]], np.int8), np.array([[-128]], np.int8))
    assert m["max_abs"] == 255


def test_float_drift_hand_case():
    ref = np.array([[1.0, 0.0]])
    dev = np.array([[1.0, 0.5]])
    m = metrics.float_drift(dev, ref)
    assert m["mae"] == 0.25 and m["max_abs"] == 0.5
    assert np.isclose(m["rmse"], np.sqrt(0.125)) and np.isclose(m["l2_rel"], 0.5)
    assert np.isclose(m["cosine"], 1 / np.sqrt(1.25)) and np.isclose(m["snr_db"], 10 * np.log10(4))
    same = metrics.float_drift(ref, ref)
    assert same["snr_db"] is None and same["mae"] == 0.0


def test_top1_and_accuracy():
    dev = np.array([[1, 5], [9, 2], [3, 4]])
    ref = np.array([[0, 6], [1, 2], [3, 4]])
    a = metrics.top1_agreement(dev, ref)
    assert a["swapped"] == 1 and np.isclose(a["swapped_pct"], 100 / 3)
    assert np.isclose(metrics.accuracy(dev, np.array([1, 0, 0])), 200 / 3)


def test_sanity_negative_confidence_from_zero_point():
    # zero point -100 with scale 1/256: q = -128 dequantises to (-128 + 100)/256 < 0
    q = np.array([[-128, 100], [-100, 127]], np.int8)
    s = metrics.sanity(q, 1 / 256, -100, softmax=True)
    assert s["negative_confidences"] == 1 and np.isclose(s["worst_confidence"], -28 / 256)
    assert s["saturated_low_pct"] == 25.0 and s["saturated_high_pct"] == 25.0


def test_latency_percentiles():
    lat = metrics.latency(np.arange(1, 101) * 1000)
    assert lat["min_us"] == 1 and lat["max_us"] == 100 and lat["p50_us"] == 50.5 and lat["n"] == 100
