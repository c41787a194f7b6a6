"""Float twins for MODELS= / --models: `--float PATH` for one model, else found by name beside each
int8 model; a float model in the list is used as a twin or skipped with a note, never an abort.

The name rule (docs/results.md), from the names real model sets use (../shared/models/README.md):
the int8 model's stem without a trailing `_int8`, `_quant` or `_quantized`, followed by `_float32`,
`_float` or `_fp32` — or, when such a suffix was dropped, the bare stem — in the same folder, first
match wins: kws_ref_model ↔ kws_ref_model_float32, vww_96_int8 ↔ vww_96_float, ad01_int8 ↔ ad01_fp32,
pretrainedResnet_quant ↔ pretrainedResnet, digits_int8 ↔ digits_float."""

from __future__ import annotations

import os
from pathlib import Path

from ..core import model as models
from ..core.config import ModelEntry
from ..errors import ConfigError, HarnessError, ModelError
from .jobs import regular_file

INT8_SUFFIXES = ("_int8", "_quantized", "_quant")
FLOAT_SUFFIXES = ("_float32", "_float", "_fp32")


def twin_candidates(path: Path) -> list[Path]:
    """Where the float twin of the int8 model `path` would be, by the name rule, in order."""
    stem, ext = path.stem, path.suffix
    base = next((stem[: -len(s)] for s in INT8_SUFFIXES if stem.endswith(s) and len(stem) > len(s)), stem)
    names = [base + s + ext for s in FLOAT_SUFFIXES] + ([base + ext] if base != stem else [])
    return [path.with_name(n) for n in names]


def _info(path: str) -> models.ModelInfo | None:
    """The model's inspection, or None when it cannot be read (prepare() then says why, with the path)."""
    try:
        return models.load(regular_file(Path(path), "model file"))[1]  # size and kind checked first
    except (HarnessError, OSError):
        return None


def _is_float(info: models.ModelInfo | None) -> bool:
    """A model with no integer input or output (the device side cannot run it as it is)."""
    if info is None:
        return False
    try:
        models.require_int8(info)
    except ModelError:
        return True
    return False


def _twin(path: str, info: models.ModelInfo | None) -> tuple[str | None, str]:
    """The float twin beside `path` by the name rule, and a note; (None, why) when the file named like
    one is not a float model of the same IO shapes (then the model runs without a twin)."""
    found = next((str(c) for c in twin_candidates(Path(path)) if c.is_file() and str(c) != path), None)
    if found is None or info is None:
        return None, ""
    twin = _info(found)
    if not _is_float(twin):
        return None, ""
    try:
        models.check_twin(info, twin)
    except ModelError as e:
        return None, f"{Path(path).name}: {Path(found).name} is named like its float twin but is not one ({e}); benched without"
    return found, f"{Path(path).name}: float twin {Path(found).name} (found by name; --float PATH to choose another)"


def pair(paths: list[str], float_path: str | None) -> tuple[list[ModelEntry], list[str], list[str]]:
    """The entries to bench for MODELS= / --models paths, each with its float twin when there is one;
    notes for the user: the twins found by name, and warnings (float models skipped, a file named
    like a twin that is not one)."""
    paths = [os.path.abspath(p) for p in paths]
    if float_path is not None:
        if len(paths) != 1:
            raise ConfigError(f"--float {float_path}: names the twin of one model; give exactly one model with "
                              f"--models (or MODELS=), not {len(paths)}")
        return [ModelEntry(path=paths[0], float=os.path.abspath(float_path))], [], []
    infos = {p: _info(p) for p in paths}
    floats = {p for p in paths if _is_float(infos[p])}
    if floats and len(floats) == len(paths):
        return [ModelEntry(path=p) for p in paths], [], []  # nothing to run: prepare() says why
    entries, found, warnings, used = [], [], [], set()
    for p in paths:
        if p in floats:
            continue
        twin, note = _twin(p, infos[p])
        used.add(twin)
        (found if twin else warnings).extend([note] if note else [])
        entries.append(ModelEntry(path=p, float=twin))
    warnings += [f"{p}: skipped, a float model with no int8 model named like it in the list "
                 "(bench its int8 model; this one is found as its twin by name)" for p in sorted(floats - used)]
    return entries, found, warnings
