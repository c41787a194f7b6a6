"""Where things are: the source checkout (firmware/, tools/, models/ beside harness/) and the
folders a target or config name is looked up in."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the harness package
ROOT = PACKAGE.parent  # the checkout holding harness/, firmware/, tools/, models/ (when run from source)
