"""The eembc driver without an emulator: reply parsing, int8 recovery from printed decimals, and
every error path against the scripted fake device (kind eembc-fake)."""

from __future__ import annotations

import numpy as np
import pytest

from harness.core.tensors import TensorSpec
from harness.drivers.eembc import values as ev
from harness.drivers.eembc.client import MalformedReply, parse_infer, parse_profile, split_values
from harness.errors import ConfigError, HarnessError, TargetError, TargetTimeout
from tests.common import MODELS
from tests.eembc.eembc_util import fake, loaded

SOFTMAX = TensorSpec("y", (1, 12), "int8", 1 / 256, -128)
GOOD = ["m-warmup-start-0", "m-warmup-done", "m-infer-start-1", "m-lap-us-10", "m-lap-us-35", "m-infer-done",
        "m-results-[0.000,0.996]"]


def digits_model() -> bytes:
    return (MODELS / "digits_int8.tflite").read_bytes()


def test_infer_reply_parsed_and_checked_line_by_line():
    r = parse_infer(GOOD, 1, 0, "t")
    assert (r.t0_us, r.t1_us, r.values, r.elapsed_us) == (10, 35, ("0.000", "0.996"), 25)
    wrapped = GOOD[:3] + ["m-lap-us-4294967290", "m-lap-us-6"] + GOOD[5:]
    assert parse_infer(wrapped, 1, 0, "t").elapsed_us == 12  # a 32-bit %lu stamp wraps
    for bad, says in [(GOOD[:3] + GOOD[5:], "expected m-lap-us"), (GOOD[:-1], "ends before m-results"),
                      (GOOD[:4] + ["m-lap-us-3x"] + GOOD[5:], "'m-lap-us-3x'"),
                      (["junk"] + GOOD, "unexpected line 'junk'"), (GOOD[:1] + GOOD, "expected 'm-warmup-done'")]:
        with pytest.raises(MalformedReply, match=says):
            parse_infer(bad, 1, 0, "t")
    assert parse_infer(["debug"] + GOOD, 1, 0, "t", strict=False).values == ("0.000", "0.996")


def test_results_values_and_profile():
    assert split_values("0.125,0.875,", "t") == ("0.125", "0.875")  # the vww01 reference's trailing comma
    assert split_values(" -1.5e-3 , 7 ", "t") == ("-1.5e-3", "7")
    for body in ("", "0.1,,0.2", "0.1,abc", "nan"):
        with pytest.raises(MalformedReply):
            split_values(body, "t")
    assert parse_profile(["m-profile-[x]", "m-model-[kws01]"], "t") == ("x", "kws01")
    with pytest.raises(MalformedReply, match="no m-model"):
        parse_profile(["m-profile-[x]"], "t")


def test_recovery_of_every_int8_value_truncated_and_rounded():
    q = np.arange(-128, 128)
    f = ((q + 128) / 256).astype(np.float32)
    trunc = tuple(f"{np.floor(v * 1000) / 1000:.3f}" for v in f.astype(np.float64))
    rounded = tuple(f"{v:.3f}" for v in f)
    for texts, rule in [(trunc, "truncate"), (rounded, "round"), (trunc, "auto"), (rounded, "auto")]:
        rec = ev.recover_int8(texts, SOFTMAX, rule)
        assert np.array_equal(rec.q, q) and rec.ambiguous == 0, rule
    assert ev.resolves_one_lsb(1 / 256, 3, "auto") and not ev.resolves_one_lsb(0.0012, 3, "auto")


def test_fine_scales_are_flagged_ambiguous_and_foreign_values_refused():
    fine = TensorSpec("y", (1, 4), "int8", 0.0008, 0)
    rec = ev.recover_int8(("0.001", "0.000", "-0.002", "0.100"), fine, "round")
    assert rec.ambiguous >= 1 and rec.q[3] == 125
    with pytest.raises(TargetError, match="is no int8 value"):
        ev.recover_int8(("1.500",), SOFTMAX, "auto")  # beyond 127 steps of 1/256


def test_input_encodings_round_trip():
    spec = TensorSpec("x", (1, 8), "int8", 0.391, 89)
    row = np.arange(-128, 128, 32, dtype=np.int8)
    for enc in ev.ENCODINGS:
        raw = ev.encode_input(row, spec, enc)
        assert len(raw) == ev.encoded_bytes(spec, enc)
        assert np.array_equal(ev.decode_input(raw, spec, enc), row), enc
    assert ev.encode_input(row, spec, "uint8")[0] == 0  # -128 is pixel 0


def _run(drv, n=3, seed=0):
    x = np.random.default_rng(seed).integers(-128, 128, (n, 8, 8, 1)).astype(np.int8)
    with loaded(drv, digits_model(), "digits"):
        return drv.run([x]), drv


@pytest.mark.parametrize("fault,error,says", [
    ("silent", TargetTimeout, "no m-ready after `name`.*nothing received.*baud rate"),
    ("hang", TargetTimeout, "no m-ready after `infer 1 0`.*last line seen: 'm-ready'"),
    ("drop-ready", TargetTimeout, "last line seen: 'm-results-"),
    ("drop-lap", MalformedReply, "expected m-lap-us-<µs>.*energy mode"),
    ("garble-lap", MalformedReply, "unexpected line 'm-lap-us-12x4'"),
    ("garble-results", MalformedReply, "'zz', not a number"),
    ("error", TargetError, r"failed on the device: e-\[infer failed: fake\]"),
    ("count", TargetError, "printed 9 result values, the model has 10 outputs"),
    ("noise", MalformedReply, "not ASCII"),
    ("stray", MalformedReply, "unexpected line 'debug: hello'"),
])
def test_each_fault_is_one_line(fault, error, says):
    with pytest.raises(error, match=says) as e:
        _run(fake(fault=fault, fault_at=2, classes=10, model="digits", infer_timeout=1.0))
    assert "\n" not in str(e.value) and str(e.value).startswith("target fake (fake://eembc)")


@pytest.mark.parametrize("fault", ["reset", "reset-upload"])
def test_a_reset_mid_run_is_healed_and_loses_nothing(fault):
    clean, _ = _run(fake(classes=10, model="digits"), n=5)
    healed, drv = _run(fake(fault=fault, fault_at=3, classes=10, model="digits"), n=5)
    assert drv.resets == 1
    assert np.array_equal(clean.outputs[0], healed.outputs[0]) and np.array_equal(clean.ticks, healed.ticks)


def test_a_device_that_keeps_resetting_gives_up():
    drv = fake(fault="reset", fault_at=1, classes=10, model="digits", max_resets=0)
    with pytest.raises(TargetError, match="reset 1 times in one batch"):
        _run(drv)


def test_bad_options_and_a_foreign_model_are_one_line_errors():
    for opts, says in [({"db_bytes": 39}, "db_bytes: 39 is not allowed: must be <= 38"), ({"results": "hex"}, "results"),
                       ({"rounding": "up"}, "rounding"), ({"input_encoding": "int4"}, "input_encoding"),
                       ({"perf_counts": [1]}, "perf_counts")]:
        with pytest.raises(ConfigError, match=says):
            fake(**opts)
    with pytest.raises(HarnessError, match="has 64 values; the device runs kws01 .490 values."):
        _run(fake(model="kws01"))
    with pytest.raises(TargetError, match="expects 'kws01'"):
        _run(fake(model="digits", model_id="kws01"))


def test_performance_windows_on_the_fake():
    drv = fake(classes=10, model="digits", perf_windows=3, perf_window_s=0.01, perf_counts=[5, 1])
    with loaded(drv, digits_model(), "digits"):
        x = np.zeros((2, 8, 8, 1), np.int8)
        drv.run([x])
        p = drv.figures([x])["eembc_performance"]
    assert (p["n"], p["warmup"], len(p["windows"])) == (9, 1, 3)  # N raised to fill 0.01 s at 1234 µs each
    assert p["median_latency_us"] == 1234 and not p["valid_for_submission"]
    assert all(w["results_match_single"] for w in p["windows"][:2])


def test_unknown_lines_pass_when_not_strict():
    clean, _ = _run(fake(classes=10, model="digits"))
    lenient, _ = _run(fake(fault="stray", fault_at=2, classes=10, model="digits", strict=False))
    assert np.array_equal(clean.outputs[0], lenient.outputs[0])
