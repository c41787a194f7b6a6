"""Our engine as an MLPerf Tiny benchmark image on qemu-m4 (kind qemu-eembc): the same bytes as
the framed path and the TFLM oracle, a reset mid-run healed, foreign firmware and models refused
in one line, and `bench` end to end in both of the runner's modes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from harness.analysis.figures import percent
from harness.errors import TargetError, UnsupportedModel
from harness.results.files import read_npz
from tests.common import MODELS, ROOT, SHARED, run_cli, shared_model
from tests.eembc.eembc_util import loaded, oracle, qemu_eembc, qemu_m4, random_rows, write_runner_dataset

pytestmark = pytest.mark.qemu


def test_same_bytes_as_the_framed_path_and_the_oracle():
    model = shared_model("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    x = random_rows((1, 49, 10, 1), 20, seed=14)
    with loaded(qemu_eembc(), model, "kws") as d:
        ee = d.run([x])
        again = d.run([x[:5]])
    with loaded(qemu_m4(), model, "kws") as m:
        framed = m.run([x])
    assert np.array_equal(ee.outputs[0], framed.outputs[0])
    assert np.array_equal(ee.outputs[0], oracle(model, x))
    assert np.array_equal(again.ticks, ee.ticks[:5])  # m-lap-us repeats exactly under -icount
    # one m-lap-us microsecond is 1000 instructions: the framed path counts the same inference
    assert np.all(np.abs(ee.ticks - framed.ticks) <= 2000), (ee.ticks[:3], framed.ticks[:3])
    assert ee.extra["ambiguous"].sum() == 0


def test_a_reset_mid_run_is_healed():
    model = shared_model("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    x = random_rows((1, 49, 10, 1), 8, seed=3)
    with loaded(qemu_eembc(), model, "kws") as d:
        stream, infers = d.client.stream, []
        write = stream.write

        def write_then_reset(data: bytes) -> None:
            write(data)
            if data.startswith(b"infer"):
                infers.append(data)
                if len(infers) == 4:
                    d.monitor("system_reset")

        stream.write = write_then_reset
        res = d.run([x])
        assert d.resets == 1
    assert np.array_equal(res.outputs[0], oracle(model, x))


def test_the_framed_firmware_is_not_a_benchmark_image():
    from harness.core.paths import ROOT

    harness_elf = ROOT / "firmware" / "build" / "mps2-an386" / "harness.elf"
    if not harness_elf.exists():
        qemu_m4().build()
    with pytest.raises(TargetError, match="no boot banner ending in m-ready within 2 s; .* bytes without a line end"
                                          ".*not this protocol") as e:
        with loaded(qemu_eembc(elf=str(harness_elf), boot_timeout=2.0), (MODELS / "digits_int8.tflite").read_bytes(),
                    "digits"):
            pass
    assert "\n" not in str(e.value)


def test_a_model_that_is_not_the_one_compiled_in_is_refused():
    kws = shared_model("mlperf_tiny/kws_ref_model.tflite").read_bytes()
    with loaded(qemu_eembc(), kws, "kws") as d:
        elf = str(d.elf())
    with pytest.raises(UnsupportedModel, match="27648 values; the device runs kws01 .490 values.: give the .tflite"):
        with loaded(qemu_eembc(elf=elf), shared_model("mlperf_tiny/vww_96_int8.tflite").read_bytes(), "vww"):
            pass
    # the image's own e-[…] line, when the sample is not what it expects (float32 instead of int8)
    with pytest.raises(TargetError, match=r"`infer 1 0` failed on the device: e-\[Input db has 1960 bytes, "
                                          r"expected 490\]") as e:
        with loaded(qemu_eembc(elf=elf, input_encoding="float32"), kws, "kws") as d:
            d.run([random_rows((1, 49, 10, 1), 1, seed=0)])
    assert "\n" not in str(e.value)


def test_bench_kws_is_bit_exact_with_the_performance_figures(results):
    kws = shared_model("mlperf_tiny/kws_ref_model.tflite")
    r = run_cli("bench", "--target", "qemu-m4-eembc", "--models", str(kws), "--runs", "20", "--results", str(results))
    assert r.returncode == 0, r.stderr[-3000:]
    run = next((results / "qemu-m4-eembc").iterdir())
    out, refs = read_npz(run / "outputs" / "kws_ref_model.npz"), read_npz(run / "refs" / "kws_ref_model.npz")
    assert out["outputs_0"].shape == (20, 12) and np.array_equal(out["outputs_0"], refs["tflm_0"])
    perf = json.loads((run / "run.json").read_text())["models"]["kws_ref_model"]["eembc_performance"]
    # N is the runner's 70, raised until a window fills perf_window_s of device time (faster kernels: more)
    assert perf["n"] >= 70 and perf["warmup"] == 10 and len(perf["windows"]) == 5
    assert all(w["results_match_single"] for w in perf["windows"])
    report = (run / "report.md").read_text()
    assert "Median throughput" in report and "bit-exact with the TFLM oracle" in report
    assert "Three decimals resolve one LSB" in report


def test_accuracy_mode_on_labelled_sets_in_the_runners_layout(tmp_path, results):
    """kws01 against its 90 % target: 10 inputs labelled with the TFLM oracle's top-1, one label
    wrong on purpose, so top-1 must be exactly 90 % (no KWS test set ships with the project);
    the digits model with its real labelled test split gives a real accuracy (no target)."""
    kws = shared_model("mlperf_tiny/kws_ref_model.tflite")
    x = random_rows((1, 49, 10, 1), 10, seed=7)
    y = np.argmax(oracle(kws.read_bytes(), x), axis=1)
    y[0] = (y[0] + 1) % 12
    write_runner_dataset(tmp_path / "kws01", [r.tobytes() for r in x], list(y), 12)
    digits = np.load(MODELS / "digits_test.npz")
    write_runner_dataset(tmp_path / "digits", [r.tobytes() for r in digits["x_int8"][:40]], list(digits["y"][:40]), 10)
    cfg = {"runs": 40, "warmup": 0, "references": ["tflm", "float"], "models": [
        {"path": str(kws), "float": str(SHARED / "mlperf_tiny" / "kws_ref_model_float32.tflite"),
         "dataset": str(tmp_path / "kws01")},
        {"path": str(MODELS / "digits_int8.tflite"), "float": str(MODELS / "digits_float.tflite"),
         "dataset": str(tmp_path / "digits")}]}
    (tmp_path / "acc.yaml").write_text(yaml.safe_dump(cfg))
    tgt = tmp_path / "acc-target.yaml"
    base = yaml.safe_load((ROOT / "targets" / "qemu-m4-eembc.yaml").read_text())
    base["options"]["perf_windows"] = 0
    tgt.write_text(yaml.safe_dump(base))
    r = run_cli("bench", "--target", str(tgt), "--config", str(tmp_path / "acc.yaml"), "--results", str(results))
    assert r.returncode == 0, r.stderr[-3000:]
    run = next(results.glob("*/*"))
    report = (run / "report.md").read_text()
    assert "top-1 % 90 against the quality target 90 % — meets the target" in report
    assert "Calibration and swapped predictions" in report
    mets = json.loads((run / "metrics.json").read_text())
    assert mets["kws_ref_model"]["classification"]["accuracy_device_pct"] == 90.0
    acc = mets["digits_int8"]["classification"]["accuracy_device_pct"]
    assert acc == mets["digits_int8"]["classification"]["accuracy_tflm_pct"] and acc > 80
    assert f"top-1 % {percent(acc)} against the quality target none for this model id" in report
