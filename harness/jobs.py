"""Turn a bench config (or MODELS=) into model jobs: bytes, inspection, twin, inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import inputs as inp
from . import models
from .config import BenchConfig, ModelEntry, resolve
from .errors import ConfigError, InputError
from .models import ModelInfo


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


def entries(cfg: BenchConfig, override: list[str]) -> list[ModelEntry]:
    """The config's models, or the MODELS= paths (relative to the current folder)."""
    if override:
        return [ModelEntry(path=str(Path(p).resolve())) for p in override]
    if not cfg.models:
        raise ConfigError(f"{cfg.path}: no models listed; add `models:` or pass MODELS='a.tflite …'")
    return list(cfg.models)


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


def _inputs(cfg: BenchConfig, entry: ModelEntry, info: ModelInfo, runs: int) -> inp.InputSet:
    source = resolve(cfg, entry.dataset or entry.inputs)
    if source is not None:
        return inp.file_inputs(source, info.inputs, runs)
    return inp.random_inputs(info.inputs, runs, cfg.inputs.seed)


def prepare(cfg: BenchConfig, entry: ModelEntry, runs: int, taken: set[str]) -> ModelJob:
    """Load and check one model and its twin, and build its input set."""
    path = resolve(cfg, entry.path) if not Path(entry.path).is_absolute() else Path(entry.path)
    name = entry.name or path.stem
    while name in taken:
        name += "_"
    taken.add(name)
    data, info = models.load(path, name)
    if not entry.float_io:
        models.require_int8(info)
    twin = None
    if entry.float:
        fdata, finfo = models.load(resolve(cfg, entry.float))
        models.check_twin(info, finfo)
        twin = (fdata, finfo)
    ins = _inputs(cfg, entry, info, runs)
    is_cls, why = _is_classifier(info, entry)
    if is_cls:
        _check_labels(ins.labels, _classes(info), ins.source)
    return ModelJob(name, data, info, twin, ins, is_cls, (why,) if why else ())
