"""--resume repeats the run exactly or refuses, naming the file (issue #19 item 4); one process per run
directory (run.lock); every way out of a run leaves `status: failed: …` (issue #11 item 5)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from harness import cli
from harness.drivers.host import HostDriver
from harness.run import references
from tests.common import MODELS, ROOT


def _setup(tmp: Path) -> Path:
    """A config of copies (so the test may change them): add on random inputs, digits with twin and dataset."""
    for name in ("digits_int8.tflite", "digits_float.tflite", "digits_test.npz"):
        shutil.copy(MODELS / name, tmp / name)
    shutil.copy(MODELS / "ops" / "add.tflite", tmp / "add.tflite")
    cfg = tmp / "c.yaml"
    cfg.write_text("runs: 12\nbatch: 4\nwarmup: 0\nreferences: [tflm]\ninputs: {seed: 3}\nmodels:\n"
                   "  - path: add.tflite\n"
                   "  - {path: digits_int8.tflite, float: digits_float.tflite, dataset: digits_test.npz}\n")
    return cfg


def _bench(*args: str) -> tuple[int, str]:
    return cli.main(["--quiet", "bench", *args]), ""


def _meta(rd: Path) -> dict:
    return json.loads((rd / "run.json").read_text())


def _interrupted_run(tmp: Path, monkeypatch, capsys, after_calls: int = 2) -> Path:
    """A run stopped by Ctrl-C in the middle of its first model (KeyboardInterrupt inside the driver)."""
    cfg = _setup(tmp)
    real, calls = HostDriver.run, []

    def run(self, inputs):
        calls.append(1)
        if len(calls) > after_calls:
            raise KeyboardInterrupt
        return real(self, inputs)

    monkeypatch.setattr(HostDriver, "run", run)
    assert cli.main(["--quiet", "bench", "--config", str(cfg), "--results", str(tmp / "res")]) == 130
    monkeypatch.setattr(HostDriver, "run", real)
    capsys.readouterr()
    (rd,) = (tmp / "res").glob("host/*")
    return rd


def test_ctrl_c_marks_failed_and_resume_equals_an_uninterrupted_run(tmp_path, monkeypatch, capsys):
    rd = _interrupted_run(tmp_path, monkeypatch, capsys)
    assert _meta(rd)["status"].startswith("failed: interrupted")
    assert len(list((rd / "parts" / "add").glob("0*.npz"))) == 2
    assert cli.main(["--quiet", "bench", "--resume", str(rd)]) == 0, capsys.readouterr().err
    assert _meta(rd)["status"] == "complete"
    assert cli.main(["--quiet", "bench", "--config", str(tmp_path / "c.yaml"), "--results", str(tmp_path / "b")]) == 0
    (rb,) = (tmp_path / "b").glob("host/*")
    for name in ("add", "digits_int8"):
        a, b = np.load(rd / "outputs" / f"{name}.npz"), np.load(rb / "outputs" / f"{name}.npz")
        for key in ("inputs_0", "outputs_0"):
            assert np.array_equal(a[key], b[key]), (name, key)
    lines = [json.loads(x) for x in (rd / "journal.jsonl").read_text().splitlines()]
    batches = [(e["model"], e["start"]) for e in lines if e["event"] == "batch"]
    assert len(batches) == len(set(batches)) == 6


@pytest.mark.parametrize("change", ["seed", "model", "twin", "dataset", "model-gone"])
def test_resume_refuses_a_changed_file_naming_it(tmp_path, monkeypatch, capsys, change):
    rd = _interrupted_run(tmp_path, monkeypatch, capsys)
    cfg = tmp_path / "c.yaml"
    target = {"seed": cfg, "model": tmp_path / "add.tflite", "twin": tmp_path / "digits_float.tflite",
              "dataset": tmp_path / "digits_test.npz", "model-gone": tmp_path / "add.tflite"}[change]
    if change == "seed":
        cfg.write_text(cfg.read_text().replace("seed: 3", "seed: 4"))
    elif change == "model-gone":
        target.unlink()
    else:
        target.write_bytes(target.read_bytes() + b"\0")
    parts = sorted((rd / "parts").rglob("*.npz"))
    assert cli.main(["--quiet", "bench", "--resume", str(rd)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(target) in err[0], err
    assert ("not found" if change == "model-gone" else "changed since the run started") in err[0]
    assert sorted((rd / "parts").rglob("*.npz")) == parts and _meta(rd)["status"].startswith("failed: interrupted")


def test_resume_uses_the_recorded_settings_when_the_config_is_gone(tmp_path, monkeypatch, capsys):
    rd = _interrupted_run(tmp_path, monkeypatch, capsys)
    (tmp_path / "c.yaml").unlink()
    assert cli.main(["--quiet", "bench", "--resume", str(rd)]) == 0, capsys.readouterr().err
    out = np.load(rd / "outputs" / "add.npz")
    assert len(out["outputs_0"]) == 12 and _meta(rd)["status"] == "complete"


def test_an_internal_error_marks_the_run_failed(tmp_path, monkeypatch, capsys):
    cfg = _setup(tmp_path)

    def boom(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(references, "compute", boom)
    with pytest.raises(RuntimeError):
        cli.main(["--quiet", "bench", "--config", str(cfg), "--results", str(tmp_path / "res")])
    (rd,) = (tmp_path / "res").glob("host/*")
    assert _meta(rd)["status"] == "failed: internal error RuntimeError: boom"
    assert (rd / "outputs" / "add.npz").is_file() and (rd / "outputs" / "digits_int8.npz").is_file()


def _hold_lock(rd: Path) -> subprocess.Popen:
    code = ("import fcntl, os, sys, time\n"
            f"fd = os.open({str(rd / 'run.lock')!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\nos.ftruncate(fd, 0)\nos.write(fd, f'{os.getpid()}\\n'.encode())\n"
            "print('locked', flush=True)\ntime.sleep(60)\n")
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


def test_one_process_per_run_directory_and_stale_locks(tmp_path, monkeypatch, capsys):
    rd = _interrupted_run(tmp_path, monkeypatch, capsys)
    holder = _hold_lock(rd)
    try:
        assert cli.main(["--quiet", "bench", "--resume", str(rd)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"in use by process {holder.pid} (run.lock)" in err[0], err
    finally:
        holder.kill()
        holder.wait()
    assert (rd / "run.lock").read_text().strip() == str(holder.pid)  # what a killed run leaves behind
    assert cli.main(["--quiet", "bench", "--resume", str(rd)]) == 0
    err = capsys.readouterr().err
    assert f"took over the stale lock of process {holder.pid}" in err, err
    assert (rd / "run.lock").read_text() == ""  # released


def test_two_concurrent_resumes_one_is_refused(tmp_path):
    """A real second process: the resume in flight keeps the directory; no batch is journaled twice."""
    cfg = tmp_path / "slow.yaml"
    cfg.write_text(f"runs: 400000\nbatch: 2000\nwarmup: 0\nreferences: []\nmodels:\n  - path: {MODELS / 'digits_int8.tflite'}\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "harness", "--quiet", "bench"]
    first = subprocess.Popen([*cmd, "--target", "host-firmware", "--config", str(cfg), "--results", str(tmp_path / "r")],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        journal = _wait_for(lambda: next((tmp_path / "r").glob("*/*/journal.jsonl"), None))
        _wait_for(lambda: journal.read_text().count('"batch"') >= 2 or None)
        second = subprocess.run([*cmd, "--resume", str(journal.parent)], cwd=ROOT, env=env, capture_output=True,
                                text=True, timeout=120)
        assert second.returncode == 2 and f"in use by process {first.pid}" in second.stderr, second.stderr
        first.send_signal(signal.SIGTERM)  # ends like Ctrl-C
        assert first.wait(60) == 130, first.stderr.read()
    finally:
        first.kill()
    meta = _meta(journal.parent)
    assert meta["status"].startswith("failed: interrupted"), meta["status"]
    starts = [json.loads(x)["start"] for x in journal.read_text().splitlines() if '"batch"' in x]
    assert len(starts) == len(set(starts)) >= 2


def _wait_for(probe, timeout: float = 120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")
