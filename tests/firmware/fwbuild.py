"""Session fixtures that build the firmware core for this machine (make -C firmware native [SAN=1]).

Not a conftest.py: tests/conftest.py is imported by name (`from conftest import ...`) elsewhere,
and a second conftest module would shadow it. Test files import these fixtures explicitly."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
SHARED_MODELS = ROOT.parent / "shared" / "models"
PROJECT_MODELS = ROOT / "models"

if str(ROOT) not in sys.path:  # harness/native.py without installing anything
    sys.path.insert(0, str(ROOT))


def _make(*args: str) -> Path:
    if not shutil.which("make") or not (shutil.which("gcc") or shutil.which("cc")):
        pytest.skip("no C compiler / make on this machine")
    r = subprocess.run(["make", "-C", str(FIRMWARE), *args], capture_output=True, text=True, timeout=600)
    if r.returncode != 0 and "SAN=1" in args and ("asan" in r.stderr or "ubsan" in r.stderr):
        pytest.skip(f"the compiler's sanitizer runtime is missing: {r.stderr.strip().splitlines()[-1]}")
    if r.returncode != 0:
        pytest.fail(f"make -C firmware {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return FIRMWARE / "build" / ("native-san" if "SAN=1" in args else "native")


@pytest.fixture(scope="session")
def native_build() -> Path:
    """firmware/build/native with libhbcore.so and hbload."""
    return _make("native")


@pytest.fixture(scope="session")
def san_build() -> Path:
    """firmware/build/native-san: the same, with -fsanitize=address,undefined."""
    return _make("native", "SAN=1")
