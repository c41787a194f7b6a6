"""The models of `harness recipes`: converted by tools/recipes_convert.py in TensorFlow's own venv
(a child process: the harness never imports TensorFlow, its venv keeps numpy < 2 for
tflite-runtime), cached under results/recipes/cache/ by a hash of everything that decides the
bytes, or given pre-converted (--from-tflite NAME=PATH)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from ..core import model as models
from ..core.paths import ROOT
from ..errors import ConfigError, ModelError
from ..results.recipes import RECIPES, Made
from ..ui import UI

CONVERTER = ROOT / "tools" / "recipes_convert.py"
REQUIREMENTS = ROOT / "tools" / "requirements-recipes.txt"
TF_VENV_PYTHON = ROOT / ".venv-recipes" / "bin" / "python"
NAME = re.compile(r"^[A-Za-z0-9_]{1,40}$")
TIMEOUT_S = 3600


def tf_python(explicit: str | None) -> Path:
    """The TensorFlow venv's python: --tf-python, $HB_RECIPES_PYTHON, or .venv-recipes."""
    p = Path(explicit or os.environ.get("HB_RECIPES_PYTHON") or TF_VENV_PYTHON)
    if not p.exists():
        raise ConfigError(f"{p}: no TensorFlow python for the conversions; run `make recipes-venv` (a venv "
                          f"from {REQUIREMENTS.relative_to(ROOT)}) or give --tf-python PATH of a python with "
                          "`pip install harness[recipes]` — or convert elsewhere and pass --from-tflite NAME=PATH")
    return p


def _sha(path: Path) -> str:
    h = hashlib.sha256()
    for f in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if f.is_file():
            h.update(f.relative_to(path).as_posix().encode() if path.is_dir() else b"")
            h.update(f.read_bytes())
    return h.hexdigest()


def convert(source: dict, recipes: tuple[str, ...], qat_epochs: int, results: Path, tf_py: Path, ui: UI) -> Made:
    """source: {"digits": True} or {"keras": path, "eval": npz, "train": npz | None}."""
    args = ["--digits"] if source.get("digits") else \
        ["--keras", str(source["keras"]), "--eval", str(source["eval"])] + \
        (["--train", str(source["train"])] if source.get("train") else [])
    args += ["--recipes", *recipes, "--qat-epochs", str(qat_epochs)]
    key = hashlib.sha256(json.dumps({
        "args": args, "converter": _sha(CONVERTER), "requirements": _sha(REQUIREMENTS),
        "make_models": _sha(ROOT / "tools" / "make_models.py"),
        "files": {k: _sha(Path(v)) for k, v in source.items() if k in ("keras", "eval", "train") and v},
    }, sort_keys=True).encode()).hexdigest()[:16]
    folder = results / "recipes" / "cache" / key
    if (folder / "recipes.json").exists():
        ui.say(f"recipes: converted models from the cache {folder}")
    else:
        _run_converter(tf_py, args, folder, ui)
    return _read(folder)


def _run_converter(tf_py: Path, args: list[str], folder: Path, ui: UI) -> None:
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    ui.say(f"recipes: converting with TensorFlow ({tf_py}); a few minutes the first time")
    try:
        r = subprocess.run([str(tf_py), str(CONVERTER), "--out", str(tmp), *args], capture_output=True, text=True,
                           timeout=TIMEOUT_S, cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise ConfigError(f"{CONVERTER.name}: no answer in {TIMEOUT_S} s; the conversions were abandoned") from None
    if r.returncode != 0 or not (tmp / "recipes.json").exists():
        lines = [ln for ln in r.stderr.strip().splitlines() if ln.strip()]
        why = lines[-1] if lines else f"exit {r.returncode}"
        raise (ModelError if r.returncode == 2 else ConfigError)(
            f"{CONVERTER.name} (in {tf_py}) failed: {why.removeprefix('error: ')}")
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(tmp, folder)


def _read(folder: Path) -> Made:
    info = json.loads((folder / "recipes.json").read_text())
    made = Made(folder, {}, info, folder / "eval.npz" if (folder / "eval.npz").exists() else None)
    for name, r in info["recipes"].items():
        if "file" in r:
            made.models[name] = folder / r["file"]
        else:
            made.errors[name] = r.get("error", "not made")
    return made


def pre_converted(pairs: list[str]) -> Made:
    """--from-tflite NAME=PATH ...: each checked as a .tflite now, before any work."""
    found: dict[str, Path] = {}
    info: dict = {"source": "pre-converted .tflite files", "recipes": {}}
    for pair in pairs:
        name, sep, path = pair.partition("=")
        if not sep or not NAME.match(name):
            raise ConfigError(f"--from-tflite {pair!r}: give NAME=PATH, NAME of letters, digits and _ "
                              f"(the recipes' names: {', '.join(RECIPES)})")
        if name in found:
            raise ConfigError(f"--from-tflite: {name} given twice")
        data, minfo = models.load(path, name)
        found[name] = Path(path).resolve()
        info["recipes"][name] = {"file": str(found[name]), "size": minfo.size, "sha256": minfo.sha256,
                                 "settings": {"pre-converted": "converter settings not known"}}
    return Made(None, found, info)
