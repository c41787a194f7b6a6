"""`harness recipes`: which conversion should I ship? One Keras model (or pre-converted .tflite
files) as fp32, fp16, dynamic range, int8 PTQ, 16x8 PTQ and int8 QAT, each benched on the
target as one bench run (the sweep's pattern: bench.start on a generated config), and one
comparison of them all (recipes_report.py). A recipe the target cannot run is a row saying so,
with the target's own reason (its bench run is kept, marked failed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..core.config import load_target
from ..errors import ConfigError, InputError, ModelError, UnsupportedModel
from ..report import recipes as recipes_report
from ..results.files import load_arrays, write_atomic
from ..results.rundir import new_run_id
from ..runtimes.runner import Runner
from ..ui import UI
from . import bench
from ..results.recipes import RECIPES, Made
from .recipes_models import convert, pre_converted, tf_python

QUANT_REFS = ("tflm", "reference")  # the int8 / int16 kernels a quantised recipe is compared with
FLOAT_RECIPES = ("fp32", "fp16", "dynamic_range")


@dataclass(frozen=True)
class RecipeRequest:
    """What the user asked for (all checked before any work)."""

    targets: tuple[str, ...] = ("host",)
    digits: bool = False
    keras: str | None = None
    eval: str | None = None
    train: str | None = None
    from_tflite: tuple[str, ...] = ()
    recipes: tuple[str, ...] = RECIPES
    runs: int | None = None
    qat_epochs: int = 3
    results: str = "results"
    tf_python: str | None = None


def check(req: RecipeRequest) -> None:
    """Every argument, before a model is converted or a target opened."""
    if sum([req.digits, bool(req.keras), bool(req.from_tflite)]) != 1:
        raise ConfigError("give one of --digits, --model PATH (a Keras model) or --from-tflite NAME=PATH ...")
    if req.from_tflite:
        pre_converted(list(req.from_tflite))  # names and files, read and inspected
    if not req.digits and not req.eval:
        raise ConfigError("--dataset NPZ is needed (a labelled evaluation set: x float inputs, y labels)")
    unknown = [r for r in req.recipes if r not in RECIPES]
    if unknown:
        raise ConfigError(f"--recipes {unknown[0]}: unknown recipe; choose from {', '.join(RECIPES)}")
    if req.runs is not None and req.runs < 1 or not 0 <= req.qat_epochs <= 1000:
        raise ConfigError("--runs must be >= 1 and --qat-epochs in 0..1000")
    for t in req.targets:
        load_target(t)
    for what, path in (("--dataset", req.eval), ("--train-data", req.train)):
        if path:
            data = load_arrays(Path(path), InputError, f"{what}: file not found")
            if "x" not in data or "y" not in data:
                raise InputError(f"{path}: {what} needs arrays x (float inputs) and y (labels); has "
                                 f"{', '.join(sorted(data)) or 'nothing'}")
    if req.keras and not Path(req.keras).exists():
        raise ModelError(f"{req.keras}: model not found (a .keras / .h5 file or a SavedModel folder)")


def run(req: RecipeRequest, ui: UI) -> list[Path]:
    """Convert (or take) the models, bench them on every target; one comparison folder per target."""
    check(req)
    made = _models(req, ui)
    if "fp32" not in made.models:
        ui.warn("no fp32 recipe: accuracy change, swaps and ECE need it as the float twin; those columns stay empty")
    ev = Path(req.eval) if req.eval else made.eval
    return [_on_target(t, made, ev, req, ui) for t in req.targets]


def _models(req: RecipeRequest, ui: UI) -> Made:
    if req.from_tflite:
        return pre_converted(list(req.from_tflite))
    source = {"digits": True} if req.digits else {"keras": Path(req.keras).resolve(), "eval": Path(req.eval).resolve(),
                                                  "train": Path(req.train).resolve() if req.train else None}
    return convert(source, req.recipes, req.qat_epochs, Path(req.results), tf_python(req.tf_python), ui)


def references_for(name: str, path: Path, kind: str) -> tuple[list[str], dict[str, str]]:
    """The host references this recipe can have: the TFLM oracle and tflite-runtime's reference
    kernels where they load it (each probed here, in a worker process), and the float twin. A bench
    on an MCU compares with TFLM only (its firmware is proven against it)."""
    wanted = ["tflm"] if kind in ("qemu", "mcu") else list(QUANT_REFS)
    refs, notes = [], {}
    for ref in wanted:
        try:
            with Runner(ref) as r:
                r.load(path.read_bytes(), str(path))
        except (UnsupportedModel, ModelError) as e:
            notes[ref] = str(e)
            continue
        refs.append(ref)
    return refs + ["float"], notes


def _config(name: str, path: Path, made: Made, ev: Path, runs: int | None, refs: list[str], out: Path) -> Path:
    entry = {"path": str(path.resolve()), "name": name, "dataset": str(ev.resolve()), "classification": True,
             "float_io": name in FLOAT_RECIPES or _is_float_io(path)}
    if "fp32" in made.models:
        entry["float"] = str(made.models["fp32"].resolve())
    n = len(load_arrays(ev, InputError, "evaluation set not found")["y"])
    cfg = {"description": f"recipe {name}", "runs": min(runs or n, n), "batch": 100, "references": refs,
           "models": [entry]}
    path_cfg = out / "configs" / f"{name}.yaml"
    write_atomic(path_cfg, yaml.safe_dump(cfg).encode())
    return path_cfg


def _is_float_io(path: Path) -> bool:
    from ..core.model import load

    _, info = load(path)
    return not any(t.dtype in ("int8", "uint8", "int16") for t in info.inputs + info.outputs)


def _on_target(target: str, made: Made, ev: Path, req: RecipeRequest, ui: UI) -> Path:
    tcfg = load_target(target)
    out = Path(req.results) / "recipes" / tcfg.name / new_run_id()
    rows: dict[str, dict] = {name: {"not_made": why} for name, why in made.errors.items()}
    for name, path in made.models.items():
        refs, notes = references_for(name, path, tcfg.kind)
        cfg = _config(name, path, made, ev, req.runs, refs, out)
        ui.say(f"recipes: {name} on {tcfg.name}")
        try:
            run_dir = bench.start(bench.Request(target=target, config=str(cfg), results=req.results), ui)
        except (UnsupportedModel, ModelError) as e:  # the target's own refusal (its run says failed:)
            rows[name] = {"cannot_run": str(e)}
            continue
        rows[name] = {"run": str(run_dir), "ref_notes": notes}
    recipes_report.write(out, tcfg, made, ev, rows)
    return out
