"""Where things are: the source checkout (firmware/, tools/, models/ beside harness/) and the
folders a target or config name is looked up in."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # the harness package
ROOT = PACKAGE.parent  # the checkout holding harness/, firmware/, tools/, models/ (when run from source)
# targets/ and configs/ inside an installed package: PACKAGE / "targets", PACKAGE / "configs" (setup.py)


def search_dirs(kind: str) -> list[Path]:
    """The folders `kind` ("targets" or "configs") files are looked up in by name, first match
    winning (docs/targets.md): the current directory's, the checkout's beside the package
    (a source tree, pip install -e .), the copy installed with the package (pip install .)."""
    dirs = []
    for d in (Path.cwd() / kind, ROOT / kind, PACKAGE / kind):
        if d.resolve() not in (x.resolve() for x in dirs):
            dirs.append(d)
    return dirs
