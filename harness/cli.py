"""`python -m harness …`: bench, compare, report, sweep, recipes, targets, doctor. Errors are one line; --debug shows tracebacks."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import HarnessError

EPILOG = "exit codes: 0 ok, 1 regression against the baseline, 2 bad input or target error"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness", description="int8 drift and latency: host vs board",
                                epilog=EPILOG)
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench", help="run models on a target and report drift and latency")
    b.add_argument("--target", default="host", help="targets/<name>.yaml or a path (default host)")
    b.add_argument("--config", default="default", help="configs/<name>.yaml or a path (default default)")
    b.add_argument("--models", nargs="*", default=[], help="model files instead of the config's list")
    b.add_argument("--runs", type=int, help="timed inferences per model (default from the config)")
    b.add_argument("--results", default="results", help="results root folder (default results/)")
    b.add_argument("--resume", metavar="RUN_DIR", help="continue a killed run without redoing finished batches")
    b.add_argument("--baseline", metavar="RUN_DIR", help="check tolerances against this run; exit 1 if broken")
    b.add_argument("--accept-new-host-key", action="store_true",
                   help="SSH targets: record an unknown host key (like OpenSSH accept-new); a changed key is refused")
    b.add_argument("--per-layer", type=int, nargs="?", const=3, default=0, metavar="N",
                   help="per-layer drift on the first N samples (default 3)")
    c = sub.add_parser("compare", help="compare the raw outputs of two runs")
    c.add_argument("run_a")
    c.add_argument("run_b")
    r = sub.add_parser("report", help="rebuild metrics and reports of a run directory")
    r.add_argument("run_dir")
    r.add_argument("--baseline", metavar="RUN_DIR")
    w = sub.add_parser("sweep", help="weight-bit sweep: weights on a k-bit grid, run on a target")
    w.add_argument("--model", required=True, help="the int8 model")
    w.add_argument("--float", required=True, dest="float_model", help="its float twin")
    w.add_argument("--bits", type=int, nargs="+", default=[8, 7, 6, 5, 4])
    w.add_argument("--target", default="host")
    w.add_argument("--dataset", help=".npz with x and y labels (accuracy, ECE)")
    w.add_argument("--runs", type=int, help="samples per k (default 200, capped by the dataset)")
    w.add_argument("--results", default="results")
    _add_recipes(sub)
    sub.add_parser("targets", help="list the target files")
    d = sub.add_parser("doctor", help="check runtimes and toolchains; say how to install what is missing")
    d.add_argument("--target", help="also check a remote target (e.g. rpi4)")
    d.add_argument("--install-runtime", action="store_true", help="install the runtime on the remote target")
    return p


def cmd_bench(a, ui) -> int:
    import os

    from . import bench

    if a.accept_new_host_key:  # the SSH options read HB_* overrides (docs/ssh.md)
        os.environ["HB_ACCEPT_NEW_HOST_KEY"] = "1"
    if a.resume:
        path = bench.resume(a.resume, ui)
    else:
        req = bench.Request(a.target, a.config, tuple(a.models), a.runs, a.results, a.baseline, a.per_layer)
        path = bench.start(req, ui)
    print(f"report: {path / 'report.html'}\nreport: {path / 'report.md'}")
    return 0


def cmd_compare(a, ui) -> int:
    from .compare import compare_runs, render

    print(render(compare_runs(Path(a.run_a), Path(a.run_b)), f"{a.run_a} vs {a.run_b}").markdown())
    return 0


def cmd_report(a, ui) -> int:
    from . import analysis, report
    from .results import RunDir

    rd = RunDir(Path(a.run_dir))
    analysis.analyse_run(rd)
    print(f"report: {report.write_all(rd, a.baseline)}")
    return 0


def cmd_sweep(a, ui) -> int:
    from . import sweep_run

    path = sweep_run.run(a.model, a.float_model, a.bits, a.target, a.dataset, a.runs, a.results, ui)
    print((path / "sweep.md").read_text())
    print(f"report: {path / 'report.html'}\nsweep: {path / 'sweep.md'}\nsweep: {path / 'sweep.html'}")
    return 0


def _add_recipes(sub) -> None:
    from .recipes_make import RECIPES

    r = sub.add_parser("recipes", help="fp32 / fp16 / dynamic range / int8 / 16x8 / QAT of one model, benched and compared")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--digits", action="store_true", help="the project's digits model (tools/make_models.py)")
    src.add_argument("--model", dest="keras", help="a Keras model (.keras, .h5, SavedModel folder) to convert")
    src.add_argument("--from-tflite", nargs="+", default=[], metavar="NAME=PATH",
                     help=f"pre-converted models instead (names: {', '.join(RECIPES)}; fp32 is the float twin)")
    r.add_argument("--dataset", dest="eval", help=".npz with x (float inputs) and y (labels): the evaluation set")
    r.add_argument("--train-data", dest="train", help=".npz with x, y for calibration and QAT (default: --dataset)")
    r.add_argument("--target", action="append", dest="targets", help="target (repeat for several; default host)")
    r.add_argument("--recipes", nargs="+", default=list(RECIPES), help="which recipes (default all)")
    r.add_argument("--runs", type=int, help="samples per recipe (default: the whole evaluation set)")
    r.add_argument("--qat-epochs", type=int, default=3, help="QAT fine-tune epochs (default 3)")
    r.add_argument("--tf-python", help="python of a venv with TensorFlow (default .venv-recipes/bin/python)")
    r.add_argument("--results", default="results")


def cmd_recipes(a, ui) -> int:
    from . import recipes

    req = recipes.RecipeRequest(tuple(a.targets or ["host"]), a.digits, a.keras, a.eval, a.train,
                                tuple(a.from_tflite), tuple(a.recipes), a.runs, a.qat_epochs, a.results, a.tf_python)
    for path in recipes.run(req, ui):
        print((path / "recipes.md").read_text())
        print(f"comparison: {path / 'recipes.md'}\ncomparison: {path / 'recipes.html'}")
    return 0


def cmd_targets(a, ui) -> int:
    from .config import ROOT, load_target

    for path in sorted((ROOT / "targets").glob("*.yaml")):
        t = load_target(str(path))
        print(f"{path.stem:14} {t.kind:6} {t.description}")
    return 0


def cmd_doctor(a, ui) -> int:
    from .doctor import local_checks

    rows = local_checks()
    for what, ok, detail in rows:
        status = "ok " if ok else ("-  " if "optional" in what else "MISSING")
        print(f"{status:7} {what:28} {detail}")
    ok = all(good for what, good, _ in rows if "optional" not in what)
    if a.target:
        return _doctor_remote(a.target, a.install_runtime) or (0 if ok else 2)
    return 0 if ok else 2


def _doctor_remote(name: str, install: bool) -> int:
    """Checks on a Linux board over SSH: Python, numpy, runtime; each problem with its fix."""
    from .config import load_target

    target = load_target(name)
    if target.kind != "ssh":
        print(f"{name}: kind {target.kind} has no remote checks (the firmware's HELLO says what it supports)")
        return 0
    from .drivers import ssh

    if install:
        ssh.install_runtime(target)
    problems = ssh.remote_check(target)
    for p in problems:
        print(f"MISSING {p}")
    if not problems:
        print(f"ok      {name}: remote Python, numpy and runtime")
    return 2 if problems else 0


COMMANDS = {"bench": cmd_bench, "compare": cmd_compare, "report": cmd_report, "sweep": cmd_sweep,
            "recipes": cmd_recipes, "targets": cmd_targets, "doctor": cmd_doctor}


def main(argv: list[str] | None = None) -> int:
    a = _parser().parse_args(argv)
    from .ui import UI

    ui = UI(a.quiet)
    try:
        return COMMANDS[a.cmd](a, ui)
    except HarnessError as e:
        if a.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted: finished batches are saved; continue with `harness bench --resume RUN_DIR`",
              file=sys.stderr)
        return 130
