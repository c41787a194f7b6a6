"""`harness recipes` without TensorFlow (make test): pre-converted models (--from-tflite: the
project's fp32 and int8 digits models and a 16x8 model built by tests/firmware/s16_models.py) on
the host and on qemu-m4 (real QEMU, our firmware), the comparison's rows, and one-line errors
for bad arguments. The conversion itself (TensorFlow) is tested in test_recipes_tf.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.common import MODELS, run_cli

DATASET = MODELS / "digits_test.npz"


@pytest.fixture(scope="module")
def s16_model(tmp_path_factory) -> Path:
    from tests.firmware.s16_models import s16_cnn

    p = tmp_path_factory.mktemp("m") / "s16_cnn.tflite"
    p.write_bytes(s16_cnn(0))
    return p


def _comparison(stdout: str, target: str) -> dict:
    line = next(ln for ln in stdout.splitlines() if ln.startswith("comparison: ") and f"/{target}/" in ln
                and ln.endswith(".md"))
    return json.loads((Path(line.split(": ", 1)[1]).parent / "recipes.json").read_text())


def _recipes(results: Path, target: str, *models: str) -> tuple[dict, str]:
    r = run_cli("recipes", "--from-tflite", *models, "--dataset", str(DATASET), "--target", target, "--runs", "40",
                "--results", str(results))
    assert r.returncode == 0, r.stderr[-3000:]
    md = Path(next(ln for ln in r.stdout.splitlines() if ln.startswith("comparison: ") and ln.endswith(".md"))
              .split(": ", 1)[1])
    return json.loads((md.parent / "recipes.json").read_text())["recipes"], md.read_text()


def test_from_tflite_on_host(s16_model, results):
    """fp32 (tflite-runtime, XNNPACK), int8 and 16x8 on this machine: all measured."""
    rows, _ = _recipes(results, "host", f"fp32={MODELS / 'digits_float.tflite'}",
                       f"int8={MODELS / 'digits_int8.tflite'}", f"int16x8={s16_model}")
    assert [v["status"] for v in rows.values()] == ["measured"] * 3
    assert rows["int8"]["accuracy_pct"] > 90 and rows["int8"]["vs_tflm"]["exact_pct"] == 100
    assert rows["fp32"]["delta_error_pp"] == 0 and rows["fp32"]["swapped_pct"] == 0
    assert rows["fp32"]["vs_tflm"]["unit"] == "float"  # float outputs: |Δ| in real units, not LSB
    assert rows["int16x8"]["output"] == "float32" and rows["int16x8"]["latency_p50_us"] > 0


def test_from_tflite_on_qemu(s16_model, results):
    """Our firmware on qemu-m4: fp32 is a row saying why it cannot run (the firmware's own line),
    the 16x8 model runs bit-exact with the TFLM interpreter."""
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm missing (make test installs it)")
    rows, md = _recipes(results, "qemu-m4", f"fp32={MODELS / 'digits_float.tflite'}", f"int16x8={s16_model}")
    assert rows["fp32"]["status"] == "cannot run on this target"
    assert "unsupported CONV_2D at node 0: input type float32 (needs int8)" in rows["fp32"]["cannot_run"]
    assert rows["int16x8"]["status"] == "measured"
    assert rows["int16x8"]["vs_tflm"]["exact_pct"] == 100 and rows["int16x8"]["vs_tflm"]["max_abs"] == 0
    assert "| fp32 | cannot run on this target |" in md and "## Not measured" in md


@pytest.mark.parametrize("args, text", [
    ([], "give one of --digits, --model PATH"),
    (["--from-tflite", "fp32"], "--from-tflite 'fp32': give NAME=PATH"),
    (["--from-tflite", f"fp32={MODELS / 'digits_float.tflite'}"], "--dataset NPZ is needed"),
    (["--from-tflite", "fp32=/nonexistent.tflite", "--dataset", str(DATASET)], "model file not found"),
    (["--digits", "--recipes", "int4"], "--recipes int4: unknown recipe"),
    (["--digits", "--target", "nosuchboard"], "nosuchboard"),
    (["--model", "/nonexistent.keras", "--dataset", str(DATASET)], "model not found"),
    (["--digits", "--tf-python", "/nonexistent/python"], "make recipes-venv"),
    (["--from-tflite", f"fp32={MODELS / 'digits_float.tflite'}", "--dataset", str(MODELS / "ops" / "add.tflite")],
     "not a readable .npy/.npz"),
])
def test_bad_arguments_are_one_line(args, text, results):
    r = run_cli("recipes", *args, "--results", str(results))
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and text in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (results / "recipes").exists()  # checked before any work


def test_dataset_without_labels(tmp_path, results):
    import numpy as np

    p = tmp_path / "x.npz"
    np.savez(p, x=np.zeros((3, 8, 8, 1), np.float32))
    r = run_cli("recipes", "--from-tflite", f"fp32={MODELS / 'digits_float.tflite'}", "--dataset", str(p),
                "--results", str(results))
    assert r.returncode == 2 and "needs arrays x (float inputs) and y (labels); has x" in r.stderr


def test_report_rows_for_recipes_not_made_or_not_run(tmp_path):
    """The comparison lists every recipe the converter was asked for, measured or not, and why."""
    from harness.core.config import load_target
    from harness.report.recipes import render, table
    from harness.results.recipes import Made

    made = Made(None, {}, {"source": "x", "recipes": {
        "fp16": {"file": "fp16.tflite", "size": 20000, "tf_accuracy_pct": 97.5, "settings": {"optimizations": ["DEFAULT"]}},
        "int8_qat": {"error": "cannot make it: needs tf_keras"}}}, errors={"int8_qat": "cannot make it: needs tf_keras"})
    rows = {"fp16": {"cannot_run": "unsupported CONV_2D at node 0: input type float32 (needs int8)"},
            "int8_qat": {"not_made": "cannot make it: needs tf_keras"}}
    tab = table(made, rows)
    assert [r["status"] for r in tab.values()] == ["cannot run on this target", "not made"]
    md = render(tab, load_target("qemu-m4"), made, tmp_path / "eval.npz").markdown()
    assert "| fp16 | cannot run on this target | 20 000 |" in md and "| 97.5 |" in md
    assert "| int8 QAT | cannot make it: needs tf_keras |" in md
    assert "optimizations=['DEFAULT']" in md
