"""End to end through the CLI, as a user runs it: reports, bad input, resume, compare, baseline."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from tests.common import MODELS, ROOT, SHARED, run_cli, shared_model


def _run_dir(out: str) -> Path:
    line = [l for l in out.splitlines() if l.startswith("report: ") and l.endswith(".html")][0]
    return Path(line.split(" ", 1)[1]).parent


def test_bench_default_config_gives_report(results):
    r = run_cli("--quiet", "bench", "--runs", "60", "--results", str(results))
    assert r.returncode == 0, r.stderr
    rd = _run_dir(r.stdout)
    md = (rd / "report.md").read_text()
    assert "LSB drift" in md and "Float drift" in md and "Latency" in md
    html = (rd / "report.html").read_text()
    assert html.count("data:image/png;base64,") >= 2
    out = np.load(rd / "outputs" / "digits_int8.npz")
    assert out["inputs_0"].shape == (60, 8, 8, 1) and out["outputs_0"].shape == (60, 10)
    assert out["times_ns"].shape == (60,) and (out["times_ns"] > 0).all()
    meta = json.loads((rd / "run.json").read_text())
    assert meta["status"] == "complete" and len(meta["models"]["digits_int8"]["sha256"]) == 64


def _one_line_error(r, pattern):
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert pattern in r.stderr, r.stderr


def test_bad_input_is_one_line_exit_2(tmp_path, results):
    junk = tmp_path / "junk.tflite"
    junk.write_bytes(b"\x00" * 64)
    trunc = tmp_path / "trunc.tflite"
    trunc.write_bytes((MODELS / "digits_int8.tflite").read_bytes()[:3000])
    base = ("--quiet", "bench", "--results", str(results))
    _one_line_error(run_cli(*base, "--models", str(tmp_path / "missing.tflite")), "model file not found")
    _one_line_error(run_cli(*base, "--models", str(junk)), "not a TFL3 flatbuffer")
    _one_line_error(run_cli(*base, "--models", str(trunc)), "truncated")
    _one_line_error(run_cli(*base, "--models", str(MODELS / "digits_float.tflite")), "expected an int8 model")
    _one_line_error(run_cli(*base, "--target", "nosuch"), "unknown target 'nosuch'")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("models: []\nwarmpu: 1\n")
    _one_line_error(run_cli(*base, "--config", str(cfg)), "unknown key 'warmpu'")
    twin = tmp_path / "twin.yaml"
    twin.write_text(f"models:\n  - path: {MODELS / 'digits_int8.tflite'}\n    float: {MODELS / 'ops' / 'softmax.tflite'}\n")
    _one_line_error(run_cli(*base, "--config", str(twin)), "do not match")


def test_unwritable_results_and_debug_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    r = run_cli("--quiet", "bench", "--results", str(blocker / "sub"))
    _one_line_error(r, "cannot create the results folder")
    r = run_cli("--debug", "--quiet", "bench", "--results", str(blocker / "sub"))
    assert r.returncode != 0 and "Traceback" in r.stderr


def _slow_config(tmp_path: Path) -> Path:
    model = shared_model("mlperf_tiny/pretrainedResnet_quant.tflite")
    cfg = tmp_path / "slow.yaml"
    cfg.write_text(f"runs: 300\nbatch: 10\nwarmup: 1\nreferences: [tflm]\nmodels:\n  - path: {model}\n")
    return cfg


def test_kill_and_resume_equals_uninterrupted(tmp_path):
    cfg = _slow_config(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res_a = tmp_path / "a"
    args = [sys.executable, "-m", "harness", "--quiet", "bench", "--target", "host-tflm", "--config", str(cfg)]
    p = subprocess.Popen([*args, "--results", str(res_a)], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    journal = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = list(res_a.glob("*/*/journal.jsonl"))
        if found and found[0].read_text().count('"batch"') >= 3:
            journal = found[0]
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert journal is not None, "the run never finished a batch"
    rd = journal.parent
    assert not (rd / "outputs").exists() or not list((rd / "outputs").glob("*.npz"))
    r = run_cli("--quiet", "bench", "--resume", str(rd))
    assert r.returncode == 0, r.stderr
    r2 = run_cli("--quiet", "bench", "--target", "host-tflm", "--config", str(cfg), "--results", str(tmp_path / "b"))
    assert r2.returncode == 0, r2.stderr
    a = np.load(rd / "outputs" / "pretrainedResnet_quant.npz")
    b = np.load(_run_dir(r2.stdout) / "outputs" / "pretrainedResnet_quant.npz")
    assert np.array_equal(a["outputs_0"], b["outputs_0"]) and np.array_equal(a["inputs_0"], b["inputs_0"])
    assert len(a["times_ns"]) == 300


def test_compare_and_baseline_regression(tmp_path):
    model = shared_model("mlperf_tiny/pretrainedResnet_quant.tflite")
    cfg = tmp_path / "r.yaml"
    cfg.write_text(f"runs: 40\nreferences: [tflm]\nmodels:\n  - path: {model}\n")
    runs = {}
    for target in ("host", "host-ref"):
        r = run_cli("--quiet", "bench", "--target", target, "--config", str(cfg), "--results", str(tmp_path / target))
        assert r.returncode == 0, r.stderr
        runs[target] = _run_dir(r.stdout)
    r = run_cli("compare", str(runs["host"]), str(runs["host-ref"]))
    assert r.returncode == 0 and "pretrainedResnet_quant" in r.stdout
    r = run_cli("--quiet", "bench", "--target", "host", "--config", str(cfg), "--results", str(tmp_path / "x"),
                "--baseline", str(runs["host-ref"]))
    assert r.returncode == 1, r.stderr
    assert "tolerance" in r.stderr and "Traceback" not in r.stderr
    junit = next((tmp_path / "x").glob("*/*/junit.xml")).read_text()
    assert "<failure" in junit
    r = run_cli("--quiet", "report", str(runs["host"]), "--baseline", str(runs["host"]))
    assert r.returncode == 0, r.stderr


def test_every_shared_int8_model_gets_a_report(results):
    if not SHARED.exists():
        import pytest
        pytest.skip(f"{SHARED} not present")
    r = run_cli("--quiet", "bench", "--config", "shared-all", "--results", str(results))
    assert r.returncode == 0, r.stderr
    rd = _run_dir(r.stdout)
    mets = json.loads((rd / "metrics.json").read_text())
    assert len(mets) == 6
    for name, m in mets.items():
        assert "tflm" in m["tensors"]["outputs_0"]["vs"], name
        if name != "simple_add_model":
            assert "float" in m["tensors"]["outputs_0"], name


def test_labels_and_calibration_bad_input(tmp_path, results):
    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros((5, 8, 8, 1), np.float32), y=np.array([0, 1, 2, 3, 11]))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"models:\n  - path: {MODELS / 'digits_int8.tflite'}\n    dataset: {bad}\n")
    _one_line_error(run_cli("--quiet", "bench", "--config", str(cfg), "--results", str(results)),
                    "label 11 is outside the model's 10 classes")
    cfg.write_text(f"runs: 5\nmodels:\n  - path: {MODELS / 'ops' / 'add.tflite'}\n    classification: true\n")
    r = run_cli("bench", "--config", str(cfg), "--results", str(results))
    assert r.returncode == 0 and "does not apply" in r.stderr, r.stderr


def test_reader_leaving_the_pipe_is_no_traceback():
    """`harness targets | head -1`: the reader closes the pipe after one line; no traceback, exit 141."""
    p = subprocess.Popen([sys.executable, "-m", "harness", "targets"], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, bufsize=0)
    p.stdout.close()  # before the first line: every write meets a closed pipe
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 141 and "Traceback" not in err and "Exception" not in err, err
