"""YAML → frozen dataclasses. Unknown keys and wrong types are ConfigErrors naming file and key."""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from `path`, or a ConfigError saying what is wrong with the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{line} is not valid YAML ({getattr(e, 'problem', e)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return data


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (tuple, list):
        args = typing.get_args(hint)
        return isinstance(value, (list, tuple)) and all(_type_ok(v, args[0]) for v in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def load_dataclass(cls: type, data: Mapping[str, Any] | None, where: str) -> Any:
    """Build frozen dataclass `cls` from `data`; `where` is 'file: key.path' for messages.

    Nested dataclass fields are built recursively; lists become tuples.
    """
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{where}: missing required key {name!r}")
            continue
        kwargs[name] = _convert(data[name], hints[name], f"{where}.{name}")
    return cls(**kwargs)


def _convert(value: Any, hint: Any, where: str) -> Any:
    inner = [h for h in typing.get_args(hint) if h is not type(None)]
    target = inner[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(inner) == 1 else hint
    if dataclasses.is_dataclass(target) and isinstance(value, dict):
        return load_dataclass(target, value, where)
    if typing.get_origin(target) is tuple and isinstance(value, list):
        (item,) = typing.get_args(target)[:1]
        if dataclasses.is_dataclass(item):
            return tuple(_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value))
        value = tuple(value)
    if not _type_ok(value, hint):
        raise ConfigError(f"{where}: expected {_type_name(hint)}, got {type(value).__name__} {value!r}")
    if isinstance(value, float) and hint is float:
        return float(value)
    return value


@dataclass(frozen=True)
class TargetConfig:
    """targets/<name>.yaml: the kind selects the driver, which validates `options` itself."""

    kind: str
    description: str = ""
    options: dict = field(default_factory=dict)
    name: str = ""
    path: str = ""


@dataclass(frozen=True)
class ModelEntry:
    """One model of a bench config; paths are relative to the config file."""

    path: str
    float: str | None = None
    dataset: str | None = None  # .npz with x (and y for labels)
    inputs: str | None = None  # .npy / .npz of inputs (int8 or float; float is quantised)
    name: str | None = None
    classification: bool | None = None  # None: guess from the output shape
    runs: int | None = None  # overrides the config's runs for this model
    float_io: bool = False  # a float model benched as it is (harness recipes: fp32/fp16/dynamic range)


@dataclass(frozen=True)
class InputsConfig:
    """How inputs are made when a model names no file or dataset."""

    source: str = "random"
    seed: int = 0


@dataclass(frozen=True)
class Tolerances:
    """Regression limits against a baseline run (--baseline)."""

    max_lsb: int = 0
    min_exact_pct: float = 100.0
    max_swapped_pct: float = 0.0
    max_latency_increase_pct: float = 10.0


@dataclass(frozen=True)
class BenchConfig:
    """configs/<name>.yaml: which models, how many runs, which references, tolerances."""

    models: tuple[ModelEntry, ...] = ()
    description: str = ""
    runs: int = 20
    warmup: int = 2
    batch: int = 50  # inferences per journal entry
    inputs: InputsConfig = InputsConfig()
    references: tuple[str, ...] = ("tflm", "reference", "optimized", "float")
    tolerances: Tolerances = Tolerances()
    name: str = ""
    path: str = ""


REFERENCE_NAMES = ("tflm", "reference", "optimized", "float")


def find_named(kind: str, name_or_path: str) -> Path:
    """targets/<name>.yaml or configs/<name>.yaml, or a path given directly."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return p
    return ROOT / kind / f"{name_or_path}.yaml"


def _load_named(kind: str, name_or_path: str, cls: type) -> tuple[Path, Any]:
    """targets/ or configs/ file → dataclass, with `name` and `path` filled in."""
    path = find_named(kind, name_or_path)
    if not path.exists():
        known = ", ".join(sorted(q.stem for q in (ROOT / kind).glob("*.yaml")))
        raise ConfigError(f"unknown {kind[:-1]} {name_or_path!r} ({path} not found); known {kind}: {known}")
    data = read_yaml(path)
    data.setdefault("name", path.stem)
    data["path"] = str(path)
    return path, load_dataclass(cls, data, str(path))


def load_target(name_or_path: str) -> TargetConfig:
    return _load_named("targets", name_or_path, TargetConfig)[1]


def load_bench(name_or_path: str) -> BenchConfig:
    path, cfg = _load_named("configs", name_or_path, BenchConfig)
    _check_bench(cfg, path)
    return cfg


def _check_bench(cfg: BenchConfig, path: Path) -> None:
    bad = [r for r in cfg.references if r not in REFERENCE_NAMES]
    if bad:
        raise ConfigError(f"{path}: references: unknown {bad[0]!r}; allowed: {', '.join(REFERENCE_NAMES)}")
    if cfg.runs < 1 or cfg.warmup < 0 or cfg.batch < 1:
        raise ConfigError(f"{path}: runs and batch must be >= 1 and warmup >= 0")
    if cfg.inputs.source not in ("random",):
        raise ConfigError(f"{path}: inputs.source: unknown {cfg.inputs.source!r}; allowed: random")


def resolve(cfg: BenchConfig, rel: str | None) -> Path | None:
    """A path from a bench config, relative to the config file's folder."""
    if rel is None:
        return None
    p = Path(rel)
    return p if p.is_absolute() else (Path(cfg.path).parent / p).resolve()
