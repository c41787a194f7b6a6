"""Shared fixtures (the plain helpers — paths, shared_model, run_cli — are in tests/common.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"
