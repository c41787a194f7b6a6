"""The project's YAML files as checked frozen dataclasses: targets/<name>.yaml (TargetConfig) and
configs/<name>.yaml (BenchConfig), found by name in the folders of paths.search_dirs()."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError
from .paths import search_dirs
from .schema import load_dataclass, opt, read_yaml, safe_name, short


MAX_RUNS = 10**10  # inferences per model: far beyond any real run, small enough to count in int64


@dataclass(frozen=True)
class TargetConfig:
    """targets/<name>.yaml: the kind selects the driver, whose options class validates `options`."""

    kind: str
    description: str = ""
    options: dict = field(default_factory=dict)
    name: str = opt("", name=True)  # results/<name>/…
    path: str = ""


@dataclass(frozen=True)
class ModelEntry:
    """One model of a bench config; paths are relative to the config file."""

    path: str
    float: str | None = None
    dataset: str | None = None  # .npz with x (and y for labels)
    inputs: str | None = None  # .npy / .npz of inputs (int8 or float; float is quantised)
    name: str | None = opt(None, name=True)  # outputs/<name>.npz, parts/<name>/…
    classification: bool | None = None  # None: guess from the output shape
    runs: int | None = opt(None, min=1, max=MAX_RUNS)  # overrides the config's runs for this model
    float_io: bool = False  # a float model benched as it is (harness recipes: fp32/fp16/dynamic range)


@dataclass(frozen=True)
class InputsConfig:
    """How inputs are made when a model names no file or dataset."""

    source: str = opt("random", choices=("random",))
    seed: int = opt(0, min=0, max=2**64 - 1)


@dataclass(frozen=True)
class Tolerances:
    """Regression limits against a baseline run (--baseline)."""

    max_lsb: int = opt(0, min=0, max=65535)
    min_exact_pct: float = opt(100.0, min=0, max=100)
    max_swapped_pct: float = opt(0.0, min=0, max=100)
    max_latency_increase_pct: float = opt(10.0, min=-100, max=1e6)


@dataclass(frozen=True)
class BenchConfig:
    """configs/<name>.yaml: which models, how many runs, which references, tolerances."""

    models: tuple[ModelEntry, ...] = ()
    description: str = ""
    runs: int = opt(20, min=1, max=MAX_RUNS)
    warmup: int = opt(2, min=0, max=10_000)
    batch: int = opt(50, min=1, max=100_000, hint="inferences per journal entry; they are held in memory")
    inputs: InputsConfig = InputsConfig()
    references: tuple[str, ...] = ("tflm", "reference", "optimized", "float")
    tolerances: Tolerances = Tolerances()
    name: str = opt("", name=True)
    path: str = ""


INT8_REFS = ("tflm", "reference", "optimized")  # int8 kernel sets on the device's own int8 inputs
REFERENCE_NAMES = (*INT8_REFS, "float")


def find_named(kind: str, name_or_path: str) -> Path:
    """A path given directly, or <name>.yaml in the first folder of search_dirs(kind) that has it
    (the first folder's path when none has: the error names it)."""
    p = Path(name_or_path)
    if p.suffix in (".yaml", ".yml"):
        return Path(os.path.abspath(p))  # absolute: --resume from another folder finds the same files
    dirs = search_dirs(kind)
    found = [d / f"{name_or_path}.yaml" for d in dirs if _is_file(d / f"{name_or_path}.yaml")]
    return found[0] if found else ([d for d in dirs if d.is_dir()] or dirs)[0] / f"{name_or_path}.yaml"


def _is_file(path: Path) -> bool:
    """path.is_file(), False when the name cannot even be looked up (too long: _load_named says so)."""
    try:
        return path.is_file()
    except OSError:
        return False


def known_names(kind: str) -> dict[str, Path]:
    """{name: file} of every targets/ or configs/ file found by name, the first folder winning."""
    found: dict[str, Path] = {}
    for d in reversed(search_dirs(kind)):
        found.update({q.stem: q for q in d.glob("*.yaml")})
    return dict(sorted(found.items()))


def _load_named(kind: str, name_or_path: str, cls: type) -> tuple[Path, Any]:
    """targets/ or configs/ file → dataclass, with `name` and `path` filled in."""
    if "\0" in name_or_path:
        raise ConfigError(f"{kind[:-1]} name {name_or_path!r} contains a NUL character")
    path = find_named(kind, name_or_path)
    try:
        found, is_dir, exists = path.is_file(), path.is_dir(), path.exists()
    except OSError as e:  # e.g. a name longer than the file system allows
        raise ConfigError(f"{kind[:-1]} {short(name_or_path)}: {e.strerror}") from None
    if is_dir or (exists and not found):
        raise ConfigError(f"{path}: is a directory or a special file, expected a {kind[:-1]} .yaml file")
    if not found:
        known = ", ".join(known_names(kind))
        raise ConfigError(f"unknown {kind[:-1]} {name_or_path!r} ({path} not found); known {kind}: {known}")
    data = read_yaml(path)
    data.setdefault("name", safe_name(path.stem))
    data["path"] = str(path)
    return path, load_dataclass(cls, data, str(path))


def load_target(name_or_path: str) -> TargetConfig:
    return _load_named("targets", name_or_path, TargetConfig)[1]


def load_bench(name_or_path: str) -> BenchConfig:
    path, cfg = _load_named("configs", name_or_path, BenchConfig)
    _check_bench(cfg, path)
    return cfg


def bench_from_record(data: Mapping[str, Any], where: str) -> BenchConfig:
    """A bench config as recorded in run.json (--resume runs with these settings, not today's file)."""
    cfg = load_dataclass(BenchConfig, data, where)
    _check_bench(cfg, where)
    return cfg


def _check_bench(cfg: BenchConfig, path: Path | str) -> None:
    bad = [r for r in cfg.references if r not in REFERENCE_NAMES]
    if bad:
        raise ConfigError(f"{path}: references: unknown {bad[0]!r}; allowed: {', '.join(REFERENCE_NAMES)}")


def resolve(cfg: BenchConfig, rel: str | None) -> Path | None:
    """A path from a bench config, relative to the config file's folder."""
    if rel is None:
        return None
    return Path(os.path.abspath(Path(cfg.path).parent / rel))  # lexical: a symlink loop is reported later
