"""libFuzzer over the model loader (firmware/tools/fuzz_load.c, `make -C firmware fuzz`).

- test_fuzz_loader (long: `make test-long`): FUZZ_SECONDS (60) of fuzzing from a seed corpus of
  the project's models; every crash / leak / timeout / OOM input is saved as a regression
  input in tests/firmware/fuzz_regressions/ and the test fails naming it.
- test_fuzz_regressions_replay (every `make test`): each saved input goes through the
  ASan/UBSan build of hbload in the fuzzer's plan mode and must answer OK or ERROR, cleanly."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fwbuild import FIRMWARE, PROJECT_MODELS, san_build  # noqa: F401 (fixture)

REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"
FUZZ_SECONDS = int(os.environ.get("HB_FUZZ_SECONDS", "60"))
ARTIFACT_KINDS = ("crash", "leak", "timeout", "oom", "slow-unit")


def seed_corpus(dest: Path) -> int:
    """The project's own models (whole models + one-op models) as seeds; returns the count."""
    dest.mkdir(parents=True, exist_ok=True)
    seeds = sorted(PROJECT_MODELS.glob("*.tflite")) + sorted((PROJECT_MODELS / "ops").glob("*.tflite"))
    for p in seeds:
        shutil.copy(p, dest / p.name)
    for p in sorted(REGRESSIONS.glob("*.tflite")):  # old crashers keep guiding the search
        shutil.copy(p, dest / f"regression-{p.name}")
    return len(seeds)


def save_artifacts(found: list[Path]) -> list[Path]:
    """Copy libFuzzer's artifacts into fuzz_regressions/ under a content name; the new paths."""
    saved = []
    for a in found:
        data = a.read_bytes()
        kind = next((k for k in ARTIFACT_KINDS if a.name.startswith(k)), "crash")
        dst = REGRESSIONS / f"{kind}-{hashlib.sha1(data).hexdigest()[:16]}.tflite"
        dst.write_bytes(data)
        saved.append(dst)
    return saved


@pytest.mark.long
def test_fuzz_loader(tmp_path):
    if not shutil.which("clang"):
        pytest.skip("clang not installed: the fuzz build needs libFuzzer")
    r = subprocess.run(["make", "-C", str(FIRMWARE), "fuzz"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"make -C firmware fuzz failed:\n{r.stderr[-3000:]}"
    corpus, artifacts = tmp_path / "corpus", tmp_path / "artifacts"
    artifacts.mkdir()
    assert seed_corpus(corpus) >= 5
    cmd = [str(FIRMWARE / "build" / "fuzz" / "fuzz_load"), f"-max_total_time={FUZZ_SECONDS}", "-timeout=10",
           "-rss_limit_mb=2048", "-max_len=65536", f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
           str(corpus)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=FUZZ_SECONDS + 300)
    found = sorted(p for p in artifacts.iterdir() if p.is_file())
    saved = save_artifacts(found)
    assert not saved, (f"libFuzzer found {len(saved)} failing input(s), saved as regressions: "
                       f"{[p.name for p in saved]} (exit {run.returncode}):\n{run.stderr[-4000:]}")
    assert run.returncode == 0, f"fuzz_load exited {run.returncode}:\n{run.stderr[-4000:]}"
    assert "Done" in run.stderr and "stat::number_of_executed_units" in run.stderr, run.stderr[-2000:]


def test_fuzz_regressions_replay(san_build):
    inputs = sorted(REGRESSIONS.glob("*.tflite"))
    if not inputs:
        pytest.skip("no fuzz regressions recorded yet (tests/firmware/fuzz_regressions/ is empty)")
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=99",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=98"}
    for f in inputs:
        data = f.read_bytes()
        preserve = ["--preserve"] if data and data[-1] & 1 else []  # as fuzz_load.c picks the mode
        r = subprocess.run([str(san_build / "hbload"), "--arena", str(1 << 20), *preserve, str(f)],
                           capture_output=True, text=True, timeout=120, env=env)
        answers = [line for line in r.stdout.splitlines() if line]
        assert r.returncode == 0 and len(answers) == 1, f"{f.name}: exit {r.returncode}\n{r.stderr[-4000:]}"
        assert answers[0].split(" ", 1)[0] in ("OK", "ERROR"), f"{f.name}: {answers[0]!r}"
