"""`harness sweep`: the weight-bit study run on a target — every k-bit model is a model of one bench run."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import yaml

from ..core import model as models
from ..errors import ModelError, UnsupportedModel
from ..report import glossary, plots
from ..report.calibration_section import CAL_ROWS
from ..report.document import Doc
from ..report.labels import SUMMARY_EXACT_COLUMNS, glossary_link
from ..results.files import read_json, write_atomic, write_json
from ..results.rundir import RunDir, new_run_id
from ..runtimes.runner import probe_model
from ..ui import UI
from . import bench
from .sweep_weights import rewrite_weights

GLOSSARY = ("calibration", "sweep")  # the glossary entries of sweep.md/html

# the calibration figures per k, labelled as in a run report (and defined in its glossary)
COLUMNS = tuple((k, dict(CAL_ROWS)[k]) for k in ("error_float_pct", "error_device_pct", "delta_error_pct",
                                                 "swapped_pct", "swaps_per_abs_delta_error", "ece_float", "ece_device"))


def _write_models(model: Path, bits: Sequence[int], out: Path) -> list[tuple[int, Path]]:
    data, info = models.load(model)
    models.require_int8(info)
    if info.ops[-1:] != ("SOFTMAX",):
        raise UnsupportedModel(f"{model}: the sweep reports classification metrics, but the last op is "
                               f"{info.ops[-1] if info.ops else 'missing'}, not SOFTMAX")
    written = []
    for k in bits:
        new, _ = rewrite_weights(data, k, str(model))
        path = out / f"{info.name}_w{k}.tflite"
        write_atomic(path, new)
        probe_model(new, str(path))  # the host TFLM oracle must accept every rewritten model
        written.append((k, path))
    return written


def run(model: str, float_model: str, bits: Sequence[int], target: str, dataset: str | None,
        runs: int | None, results: str, ui: UI) -> Path:
    """Rewrite, run every k on the target with host references, and write sweep.md/json."""
    if not Path(float_model).exists():
        raise ModelError(f"{float_model}: float model not found (--float)")
    work = Path(results) / "sweeps" / new_run_id()
    written = _write_models(Path(model), bits, work / "models")
    entries = [{"path": str(p.resolve()), "float": str(Path(float_model).resolve()), "name": f"w{k}",
                **({"dataset": str(Path(dataset).resolve())} if dataset else {})} for k, p in written]
    cfg = {"description": f"weight-bit sweep of {model}", "runs": runs or 200, "batch": 50,
           "references": ["tflm", "float"], "models": entries}
    cfg_path = work / "sweep.yaml"
    write_atomic(cfg_path, yaml.safe_dump(cfg).encode())
    run_dir = bench.start(bench.Request(target=target, config=str(cfg_path), results=results), ui)
    table = _table(RunDir(run_dir))
    write_json(run_dir / "sweep.json", table)
    write_atomic(run_dir / "sweep.md", render(table).markdown().encode())
    cal = {n: m.get("calibration", {}) for n, m in read_json(run_dir / "metrics.json").items()}
    png = plots.sweep_curves(table, cal, f"weight-bit sweep of {Path(model).name} on {target}")
    write_atomic(run_dir / "sweep.html", render(table, png).html("weight-bit sweep").encode())
    return run_dir


def _table(rd: RunDir) -> dict:
    mets = read_json(rd.file("metrics.json"))
    rows = {}
    for name, m in mets.items():
        cal = m.get("calibration", {})
        row = {k: cal.get(k) for k, _ in COLUMNS}
        row["exact_vs_tflm_pct"] = m["tensors"]["outputs_0"]["vs"].get("tflm", {}).get("exact_pct")
        rows[name] = row
    return rows


def render(table: dict, png: bytes | None = None) -> Doc:
    """The sweep's table, its plot (HTML) and the glossary of its figures."""
    doc = Doc()
    for anchor in GLOSSARY:
        doc.anchor(anchor)
    doc.h(2, "Weight-bit sweep (weights k bits per-channel symmetric, activations 8 bits)")
    doc.p(f"Calibration figures of the device per weight-bit count ({glossary_link('sweep')}).")
    doc.table(["bits"] + [label for _, label in COLUMNS] + [SUMMARY_EXACT_COLUMNS[0][1]],
              [[name[1:]] + [row[k] for k, _ in COLUMNS] + [row["exact_vs_tflm_pct"]] for name, row in table.items()])
    if png is not None:
        doc.p("Right: the device's reliability per weight-bit count, accuracy against confidence per bin with the "
              f"bins' sample counts underneath; hollow markers are bins of fewer than {plots.FEW} samples: read "
              "them with care.")
        doc.img(png, "sweep")
    glossary.section(doc, GLOSSARY)
    return doc
