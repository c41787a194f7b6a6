"""Turn a bench config (or MODELS=) into model jobs: bytes, inspection, twin, inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import inputs as inp
from . import models
from .config import BenchConfig, ModelEntry, resolve
from .errors import ConfigError
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


def entries(cfg: BenchConfig, override: list[str]) -> list[ModelEntry]:
    """The config's models, or the MODELS= paths (relative to the current folder)."""
    if override:
        return [ModelEntry(path=str(Path(p).resolve())) for p in override]
    if not cfg.models:
        raise ConfigError(f"{cfg.path}: no models listed; add `models:` or pass MODELS='a.tflite …'")
    return list(cfg.models)


def _is_classifier(info: ModelInfo, entry: ModelEntry) -> bool:
    if entry.classification is not None:
        return entry.classification
    out = info.outputs[0]
    classes = out.shape[-1] if out.shape else 0
    return len(info.outputs) == 1 and bool(info.ops) and info.ops[-1] == "SOFTMAX" and classes >= 2


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
    models.require_int8(info)
    twin = None
    if entry.float:
        fdata, finfo = models.load(resolve(cfg, entry.float))
        models.check_twin(info, finfo)
        twin = (fdata, finfo)
    return ModelJob(name, data, info, twin, _inputs(cfg, entry, info, runs), _is_classifier(info, entry))
