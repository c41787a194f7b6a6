"""`harness bench --target rpi4-emu` end to end, as `make bench TARGET=rpi4-emu` runs it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.common import MODELS, run_cli


def test_bench_on_rpi4_emu(sshd, emu_python, tmp_path):
    st = sshd.state()
    env = {"HB_PORT": str(st["port"]), "HB_USER": st["user"], "HB_KEY_FILE": st["key_file"],
           "HB_KNOWN_HOSTS": st["known_hosts"], "HB_REMOTE_DIR": str(tmp_path / "remote"),
           "HB_PYTHON": emu_python, "HB_SSH_CONFIG": str(tmp_path / "none")}
    p = run_cli("bench", "--target", "rpi4-emu", "--models", str(MODELS / "digits_int8.tflite"), "--runs", "20",
                "--per-layer", "1", "--results", str(tmp_path / "results"), env=env, timeout=300)
    assert p.returncode == 0, p.stderr + p.stdout
    (run,) = (tmp_path / "results" / "rpi4-emu").iterdir()
    meta = json.loads((run / "run.json").read_text())
    facts = meta["target"]["facts"]
    assert facts["emulated"].startswith("qemu-aarch64") and facts["machine"] == "aarch64"
    assert meta["target"]["time_unit"] == "ns"
    assert meta["models"]["digits_int8"]["memory"]["peak_rss_bytes"] > 1 << 20  # the agent's, via HELLO
    assert "bit-exact on 1/1 models" in p.stdout and "RSS" in p.stdout, p.stdout  # the summary table
    report = (run / "report.md").read_text()
    assert "emulated" in report and "digits_int8" in report
    assert Path(run / "layers" / "digits_int8.json").exists()


def test_unknown_host_key_refused_then_accepted_with_the_cli_flag(sshd, emu_python, tmp_path):
    st = sshd.state()
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    env = {"HB_PORT": str(st["port"]), "HB_USER": st["user"], "HB_KEY_FILE": st["key_file"],
           "HB_KNOWN_HOSTS": str(empty), "HB_REMOTE_DIR": str(tmp_path / "remote"),
           "HB_PYTHON": emu_python, "HB_SSH_CONFIG": str(tmp_path / "none")}
    args = ["--quiet", "bench", "--target", "rpi4-emu", "--models", str(MODELS / "ops" / "add.tflite"),
            "--runs", "3", "--results", str(tmp_path / "results")]
    p = run_cli(*args, env=env, timeout=300)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "host key" in p.stderr, p.stderr
    assert empty.read_text() == ""
    p = run_cli(*args, "--accept-new-host-key", env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    assert "127.0.0.1" in empty.read_text()


def test_compare_emulated_pi_with_the_x86_host(sshd, emu_python, tmp_path):
    """The same int8 bytes on aarch64 and x86 default kernels: `harness compare` shows the difference."""
    from tests.common import shared_model

    model = shared_model("mlperf_tiny/pretrainedResnet_quant.tflite")
    st = sshd.state()
    env = {"HB_PORT": str(st["port"]), "HB_USER": st["user"], "HB_KEY_FILE": st["key_file"],
           "HB_KNOWN_HOSTS": st["known_hosts"], "HB_REMOTE_DIR": str(tmp_path / "remote"),
           "HB_PYTHON": emu_python, "HB_SSH_CONFIG": str(tmp_path / "none")}
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"runs: 60\nreferences: [tflm]\nmodels:\n  - path: {model}\n")
    runs = {}
    for target in ("rpi4-emu", "host"):
        p = run_cli("--quiet", "bench", "--target", target, "--config", str(cfg), "--results",
                    str(tmp_path / target), env=env, timeout=600)
        assert p.returncode == 0, p.stderr
        (runs[target],) = (tmp_path / target / target).iterdir()
    p = run_cli("compare", str(runs["rpi4-emu"]), str(runs["host"]))
    assert p.returncode == 0, p.stderr
    row = next(line for line in p.stdout.splitlines() if line.startswith("| pretrainedResnet_quant"))
    exact = float(row.split("|")[4])
    assert exact < 100.0, row
