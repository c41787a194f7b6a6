"""Names are data, never paths or shell (issue #19 item 3): model names that reach the file system are
plain names, every file a run writes is inside its run directory, and `make bench` hands MODELS,
TARGET, CONFIG, RUNS, PER_LAYER, HOST, PORT and USER to the harness without a shell or make re-reading them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import cli
from harness.core.schema import is_safe_name, safe_name
from harness.errors import ResultsError
from harness.results.rundir import RunDir
from tests.common import MODELS, ROOT

ADD = MODELS / "ops" / "add.tflite"
HOSTILE_STEMS = ["`touch pwned`", "a;touch pwned;", "$(touch pwned)", "..", ".hidden", "-rf", "a b",
                 "mödel✓", "new\nline", "x" * 200, "' OR 1=1 --", "%s%n", "bad\udcffutf8"]
E2E_STEMS = ["`touch pwned`", "a;touch pwned;", "..", "-rf", "new\nline", "bad\udcffutf8"]  # run for real


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("stem", HOSTILE_STEMS + ["/", "../../x", "a\0b", "", "...."])
def test_safe_name_is_one_plain_component(stem):
    name = safe_name(stem)
    assert is_safe_name(name) and "/" not in name and ".." not in name and not name.startswith(".")
    assert len(name) <= 100


def test_run_dir_refuses_paths_that_leave_it(tmp_path):
    rd = RunDir(tmp_path / "run")
    for parts in (("..", "x"), ("outputs", "../../x.npz"), ("/etc/passwd",), ("a\0b",), ("",)):
        with pytest.raises(ResultsError, match="not a plain file name"):
            rd.file(*parts)


def test_hostile_file_names_write_only_inside_the_results_dir(tmp_path, monkeypatch, capsys):
    """Models whose file names are shell and path syntax bench fine, under safe names, inside results/."""
    models = tmp_path / "models"
    models.mkdir()
    for stem in E2E_STEMS:
        shutil.copy(ADD, models / f"{stem}.tflite")
    cwd = tmp_path / "a" / "b" / "c" / "d"
    cwd.mkdir(parents=True)
    monkeypatch.chdir(cwd)  # "../../../../escaped" relative to here would land in tmp_path
    results = tmp_path / "results"
    cfg = tmp_path / "c.yaml"
    cfg.write_text("references: [tflm]\n")
    before = _tree(tmp_path)
    rc = cli.main(["--quiet", "bench", "--target", "host", "--runs", "3", "--results", str(results),
                   "--config", str(cfg), "--models", *sorted(str(p) for p in models.iterdir())])
    assert rc == 0, capsys.readouterr().err
    new = _tree(tmp_path) - before
    outside = sorted(p for p in new if p != results and results not in p.parents)
    assert new and not outside, outside
    (rd,) = results.glob("host/*")
    names = list(json.loads((rd / "run.json").read_text())["models"])
    assert len(names) == len(E2E_STEMS) and all(is_safe_name(n) for n in names), names
    assert sorted(p.stem for p in (rd / "outputs").iterdir()) == sorted(names)


def _make(*args: str, cwd: Path, dry: bool = False) -> subprocess.CompletedProcess:
    """`make bench …` from the repository's Makefile; the venv stamp is taken as made (never pip here)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HB_", "MAKE"))}
    cmd = ["make", "-s", "-C", str(ROOT), "-o", str(ROOT / ".stamps" / "venv"), "-o", str(ROOT / ".stamps" / "apt-emu"),
           "-o", str(ROOT / ".stamps" / "apt-fw"), *(["-n"] if dry else []), "bench", *args]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _hostile(tmp: Path) -> list[str]:
    """The values of the issue and friends: backticks, ;, $(…), make's $(shell …), quotes, newlines."""
    t = str(tmp)
    return [f"{t}/x/`touch {t}/pwned1`.tflite", f"{t}/x/a;touch {t}/pwned2;.tflite",
            f"$(shell touch {t}/pwned3)", f"$$(touch {t}/pwned4)", f'"; touch {t}/pwned5; "',
            f"'; touch {t}/pwned6; '", f"a\ntouch {t}/pwned7", f"${{HOME}}/`touch {t}/pwned8`"]


@pytest.mark.parametrize("target", ["host", "rpi4-emu"])
def test_make_bench_never_puts_a_value_into_a_recipe(tmp_path, target):
    """Dry run: the recipes make would run contain none of the values; make's own expansion runs nothing."""
    for value in _hostile(tmp_path):
        r = _make(f"TARGET={target}", f"MODELS={value}", f"CONFIG={value}", f"RUNS={value}", f"HOST={value}",
                  f"PORT={value}", f"USER={value}", f"PER_LAYER={value}", cwd=tmp_path, dry=True)
        assert r.returncode == 0, r.stderr
        recipe = r.stdout
        assert "-m harness bench" in recipe and value not in recipe and "pwned" not in recipe, recipe
    assert not list(tmp_path.glob("pwned*")) and not list(ROOT.glob("pwned*"))


def test_make_bench_with_hostile_values_creates_nothing(tmp_path):
    """For real on the host target: each hostile MODELS (and CONFIG/RUNS/HOST/USER) is refused by the
    harness as a file name or value — exit 2, one line — and no command in it runs."""
    value = " ".join(_hostile(tmp_path))
    for var in ("MODELS", "CONFIG", "RUNS", "PER_LAYER"):
        r = _make("TARGET=host", f"{var}={value}", f"HOST={value}", f"USER={value}", f"PORT={value}", cwd=tmp_path)
        assert r.returncode == 2, (var, r.stdout, r.stderr)
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in r.stderr, r.stderr
    assert not list(tmp_path.rglob("pwned*")) and not list(ROOT.glob("pwned*"))


def test_make_bench_models_still_takes_several_paths_and_globs(tmp_path):
    r = _make("TARGET=host", f"MODELS={MODELS}/ops/ad*.tflite {MODELS}/ops/mu?.tflite {tmp_path}/none*.tflite",
              "RUNS=2", cwd=tmp_path)
    assert r.returncode == 2 and "none*.tflite: model file not found" in r.stderr, r.stderr  # a glob matching nothing
    cfg = tmp_path / "c.yaml"
    cfg.write_text("references: [tflm]\n")
    r = _make("TARGET=host", f"MODELS={MODELS}/ops/ad*.tflite   {MODELS}/ops/mu?.tflite", "RUNS=2",
              f"CONFIG={cfg}", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    run_dir = Path(r.stdout.strip().splitlines()[-1].split(" ", 1)[1]).parent
    run_dir = run_dir if run_dir.is_absolute() else ROOT / run_dir
    try:
        assert sorted(json.loads((run_dir / "run.json").read_text())["models"]) == ["add", "mul"]
    finally:
        shutil.rmtree(run_dir)
