"""What `pip install .` gives: every harness package, targets/ and configs/ as package data, and a
`harness` that finds them from any folder (docs/targets.md: the lookup order). The quick test
builds the installed tree with setuptools' build_py (what the wheel holds, without zipping it);
the long one installs into a fresh venv with pip, as the README says, and editable too."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.common import ROOT

TARGETS = sorted(p.stem for p in (ROOT / "targets").glob("*.yaml"))
CONFIGS = sorted(p.stem for p in (ROOT / "configs").glob("*.yaml"))
PACKAGES = sorted(str(p.parent.relative_to(ROOT)) for p in (ROOT / "harness").rglob("__init__.py"))


def _listed(out: str) -> list[str]:
    return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def test_the_built_package_holds_everything_and_lists_every_target(tmp_path):
    lib = tmp_path / "lib"
    r = subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(lib)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert [p for p in PACKAGES if not (lib / p / "__init__.py").is_file()] == []
    assert sorted(p.stem for p in (lib / "harness" / "targets").glob("*.yaml")) == TARGETS
    assert sorted(p.stem for p in (lib / "harness" / "configs").glob("*.yaml")) == CONFIGS
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(lib)}
    r = subprocess.run([sys.executable, "-c", "import harness; print(harness.__file__)"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == str(lib / "harness" / "__init__.py"), "the built copy is the one imported"
    r = subprocess.run([sys.executable, "-m", "harness", "targets"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and _listed(r.stdout) == TARGETS, r.stderr
    # A target file in the current folder is found first, beside the installed ones.
    (elsewhere / "targets").mkdir()
    (elsewhere / "targets" / "mine.yaml").write_text("kind: host\ndescription: my own\n")
    r = subprocess.run([sys.executable, "-m", "harness", "targets"], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and _listed(r.stdout) == sorted([*TARGETS, "mine"]), r.stderr


@pytest.mark.long
@pytest.mark.parametrize("editable", [False, True], ids=["install", "editable"])
def test_pip_install_gives_a_harness_command_that_works_anywhere(tmp_path, editable):
    """python3 -m venv V && V/bin/pip install [-e] . && cd / && V/bin/harness targets (the issue's check)."""
    env_dir = tmp_path / "v"
    venv.create(env_dir, with_pip=True)
    r = subprocess.run([str(env_dir / "bin" / "pip"), "install", "-q", *(["-e"] if editable else []), str(ROOT)],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run([str(env_dir / "bin" / "harness"), "targets"], cwd="/", capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and _listed(r.stdout) == TARGETS, r.stderr


def test_make_venv_put_a_harness_command_in_the_venv():
    """`make test` depends on `make venv`, which installs the package: the README's `harness …` works."""
    exe = ROOT / ".venv" / "bin" / "harness"
    if not (ROOT / ".venv").exists():
        pytest.skip("no .venv here: run through `make test` (make venv)")
    assert exe.is_file(), "make venv did not install the package (pip install -e)"
    r = subprocess.run([str(exe), "targets"], cwd="/", capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "qemu-m4" in _listed(r.stdout), r.stderr
