"""Input sets in the MLPerf Tiny runner's dataset layout (benchmark/runner/datasets.py): a folder
with one `.bin` file per sample and `y_labels.csv`, rows `file,num_classes,label` without a
header (ad01 adds `bytes_to_send,stride`). The runner picks the folder by model id
(datasets/kws01/, …); the id says how a file's bytes encode the input (eembc_values: int8
for kws01, uint8 pixels for ic01/vww01, float32 for ad01); another folder name means int8, or
float32 when the files are four bytes per value.

File names are data: a plain name inside the folder, never a path.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Sequence

import numpy as np

from ..core.tensors import TensorSpec
from ..drivers.eembc import values as ev
from ..errors import InputError

LABELS = "y_labels.csv"


def _rows(folder: Path) -> list[tuple[str, int, int]]:
    """(file, num_classes, label) per line of y_labels.csv, checked."""
    path = folder / LABELS
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{folder}: no {LABELS}; a dataset folder in the MLPerf Tiny runner's layout holds one "
                         f".bin per sample and {LABELS} (file,num_classes,label)") from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: unreadable ({e})") from None
    rows = []
    for i, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or not "".join(row).strip():
            continue
        if len(row) < 3:
            raise InputError(f"{path} line {i}: {len(row)} fields; expected file,num_classes,label")
        name, classes, label = (x.strip() for x in row[:3])
        if not (classes.isdigit() and label.isdigit()):
            raise InputError(f"{path} line {i}: num_classes {classes!r} and label {label!r} must be whole numbers")
        if Path(name).name != name or name in ("", ".", "..") or "\\" in name:
            raise InputError(f"{path} line {i}: {name!r} is not a plain file name in {folder}")
        if int(label) >= int(classes):
            raise InputError(f"{path} line {i}: label {label} is not below num_classes {classes}")
        rows.append((name, int(classes), int(label)))
    if not rows:
        raise InputError(f"{path}: no samples listed")
    return rows


def _encoding(folder: Path, spec: TensorSpec, size: int) -> str:
    if folder.name in ev.MODELS:
        return ev.MODELS[folder.name].encoding
    return "float32" if size == 4 * int(np.prod(spec.shape)) else "int8"


def runner_inputs(folder: Path, specs: Sequence[TensorSpec], n: int | None):
    """An InputSet (inputs.py) of the first n samples listed in y_labels.csv, with their labels."""
    from .inputs import InputSet

    if len(specs) != 1:
        raise InputError(f"{folder}: the runner's layout holds one input per sample; the model has {len(specs)}")
    spec = specs[0]
    rows = _rows(folder)[:n] if n else _rows(folder)
    enc, samples = None, []
    for name, _, _ in rows:
        path = folder / name
        try:
            raw = path.read_bytes()
        except OSError as e:
            raise InputError(f"{path}: listed in {LABELS} but unreadable ({e.strerror})") from None
        enc = enc or _encoding(folder, spec, len(raw))
        want = ev.encoded_bytes(spec, enc)
        if len(raw) != want:
            raise InputError(f"{path}: {len(raw)} bytes; the model's input {list(spec.shape)} as {enc} takes {want} "
                             "(ad01 files with several segments are not supported)")
        samples.append(ev.decode_input(raw, spec, enc).reshape(spec.sample_shape))
    labels = np.array([r[2] for r in rows], np.int64)
    return InputSet([np.stack(samples)], labels, f"{folder} (MLPerf Tiny runner layout, {enc})")
