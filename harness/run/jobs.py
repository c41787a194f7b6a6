"""Turn a bench config (or MODELS=) into model jobs: bytes, inspection, twin, inputs — every check
made here, before anything runs. Each job records the sha256 of the files it read, so --resume
can refuse when one changed."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..core import model as models
from ..core.config import BenchConfig, ModelEntry, resolve
from ..core.schema import safe_name
from ..core.model import ModelInfo
from ..errors import ConfigError, InputError, ModelError
from . import inputs as inp

MAX_FILE_BYTES = 2 << 30  # a model or dataset file larger than this is refused before it is read
MAX_BATCH_BYTES = 256 << 20  # inputs + outputs of one journaled batch, held in memory while it runs


@dataclass
class ModelJob:
    """Everything needed to measure one model."""

    name: str
    data: bytes
    info: ModelInfo
    twin: tuple[bytes, ModelInfo] | None
    inputs: inp.InputSet
    classification: bool
    notes: tuple[str, ...] = ()
    files: list[dict] = field(default_factory=list)  # [{"role", "path", "sha256"}] of every file read

    def plan(self) -> dict:
        """The settings this job runs with, as recorded in run.json for --resume."""
        return {"name": self.name, "runs": len(self.inputs), "inputs": self.inputs.source, "files": self.files}


def entries(cfg: BenchConfig, override: list[str] | list[ModelEntry]) -> list[ModelEntry]:
    """The config's models, or the MODELS= paths (relative to the current folder) or entries (run/twins.py)."""
    if override:
        return [p if isinstance(p, ModelEntry) else ModelEntry(path=os.path.abspath(p)) for p in override]
    if not cfg.models:
        raise ConfigError(f"{cfg.path}: no models listed; add `models:` or pass MODELS='a.tflite …'")
    return list(cfg.models)


def regular_file(path: Path, what: str, error: type = ModelError) -> Path:
    """`path` if it is a readable regular file of sane size; a one-line error naming it otherwise."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found (check the path in the config or MODELS=)") from None
    except OSError as e:
        raise error(f"{path}: {what} cannot be read ({e.strerror})") from None
    if path.is_dir():
        raise error(f"{path}: is a directory, expected a {what}")
    if not path.is_file():
        raise error(f"{path}: not a regular file (a device, pipe or socket); expected a {what}")
    if st.st_size > MAX_FILE_BYTES:
        raise error(f"{path}: {st.st_size} bytes; a {what} of more than {MAX_FILE_BYTES} bytes is refused")
    return path


def _hash_file(h, path: Path) -> None:
    with open(path, "rb") as f:
        while piece := f.read(1 << 20):
            h.update(piece)


def file_sha256(path: Path) -> str | None:
    """sha256 of a file read in pieces, or of a folder's files by name and content (a dataset in the
    MLPerf Tiny runner's layout); None when it cannot be read."""
    h, path = hashlib.sha256(), Path(path)
    try:
        if not path.is_dir():
            _hash_file(h, path)
        for file in sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else []:
            h.update(file.name.encode(errors="surrogateescape") + b"\0")
            _hash_file(h, file)
    except OSError:
        return None
    return h.hexdigest()


def _classes(info: ModelInfo) -> int:
    """Number of classes if the first output is one score vector per sample, else 0."""
    shape = [d for d in info.outputs[0].shape if d != 1]
    return shape[0] if len(shape) == 1 and shape[0] >= 2 else 0


def _is_classifier(info: ModelInfo, entry: ModelEntry) -> tuple[bool, str]:
    """(classification?, why not when the config asked for it)."""
    classes = _classes(info)
    if entry.classification and not classes:
        return False, (f"classification/calibration does not apply: output {info.outputs[0].shape} is not one "
                       "score vector per sample; those sections are skipped")
    if entry.classification is not None:
        return entry.classification, ""
    return bool(classes) and info.ops[-1:] == ("SOFTMAX",), ""


def _check_labels(labels, classes: int, where: str) -> None:
    if labels is None or not classes:
        return
    bad = (labels < 0) | (labels >= classes)
    if bad.any():
        raise InputError(f"{where}: label {int(labels[bad][0])} is outside the model's {classes} classes")


def _check_twin(q: ModelInfo, f: ModelInfo, float_io: bool = False) -> None:
    """The float twin is another, float model with the int8 model's IO shapes (a float-IO recipe row,
    e.g. fp32 in `harness recipes`, may name itself: its drift vs float is then zero by definition)."""
    if f.sha256 == q.sha256 and not float_io:
        raise ModelError(f"{f.path}: the float twin is the int8 model itself; `float:` must name the float model")
    models.check_twin(q, f)
    ints = [t for t in f.inputs + f.outputs if t.dtype != "float32"]
    if ints:
        raise ModelError(f"{f.path}: float twin tensor {ints[0].name!r} is {ints[0].dtype}, expected float32 "
                         "inputs and outputs; `float:` must name the float model")


def _inputs(cfg: BenchConfig, entry: ModelEntry, info: ModelInfo, runs: int) -> tuple[inp.InputSet, Path | None]:
    source = resolve(cfg, entry.dataset or entry.inputs)
    if source is not None:
        if not source.is_dir():  # a folder is a dataset in the MLPerf Tiny runner's layout
            regular_file(source, f"{'dataset' if entry.dataset else 'inputs'} file", InputError)
        return inp.file_inputs(source, info.inputs, runs), source
    return inp.random_inputs(info.inputs, runs, cfg.inputs.seed), None


def _load(path: Path, role: str, files: list[dict], name: str | None = None) -> tuple[bytes, ModelInfo]:
    data, info = models.load(regular_file(path, "model file"), name)
    files.append({"role": role, "path": str(path), "sha256": info.sha256})
    inp.check_tensors(info.inputs, "input", str(path))
    inp.check_tensors(info.outputs, "output", str(path))
    return data, info


def prepare(cfg: BenchConfig, entry: ModelEntry, runs: int, taken: set[str]) -> ModelJob:
    """Load and check one model and its twin, and build its input set."""
    path = resolve(cfg, entry.path) if not Path(entry.path).is_absolute() else Path(entry.path)
    name = entry.name or safe_name(path.stem)[:90]  # config names are checked on load; stems are reduced
    while name in taken:
        name += "_"
    taken.add(name)
    files: list[dict] = []
    data, info = _load(path, "model", files, name)
    if not entry.float_io:
        models.require_int8(info)
    twin = None
    if entry.float:
        twin = _load(resolve(cfg, entry.float), "float", files)
        _check_twin(info, twin[1], entry.float_io)
    ins, source = _inputs(cfg, entry, info, runs)
    if source is not None:
        files.append({"role": "dataset" if entry.dataset else "inputs", "path": str(source),
                      "sha256": file_sha256(source)})
    is_cls, why = _is_classifier(info, entry)
    if is_cls:
        _check_labels(ins.labels, _classes(info), ins.source)
    return ModelJob(name, data, info, twin, ins, is_cls, (why,) if why else (), files)


def _check_batch(cfg: BenchConfig, job: ModelJob) -> None:
    """One batch of inputs and outputs fits in MAX_BATCH_BYTES: what a run holds does not grow with runs."""
    per_sample = sum(inp.sample_nbytes(t) for t in job.info.inputs + job.info.outputs)
    if cfg.batch * per_sample > MAX_BATCH_BYTES:
        fit = max(1, MAX_BATCH_BYTES // max(1, per_sample))
        raise ConfigError(f"{cfg.path}: batch: {cfg.batch} samples of {job.name} hold {cfg.batch * per_sample} bytes "
                          f"(limit {MAX_BATCH_BYTES}); set `batch: {fit}` or less")


def prepare_all(cfg: BenchConfig, override: list[str] | list[ModelEntry], runs: int | None) -> list[ModelJob]:
    """Every job of a run: `runs` (--runs) over the model's own `runs:` over the config's."""
    taken: set[str] = set()
    jobs = [prepare(cfg, e, runs if runs is not None else e.runs if e.runs is not None else cfg.runs, taken)
            for e in entries(cfg, override)]
    for job in jobs:
        _check_batch(cfg, job)
    return jobs
