"""Session fixtures that build the firmware core for this machine (make -C firmware native [SAN=1]),
once per kernel set (KERNELS=c: the plain C loops; KERNELS=dsp: the SIMD-MAC kernels with the
DSP instructions emulated in portable C), so every test that takes a build runs on both.

Test files import these fixtures explicitly (from tests.firmware.fwbuild import native_build):
one module for the builds every test directory shares."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
SHARED_MODELS = ROOT.parent / "shared" / "models"
PROJECT_MODELS = ROOT / "models"


KERNEL_SETS = ("c", "dsp")


@dataclass(frozen=True)
class NativeBuild:
    """One build directory (libhbcore.so, hbload) and the kernel set it was built with."""

    dir: Path
    kernels: str

    @property
    def lib(self) -> Path:
        return self.dir / "libhbcore.so"

    def __truediv__(self, name: str) -> Path:
        return self.dir / name

    def engine(self, model: bytes, **kw):
        """A harness.native.NativeEngine on this build's library."""
        from harness.runtimes.native import NativeEngine

        return NativeEngine(model, lib=self.lib, **kw)


def _make(kernels: str, san: bool) -> NativeBuild:
    args = ["native", f"KERNELS={kernels}"] + (["SAN=1"] if san else [])
    if not shutil.which("make") or not (shutil.which("gcc") or shutil.which("cc")):
        pytest.skip("no C compiler / make on this machine")
    r = subprocess.run(["make", "-C", str(FIRMWARE), *args], capture_output=True, text=True, timeout=600)
    if r.returncode != 0 and san and ("asan" in r.stderr or "ubsan" in r.stderr):
        pytest.skip(f"the compiler's sanitizer runtime is missing: {r.stderr.strip().splitlines()[-1]}")
    if r.returncode != 0:
        pytest.fail(f"make -C firmware {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    name = "native" + ("-dsp" if kernels == "dsp" else "") + ("-san" if san else "")
    return NativeBuild(FIRMWARE / "build" / name, kernels)


@pytest.fixture(scope="session", params=KERNEL_SETS)
def native_build(request) -> NativeBuild:
    """firmware/build/native[-dsp] with libhbcore.so and hbload."""
    return _make(request.param, san=False)


@pytest.fixture(scope="session", params=KERNEL_SETS)
def san_build(request) -> NativeBuild:
    """firmware/build/native[-dsp]-san: the same, with -fsanitize=address,undefined."""
    return _make(request.param, san=True)


@pytest.fixture(scope="session")
def both_builds() -> dict[str, NativeBuild]:
    """Both kernel sets at once (the proofs compare each case on both against one TFLM run)."""
    return {k: _make(k, san=False) for k in KERNEL_SETS}
