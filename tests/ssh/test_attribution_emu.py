"""The op replay on rpi4-emu (aarch64 tflite-runtime under qemu-aarch64-static): with the
reference kernels (a bit-exact target) every op says "TFLM arithmetic reproduced exactly"; with
the optimised kernels every op is TFLM's or reproduced exactly by a named variant."""

from __future__ import annotations

import json

import pytest

from tests.common import MODELS, run_cli, shared_model


def _bench(sshd, emu_python, tmp_path, kernels: str, *models) -> tuple:
    st = sshd.state()
    env = {"HB_PORT": str(st["port"]), "HB_USER": st["user"], "HB_KEY_FILE": st["key_file"],
           "HB_KNOWN_HOSTS": st["known_hosts"], "HB_REMOTE_DIR": str(tmp_path / "remote"),
           "HB_PYTHON": emu_python, "HB_SSH_CONFIG": str(tmp_path / "none"), "HB_KERNELS": kernels}
    p = run_cli("--quiet", "bench", "--target", "rpi4-emu", "--models", *map(str, models), "--runs", "3",
                "--per-layer", "2", "--results", str(tmp_path / kernels), env=env, timeout=600)
    assert p.returncode == 0, p.stderr + p.stdout
    (run,) = (tmp_path / kernels / "rpi4-emu").iterdir()
    return run, (run / "report.md").read_text()


def _ops(run, name: str) -> list[dict]:
    return json.loads((run / "layers" / f"{name}.attribution.json").read_text())["ops"]


def test_reference_kernels_reproduce_tflm_per_op(sshd, emu_python, tmp_path):
    run, report = _bench(sshd, emu_python, tmp_path, "reference", MODELS / "digits_int8.tflite")
    ops = _ops(run, "digits_int8")
    assert len(ops) == 8 and all(r["verdict"] == "tflm" for r in ops), ops
    assert report.count("| TFLM arithmetic reproduced exactly |") == 8


@pytest.mark.long  # 30 s of emulated ResNet-8; the reference-kernel test above stays in `make test`
def test_optimised_kernels_are_tflm_or_a_named_variant(sshd, emu_python, tmp_path):
    model = shared_model("mlperf_tiny/pretrainedResnet_quant.tflite")
    run, report = _bench(sshd, emu_python, tmp_path, "optimized", model)
    ops = _ops(run, "pretrainedResnet_quant")
    assert not [r for r in ops if r["verdict"] == "unexplained"], ops
    assert all(r["verdict"] in ("tflm", "attributed") for r in ops if "overwritten" not in r.get("why", ""))
    assert "| TFLM arithmetic reproduced exactly |" in report
