"""`harness explain RUN_DIR [--model M] [--op N]`: the op replay on a stored per-layer run."""

from __future__ import annotations

from pathlib import Path

from ..analysis.attribution import store
from ..analysis.attribution.graph import read_ops
from ..errors import ResultsError
from ..results.files import read_json
from ..results.rundir import RunDir
from . import attribution as section
from .document import Doc


def _models(rd: RunDir, model: str | None) -> list[str]:
    names = list(read_json(rd.file("run.json")).get("models", {}))
    kept = [n for n in names if store.tensors_path(rd, n).exists()]
    if model is not None:
        if model not in names:
            raise ResultsError(f"{rd.path}: no model {model!r} in this run (models: {', '.join(names) or 'none'})")
        return [model]
    if not kept:
        raise ResultsError(f"{rd.path}: no per-layer tensors stored; run the bench with --per-layer "
                           "(e.g. harness bench --per-layer 3) to keep them")
    return kept


def explain(run_dir: str, model: str | None = None, op: int | None = None) -> str:
    """The attribution as Markdown; with no --op it is also written for the report."""
    rd = RunDir(Path(run_dir))
    doc = Doc()
    for name in _models(rd, model):
        if op is not None:
            count = len(read_ops(store.load(rd, name)[0], name))
            if not 0 <= op < count:
                raise ResultsError(f"{rd.path}: model {name!r} has no op {op} (ops 0..{count - 1})")
        result = store.attribute(rd, name, None if op is None else [op])
        doc.h(2, f"Model {name}")
        section.build(doc, result, run_dir)
    return doc.markdown()
