"""Per-layer tensors kept in the run directory so a replay works after the fact:
layers/<model>.tensors.npz holds the model bytes, each sample's input rows and every tensor the
target gave back (those found overwritten in place already dropped by the per-layer pass), and
layers/<model>.attribution.json the per-op verdicts the report shows."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ...errors import ResultsError
from ...results.files import read_json, read_npz, write_json, write_npz
from ...results.rundir import RunDir
from .explain import explain_model
from .graph import model_inputs, read_ops


class Recorder:
    """Wraps a driver's tensors(): the same dicts are returned (the per-layer pass may drop
    overwritten ones from them) and kept, with the rows they came from."""

    def __init__(self, tensors: Callable[[Sequence[np.ndarray]], dict]) -> None:
        self._tensors = tensors
        self.samples: list[tuple[list[np.ndarray], dict]] = []

    def __call__(self, rows: Sequence[np.ndarray]) -> dict:
        dev = self._tensors(rows)
        self.samples.append(([np.asarray(r) for r in rows], dev))
        return dev


def tensors_path(rd: RunDir, name: str) -> Path:
    return rd.file("layers", f"{name}.tensors.npz")


def attribution_path(rd: RunDir, name: str) -> Path:
    return rd.file("layers", f"{name}.attribution.json")


def save(rd: RunDir, name: str, model: bytes, rec: Recorder) -> None:
    """The model and, per sample, its input rows and every op output the target gave back
    (constants are in the model; tensors the per-layer pass dropped as overwritten stay out)."""
    arrays = {"model": np.frombuffer(model, np.uint8)}
    outputs = {t.index for op in read_ops(model, name) for t in op.outputs}
    for k, (rows, dev) in enumerate(rec.samples):
        arrays.update({f"s{k}_in{i}": r for i, r in enumerate(rows)})
        arrays.update({f"s{k}_t{t}": np.asarray(v) for t, v in dev.items() if t in outputs})
    write_npz(tensors_path(rd, name), arrays)


def load(rd: RunDir, name: str) -> tuple[bytes, list[dict]]:
    """The model bytes and one {tensor index: array} per sample (model inputs included)."""
    path = tensors_path(rd, name)
    if not path.exists():
        raise ResultsError(f"{path}: no stored per-layer tensors for model {name!r}; "
                           "run the bench with --per-layer to keep them")
    z = read_npz(path)
    model = z["model"].tobytes()
    inputs = model_inputs(model, name)
    samples: dict[int, dict] = {}
    for key, arr in z.items():
        if key == "model":
            continue
        k, _, rest = key[1:].partition("_")
        s = samples.setdefault(int(k), {})
        if rest.startswith("in"):
            s[inputs[int(rest[2:])]] = arr.reshape(-1)
        else:
            s[int(rest[1:])] = arr
    return model, [samples[k] for k in sorted(samples)]


def attribute(rd: RunDir, name: str, only: Sequence[int] | None = None) -> dict:
    """Replay the stored tensors, write layers/<model>.attribution.json, return it."""
    model, samples = load(rd, name)
    rows = explain_model(model, samples, name, only)
    result = {"model": name, "samples": len(samples), "ops": rows}
    if only is None:
        write_json(attribution_path(rd, name), result)
    return result


def read(rd: RunDir, name: str) -> dict | None:
    path = attribution_path(rd, name)
    return read_json(path) if path.exists() else None
