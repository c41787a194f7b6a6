"""One bench run: check everything, open the target, measure every model in journaled batches,
compute host references, analyse, report. A killed run continues with --resume and loses nothing;
one process at a time per run directory (run.lock); every way out but SIGKILL leaves run.json with
`status: complete` or `failed: <reason>`. Memory is bounded by a batch or a chunk of inputs, not by runs."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path

from .. import __version__
from ..analysis import analyse as analysis
from ..core.config import BenchConfig, TargetConfig, load_bench
from ..drivers import check_options, driver_class, load_checked
from ..drivers.base import Driver, TargetInfo, Watcher
from ..errors import ConfigError, HarnessError, RegressionFailed, ResultsError
from ..report import run_report as report
from ..results.files import read_json, read_npz, write_json, write_npz, write_npz_streamed
from ..results.rundir import RunDir, new_run_id
from ..runtimes.output import worker_log
from ..ui import UI, RunProgress
from . import record as run_record, references, twins
from .inputs import InputSet
from .jobs import ModelJob, prepare_all
from .lock import RunLock
from .record import Request

__all__ = ["Request", "start", "resume"]
FIGURE_SAMPLES = 1000


def _preflight(req: Request, target: TargetConfig, jobs: list[ModelJob]) -> None:
    """The target's files and the baseline, checked before anything runs."""
    driver_class(target.kind)(target).preflight()
    if req.baseline:
        from ..analysis.regression import preflight

        preflight(Path(req.baseline), target.kind, {j.name: (j.info.sha256, j.inputs.source) for j in jobs},
                  req.allow_other_target)


def start(req: Request, ui: UI) -> Path:
    """Check the request, the files and the baseline, then make the run directory and run."""
    req = run_record.check_request(dataclasses.replace(req, models=tuple(os.path.abspath(m) for m in req.models),
                                                       float=req.float and os.path.abspath(req.float)))
    tcfg, cfg = load_checked(req.target), load_bench(req.config)
    jobs = _jobs(req, cfg, ui)
    _preflight(req, tcfg, jobs)
    rd = RunDir(Path(req.results) / tcfg.name / new_run_id()).create()
    lock = RunLock(rd)
    lock.acquire()
    meta = {"run_id": rd.path.name, "status": "running", "harness": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "request": dataclasses.asdict(req),
            "config": dataclasses.asdict(cfg), "target_config": dataclasses.asdict(tcfg),
            "plan": run_record.record(tcfg, cfg, jobs)}
    ui.say(f"run directory: {rd.path}")
    return _run(rd, lock, meta, req, tcfg, cfg, jobs, ui)


def resume(run_dir: str, ui: UI) -> Path:
    """Continue a run with the settings and files it started with, or refuse saying what changed."""
    rd = RunDir(Path(run_dir))
    if not rd.file("run.json").is_file():
        raise ResultsError(f"{rd.path}: no run.json; is this a run directory (results/<target>/<run-id>)?")
    lock = RunLock(rd)
    note = lock.acquire()
    try:
        meta = read_json(rd.file("run.json"))
        req, tcfg, cfg = run_record.recorded(meta, rd.file("run.json"))
        check_options(tcfg)
        run_record.check_files(meta, rd.file("run.json"))
        jobs = _jobs(req, cfg, ui)
        run_record.check_plan(meta, jobs, rd.file("run.json"))
        _preflight(req, tcfg, jobs)
    except BaseException:
        lock.release()
        raise
    if note:
        ui.warn(f"{rd.path}: {note}")
    ui.say(f"resuming {rd.path}")
    return _run(rd, lock, meta, req, tcfg, cfg, jobs, ui)


def _jobs(req: Request, cfg: BenchConfig, ui: UI) -> list[ModelJob]:
    """The jobs of the config, or of MODELS= with their float twins (--float, or by name: run/twins.py)."""
    if not req.models:
        if req.float:
            raise ConfigError(f"--float {req.float}: give the one model it is the twin of with --models (or MODELS=)")
        return prepare_all(cfg, [], req.runs)
    entries, found, skipped = twins.pair(list(req.models), req.float)
    for note in found:
        ui.say(note)
    for note in skipped:
        ui.warn(note)
    return prepare_all(cfg, entries, req.runs)


def _run(rd: RunDir, lock: RunLock, meta: dict, req: Request, tcfg: TargetConfig, cfg: BenchConfig,
         jobs: list[ModelJob], ui: UI) -> Path:
    meta["status"] = "running"
    try:
        write_json(rd.file("run.json"), meta)
        with ui.run_progress(len(jobs)) as progress, worker_log(rd.file("interpreters.log")):
            _measure_all(rd, meta, req, tcfg, cfg, jobs, ui, progress)
            for i, job in enumerate(jobs, 1):
                progress.model(i, job.name, len(job.inputs), phase="references")
                meta["models"][job.name]["unavailable_references"] = _references(job, rd, cfg, ui, progress)
            write_json(rd.file("run.json"), meta)
            progress.model(0, "analysis and report", 0)
            analysis.analyse_run(rd)
            try:
                report.write_all(rd, req.baseline)
            finally:  # a regression (exit 1) is a complete run
                meta["status"] = "complete"
                write_json(rd.file("run.json"), meta)
    except BaseException as e:
        e.run_dir = rd.path  # the CLI summarises what the run measured (a regression, a failure)
        if not isinstance(e, RegressionFailed):
            meta["status"] = f"failed: {run_record.failure_reason(e)}"
            with contextlib.suppress(HarnessError, OSError):
                write_json(rd.file("run.json"), meta)
        raise
    finally:
        lock.release()
    return rd.path


def _measure_all(rd: RunDir, meta: dict, req: Request, tcfg: TargetConfig, cfg: BenchConfig,
                 jobs: list[ModelJob], ui: UI, progress: RunProgress) -> None:
    driver = driver_class(tcfg.kind, f"{tcfg.path}: ")(tcfg)
    driver.watcher = progress
    with driver:
        progress.model(0, f"opening {tcfg.name}", 0, phase="connect")
        info = driver.open()
        meta["target"] = dataclasses.asdict(info)
        write_json(rd.file("run.json"), meta)
        for i, job in enumerate(jobs, 1):
            if rd.has_event("model-done", job.name) and job.name in meta.get("models", {}):
                continue  # finished before a --resume
            progress.model(i, job.name, len(job.inputs), rd.done_batches(job.name).rows(), phase="load")
            meta.setdefault("models", {})[job.name] = _measure(driver, info, job, rd, cfg, ui, progress)
            write_json(rd.file("run.json"), meta)
            if req.per_layer and not rd.has_event("layers-done", job.name):
                _per_layer(driver, job, rd, req.per_layer, ui)


def _measure(driver: Driver, info: TargetInfo, job: ModelJob, rd: RunDir, cfg: BenchConfig, ui: UI,
             progress: RunProgress) -> dict:
    """Load the model, warm up, run the missing batches; merge the parts into outputs/<model>.npz."""
    load = driver.load(job.data, job.name)
    for note in job.notes + load.notes:
        ui.warn(f"{job.name}: {note}")
    n = len(job.inputs)
    done = rd.done_batches(job.name)
    if done.rows() < n and cfg.warmup:
        progress.phase("warm-up")
        driver.watcher = Watcher()  # warm-up inferences are not the run's
        try:
            for _ in range(cfg.warmup):
                driver.run(job.inputs.take(0, 1))
        finally:
            driver.watcher = progress
    progress.phase("run")
    for start in range(0, n, cfg.batch):
        stop = min(n, start + cfg.batch)
        if done.covers(start, stop):
            continue
        res = driver.run(job.inputs.take(start, stop))
        arrays = {f"outputs_{i}": o for i, o in enumerate(res.outputs)}
        arrays["ticks"] = res.ticks
        if res.op_ticks is not None:
            arrays["op_ticks"] = res.op_ticks
        arrays.update(res.extra)
        write_npz(rd.part(job.name, start), arrays)
        rd.journal({"event": "batch", "model": job.name, "start": start, "stop": stop, "retries": res.retries})
    _merge(job, info, rd, cfg.batch)
    # Figures a target measures its own way (eembc: one sample per performance window) take the first
    # samples, never the whole set: memory does not grow with runs.
    figures = driver.figures(job.inputs.take(0, min(len(job.inputs), FIGURE_SAMPLES)))
    return {"path": job.info.path, "sha256": job.info.sha256, "size": job.info.size, "ops": list(job.info.ops),
            "inputs": [dataclasses.asdict(t) for t in job.info.inputs],
            "outputs": [dataclasses.asdict(t) for t in job.info.outputs],
            "float": None if job.twin is None else {"path": job.twin[1].path, "sha256": job.twin[1].sha256},
            "input_source": job.inputs.source, "classification": job.classification,
            "load": {"time_s": load.load_time_s, "notes": list(job.notes + load.notes), **load.facts},
            "memory": {"model_bytes": job.info.size, **driver.memory()}, **figures}


def _per_layer(driver: Driver, job: ModelJob, rd: RunDir, n: int, ui: UI) -> None:
    """Intermediate tensors of the first n samples on the device vs the TFLM oracle and float twin."""
    from ..analysis import per_layer as layers
    from ..analysis.attribution import store
    from ..core.tensors import dequantize

    samples = [job.inputs.take(s, s + 1) for s in range(min(n, len(job.inputs)))]
    float_rows = None
    if job.twin is not None:
        float_rows = [[dequantize(a, spec) for a, spec in zip(smp, job.info.inputs)] for smp in samples]
    ui.say(f"{job.name}: per-layer tensors for {len(samples)} samples")
    rec = store.Recorder(driver.tensors)  # keeps the tensors for the op replay (harness explain)
    rows = layers.localise(rec, job.data, job.twin[0] if job.twin else None, samples, float_rows,
                           job.info.path)
    write_json(rd.file("layers", f"{job.name}.json"), rows)
    store.save(rd, job.name, job.data, rec)
    store.attribute(rd, job.name)
    rd.journal({"event": "layers-done", "model": job.name})


def _part_column(paths: list[Path], key: str, convert=None):
    """Pieces of one key over several part files, read one file at a time."""
    def pieces():
        for p in paths:
            a = read_npz(p)[key]
            yield a if convert is None else convert(a)
    return pieces


def _merge(job: ModelJob, info: TargetInfo, rd: RunDir, batch: int) -> None:
    """outputs/<model>.npz from the inputs and the batch parts, streamed: memory is one batch."""
    n = len(job.inputs)
    parts = [rd.part(job.name, s) for s in range(0, n, batch)]
    missing = next((p for p in parts if not p.is_file()), None)
    if missing is not None:
        raise ResultsError(f"{missing}: batch part missing after the run; resume with --resume")
    chunks = list(job.inputs.chunks())
    columns = [(f"inputs_{i}", n, lambda i=i: (job.inputs.take(a, b)[i] for a, b in chunks))
               for i in range(len(job.info.inputs))]
    columns += [(key, n, _part_column(parts, key)) for key in read_npz(parts[0])]
    columns.append(("times_ns", n, _part_column(parts, "ticks", info.ticks_to_ns)))
    if job.inputs.labels is not None:
        columns.append(("labels", n, lambda: iter([job.inputs.labels])))
    write_npz_streamed(rd.file("outputs", f"{job.name}.npz"), columns)
    retries = sum(e.get("retries", 0) for e in rd.events("batch", job.name) if isinstance(e.get("retries"), int))
    rd.journal({"event": "model-done", "model": job.name, "retries": retries})


def _references(job: ModelJob, rd: RunDir, cfg: BenchConfig, ui: UI, progress: RunProgress) -> dict[str, str]:
    """Host references chunk by chunk of inputs (one journaled part each), merged into refs/<model>.npz;
    returns {reference: why it is unavailable} (recalled from the journal on --resume)."""
    done_ev = list(rd.events("refs-done", job.name))
    if done_ev:
        return done_ev[-1].get("unavailable", {})
    done = {e.get("start"): e.get("unavailable") or {} for e in rd.events("refs-chunk", job.name)}
    unavailable: dict[str, str] = {}
    parts = []
    for start, stop in job.inputs.chunks():
        part = rd.file("parts", job.name, f"refs-{start:08d}.npz")
        parts.append(part)
        if start in done and part.is_file():
            chunk_unavailable = done[start]
        else:
            chunk = InputSet(job.inputs.take(start, stop), None, job.inputs.source)
            refs, chunk_unavailable = references.compute(cfg.references, job.data, job.info, chunk, job.twin,
                                                         lambda _name: None)
            write_npz(part, {f"{name}_{i}": o for name, outs in refs.items() for i, o in enumerate(outs)})
            rd.journal({"event": "refs-chunk", "model": job.name, "start": start, "stop": stop,
                        "unavailable": chunk_unavailable})
        for name, why in chunk_unavailable.items():
            if name not in unavailable:
                ui.warn(f"{job.name}: reference {name} unavailable: {why}")
            unavailable.setdefault(name, why)
        progress.inferences(stop - start)
    keys = set(read_npz(parts[0]))
    for p in parts[1:]:
        keys &= set(read_npz(p))  # a reference missing from one chunk is missing from the merge
    keys = {k for k in keys if k.rsplit("_", 1)[0] not in unavailable}
    write_npz_streamed(rd.file("refs", f"{job.name}.npz"),
                       [(k, len(job.inputs), _part_column(parts, k)) for k in sorted(keys)])
    rd.journal({"event": "refs-done", "model": job.name, "unavailable": unavailable})
    return unavailable
