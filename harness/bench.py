"""One bench run: open the target, measure every model in journaled batches, compute host
references, analyse, report. A killed run continues with --resume and loses nothing."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import __version__, analysis, references, report
from .config import BenchConfig, load_bench, load_target
from .drivers import driver_class
from .drivers.base import Driver, TargetInfo
from .errors import HarnessError
from .jobs import ModelJob, entries, prepare
from .results import RunDir, new_run_id, read_json, read_npz, write_json, write_npz
from .ui import UI


@dataclass(frozen=True)
class Request:
    """What the user asked for; stored in run.json so --resume repeats it exactly."""

    target: str = "host"
    config: str = "default"
    models: tuple[str, ...] = ()
    runs: int | None = None
    results: str = "results"
    baseline: str | None = None
    per_layer: int = 0  # samples for per-layer localisation (0: off)


def start(req: Request, ui: UI) -> Path:
    tcfg, cfg = load_target(req.target), load_bench(req.config)
    rd = RunDir(Path(req.results) / tcfg.name / new_run_id()).create()
    write_json(rd.file("run.json"), {"run_id": rd.path.name, "status": "running", "harness": __version__,
                                     "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                     "request": dataclasses.asdict(req), "config": dataclasses.asdict(cfg),
                                     "target_config": dataclasses.asdict(tcfg)})
    ui.say(f"run directory: {rd.path}")
    return _run(rd, req, ui)


def resume(run_dir: str, ui: UI) -> Path:
    rd = RunDir(Path(run_dir))
    meta = read_json(rd.file("run.json"))
    req = Request(**{**meta["request"], "models": tuple(meta["request"]["models"])})
    ui.say(f"resuming {rd.path}")
    return _run(rd, req, ui)


def _run(rd: RunDir, req: Request, ui: UI) -> Path:
    tcfg, cfg = load_target(req.target), load_bench(req.config)
    taken: set[str] = set()
    jobs = [prepare(cfg, e, req.runs or e.runs or cfg.runs, taken) for e in entries(cfg, list(req.models))]
    meta = read_json(rd.file("run.json"))
    driver = driver_class(tcfg.kind, f"{tcfg.path}: ")(tcfg)
    try:
        with driver:
            info = driver.open()
            meta["target"] = dataclasses.asdict(info)
            write_json(rd.file("run.json"), meta)
            for job in jobs:
                if rd.has_event("model-done", job.name) and job.name in meta.get("models", {}):
                    continue  # finished before a --resume
                meta.setdefault("models", {})[job.name] = _measure(driver, info, job, rd, cfg, ui)
                write_json(rd.file("run.json"), meta)
                if req.per_layer and not rd.has_event("layers-done", job.name):
                    _per_layer(driver, job, rd, req.per_layer, ui)
    except HarnessError as e:
        meta["status"] = f"failed: {e}"
        write_json(rd.file("run.json"), meta)
        raise
    for job in jobs:
        meta["models"][job.name]["unavailable_references"] = _references(job, rd, cfg, ui)
    meta["status"] = "complete"
    write_json(rd.file("run.json"), meta)
    analysis.analyse_run(rd)
    report.write_all(rd, req.baseline)
    return rd.path


def _measure(driver: Driver, info: TargetInfo, job: ModelJob, rd: RunDir, cfg: BenchConfig, ui: UI) -> dict:
    """Load the model, warm up, run the missing batches; merge the parts into outputs/<model>.npz."""
    load = driver.load(job.data, job.name)
    for note in job.notes + load.notes:
        ui.warn(f"{job.name}: {note}")
    n = len(job.inputs)
    done = rd.done_batches(job.name)
    if len(done) < -(-n // cfg.batch) and cfg.warmup:
        for _ in range(cfg.warmup):
            driver.run(job.inputs.take(0, 1))
    with ui.progress(f"{job.name} on {info.name}", n) as bar:
        bar.advance(sum(stop - start for start, stop in done.items()))
        for start in range(0, n, cfg.batch):
            if start in done:
                continue
            stop = min(n, start + cfg.batch)
            res = driver.run(job.inputs.take(start, stop))
            arrays = {f"outputs_{i}": o for i, o in enumerate(res.outputs)}
            arrays["ticks"] = res.ticks
            if res.op_ticks is not None:
                arrays["op_ticks"] = res.op_ticks
            write_npz(rd.part(job.name, start), arrays)
            rd.journal({"event": "batch", "model": job.name, "start": start, "stop": stop, "retries": res.retries})
            bar.advance(stop - start)
    _merge(job, info, rd)
    return {"path": job.info.path, "sha256": job.info.sha256, "size": job.info.size, "ops": list(job.info.ops),
            "inputs": [dataclasses.asdict(t) for t in job.info.inputs],
            "outputs": [dataclasses.asdict(t) for t in job.info.outputs],
            "float": None if job.twin is None else {"path": job.twin[1].path, "sha256": job.twin[1].sha256},
            "input_source": job.inputs.source, "classification": job.classification,
            "load": {"time_s": load.load_time_s, "notes": list(job.notes + load.notes), **load.facts}}


def _per_layer(driver: Driver, job: ModelJob, rd: RunDir, n: int, ui: UI) -> None:
    """Intermediate tensors of the first n samples on the device vs the TFLM oracle and float twin."""
    from . import layers
    from .inputs import dequantize

    samples = [job.inputs.take(s, s + 1) for s in range(min(n, len(job.inputs)))]
    float_rows = None
    if job.twin is not None:
        float_rows = [[dequantize(a, spec) for a, spec in zip(smp, job.info.inputs)] for smp in samples]
    ui.say(f"{job.name}: per-layer tensors for {len(samples)} samples")
    rows = layers.localise(driver.tensors, job.data, job.twin[0] if job.twin else None, samples, float_rows,
                           job.info.path)
    write_json(rd.file("layers", f"{job.name}.json"), rows)
    rd.journal({"event": "layers-done", "model": job.name})


def _merge(job: ModelJob, info: TargetInfo, rd: RunDir) -> None:
    parts = [read_npz(rd.part(job.name, s)) for s in sorted(rd.done_batches(job.name))]
    arrays = {f"inputs_{i}": a for i, a in enumerate(job.inputs.arrays)}
    for key in parts[0]:
        arrays[key] = np.concatenate([p[key] for p in parts])
    arrays["times_ns"] = info.ticks_to_ns(arrays["ticks"])
    if job.inputs.labels is not None:
        arrays["labels"] = job.inputs.labels
    write_npz(rd.file("outputs", f"{job.name}.npz"), arrays)
    retries = sum(e.get("retries", 0) for e in rd.events() if e.get("model") == job.name)
    rd.journal({"event": "model-done", "model": job.name, "retries": retries})


def _references(job: ModelJob, rd: RunDir, cfg: BenchConfig, ui: UI) -> dict[str, str]:
    """Compute (or, on --resume, recall) the host references; returns {reference: why unavailable}."""
    done = [e for e in rd.events() if e.get("event") == "refs-done" and e.get("model") == job.name]
    if done:
        return done[-1].get("unavailable", {})
    with ui.progress(f"{job.name}: host references", len(cfg.references)) as bar:
        refs, unavailable = references.compute(cfg.references, job.data, job.info, job.inputs, job.twin,
                                               lambda _name: bar.advance())
    for name, why in unavailable.items():
        ui.warn(f"{job.name}: reference {name} unavailable: {why}")
    arrays = {f"{name}_{i}": o for name, outs in refs.items() for i, o in enumerate(outs)}
    write_npz(rd.file("refs", f"{job.name}.npz"), arrays)
    rd.journal({"event": "refs-done", "model": job.name, "unavailable": unavailable})
    return unavailable
