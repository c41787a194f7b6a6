"""What every test directory shares: where the project and the third-party models are, and how to
run the CLI as a user does. Fixtures live in conftest.py files; this is the plain helpers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "models"
MODELS = ROOT / "models"


def shared_model(rel: str) -> Path:
    """A model under ../shared/models, or skip the test saying why."""
    p = SHARED / rel
    if not p.exists():
        pytest.skip(f"{p} not present: the third-party models live in ../shared/models beside the repo")
    return p


def run_cli(*args: str, cwd: Path = ROOT, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m harness …` in a subprocess, as a user runs it."""
    e = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=e)
