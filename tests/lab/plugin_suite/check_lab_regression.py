"""An example lab regression suite for the harness pytest plugin (docs/lab.md), run by
tests/lab/test_lab_fanout.py. Not collected by `make test` (not named test_*.py): give it to
pytest with --harness-place/--harness-target, --harness-baselines and --junitxml.
"""

from pathlib import Path

MODELS = Path(__file__).resolve().parents[3] / "models"


def test_conv_is_bit_exact(bench):
    r = bench(MODELS / "ops" / "conv2d_valid_s1.tflite", runs=20)
    r.require(max_lsb=0, min_exact_pct=100)
    r.check_baseline(f"{r.board}-conv2d.json", max_latency_increase_pct=5)


def test_digits_classifier(bench):
    r = bench(MODELS / "digits_int8.tflite", float_model=MODELS / "digits_float.tflite", runs=20)
    r.require(max_lsb=0, max_swapped_pct=10)
    assert r.p50_us and r.samples == 20
