"""The conv/FC requantisation (hb_requant, one rounding add) equals the reference-shaped
hb_mbqm on every shift and ~10^7 multiplier/accumulator pairs (firmware/tools/requant_check.c)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.firmware.fwbuild import FIRMWARE


def test_requant_equals_reference_form(tmp_path):
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        pytest.skip("no C compiler")
    exe = tmp_path / "requant_check"
    subprocess.run([cc, "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{FIRMWARE / 'core'}", "-o", str(exe),
                    str(FIRMWARE / "tools" / "requant_check.c")], check=True)
    r = subprocess.run([str(exe), "150000"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout
    assert "equal" in r.stdout
