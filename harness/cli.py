"""`python -m harness …`: bench, compare, report, sweep, explain, recipes, lab, targets, doctor. Errors are one line; --debug shows tracebacks."""

from __future__ import annotations

import argparse
import glob
import os
import signal
import sys
from pathlib import Path

from .errors import ConfigError, HarnessError

EPILOG = ("exit codes: 0 ok, 1 regression against the baseline, 2 bad input or target error. "
          "`make bench` passes TARGET, CONFIG, MODELS and RUNS as HB_TARGET, HB_CONFIG, HB_MODELS, HB_RUNS.")


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit 2, like every other bad input."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message}; see `{self.prog} --help`\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="harness", description="int8 drift and latency: host vs board", epilog=EPILOG)
    p.add_argument("--debug", action="store_true", help="show tracebacks")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    sub = p.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench", help="run models on a target and report drift and latency")
    b.add_argument("--target", help="targets/<name>.yaml or a path (default $HB_TARGET, else host; "
                   "`make bench` sets TARGET=qemu-m4)")
    b.add_argument("--config", help="configs/<name>.yaml or a path (default $HB_CONFIG, else default)")
    b.add_argument("--models", nargs="*", help="model files instead of the config's list (default: $HB_MODELS, "
                   "space-separated paths and globs)")
    b.add_argument("--runs", type=int, help="timed inferences per model (default $HB_RUNS, else the config's)")
    b.add_argument("--results", default="results", help="results root folder (default results/)")
    b.add_argument("--resume", metavar="RUN_DIR", help="continue a killed run without redoing finished batches")
    b.add_argument("--baseline", metavar="RUN_DIR", help="check tolerances against this run; exit 1 if broken")
    b.add_argument("--allow-other-target", action="store_true",
                   help="--baseline of another kind of target: compare outputs, never latencies")
    b.add_argument("--accept-new-host-key", action="store_true",
                   help="SSH targets: record an unknown host key (like OpenSSH accept-new); a changed key is refused")
    b.add_argument("--per-layer", type=int, nargs="?", const=3, metavar="N",
                   help="per-layer drift on the first N samples (N default 3; default $HB_PER_LAYER, else off)")
    b.add_argument("--float", dest="float_model", metavar="PATH",
                   help="the float twin of the one model of --models (default: found by name, docs/results.md)")
    b.add_argument("--json", action="store_true",
                   help="print the summary as JSON on stdout instead of a table (progress stays on stderr)")
    c = sub.add_parser("compare", help="compare the raw outputs of two runs (or more: agreement matrix)")
    c.add_argument("run_a")
    c.add_argument("run_b")
    c.add_argument("more", nargs="*", help="further run directories")
    c.add_argument("--json", action="store_true", help="print the comparison as JSON instead of Markdown")
    r = sub.add_parser("report", help="rebuild metrics and reports of a run directory")
    r.add_argument("run_dir")
    r.add_argument("--baseline", metavar="RUN_DIR")
    r.add_argument("--allow-other-target", action="store_true")
    w = sub.add_parser("sweep", help="weight-bit sweep: weights on a k-bit grid, run on a target")
    w.add_argument("--model", required=True, help="the int8 model")
    w.add_argument("--float", required=True, dest="float_model", help="its float twin")
    w.add_argument("--bits", type=int, nargs="+", default=[8, 7, 6, 5, 4])
    w.add_argument("--target", default="host")
    w.add_argument("--dataset", help=".npz with x and y labels (accuracy, ECE)")
    w.add_argument("--runs", type=int, help="samples per k (default 200, capped by the dataset)")
    w.add_argument("--results", default="results")
    _explain_parser(sub)
    _add_recipes(sub)
    sub.add_parser("targets", help="list the target files")
    _lab_parser(sub)
    d = sub.add_parser("doctor", help="check runtimes and toolchains; say how to install what is missing")
    d.add_argument("--target", help="also check a remote target (e.g. rpi4)")
    d.add_argument("--install-runtime", action="store_true", help="install the runtime on the remote target")
    return p


def _explain_parser(sub) -> None:
    e = sub.add_parser("explain", help="replay each op of a --per-layer run on the host: which arithmetic "
                       "reproduces the target's tensors (docs/attribution.md)")
    e.add_argument("run_dir")
    e.add_argument("--model", help="one model of the run (default: every model with per-layer tensors)")
    e.add_argument("--op", type=int, help="one op index (default: every op)")


def cmd_explain(a, ui) -> int:
    from .report.explain import explain

    print(explain(a.run_dir, a.model, a.op), end="")
    return 0


def _env_models(text: str) -> list[str]:
    """HB_MODELS (MODELS= of make): space-separated paths and globs, expanded here, never by a shell."""
    out: list[str] = []
    for word in text.split():
        word = os.path.expanduser(word)
        hits = sorted(glob.glob(word)) if glob.has_magic(word) else []
        out += hits or [word]
    return out


def _whole(value: int | str | None, name: str, low: int, high: int, what: str) -> int | None:
    """A whole number in [low, high] from an option or HB_* variable, or a ConfigError naming it."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} {str(value)[:40]!r}: not a whole number; give the {what}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} {number}: must be between {low} and {high} {what}")
    return number


def _runs(value: int | str | None, name: str) -> int | None:
    from .core.config import MAX_RUNS

    return _whole(value, name, 1, MAX_RUNS, "inferences per model")


def _bench_request(a):
    """The bench request from the options, then HB_* (make bench), then defaults; checked before anything runs."""
    from .run import bench

    env = os.environ
    runs = _runs(a.runs, "--runs") if a.runs is not None else _runs(env.get("HB_RUNS"), "RUNS= (HB_RUNS)")
    models = a.models if a.models is not None else _env_models(env.get("HB_MODELS", ""))
    layers = (_whole(a.per_layer, "--per-layer", 0, 100_000, "samples") if a.per_layer is not None else
              _whole(env.get("HB_PER_LAYER"), "PER_LAYER= (HB_PER_LAYER)", 0, 100_000, "samples"))
    return bench.Request(a.target or env.get("HB_TARGET") or "host", a.config or env.get("HB_CONFIG") or "default",
                         tuple(models), runs, a.results, a.baseline, layers or 0, a.allow_other_target,
                         a.float_model)


def cmd_bench(a, ui) -> int:
    from .run import bench

    if a.accept_new_host_key:  # the SSH options read HB_* overrides (docs/ssh.md)
        os.environ["HB_ACCEPT_NEW_HOST_KEY"] = "1"
    if a.resume:
        given = [o for o, v in (("--target", a.target), ("--config", a.config), ("--models", a.models),
                                ("--runs", a.runs), ("--baseline", a.baseline), ("--per-layer", a.per_layer),
                                ("--float", a.float_model)) if v is not None]
        if given:
            raise ConfigError(f"--resume repeats the recorded run exactly; drop {', '.join(given)}")
    try:
        path = bench.resume(a.resume, ui) if a.resume else bench.start(_bench_request(a), ui)
    except HarnessError as e:  # a regression, or a failure after measuring: summarise what there is
        if getattr(e, "run_dir", None) is not None:
            _summarise(e.run_dir, a.json, ui)
        raise
    _summarise(path, a.json, ui)
    return 0


def _summarise(run_dir: Path, as_json: bool, ui) -> None:
    """The answer at a glance (analysis/verdict.py) on stdout: a table, or JSON with --json."""
    from .analysis.verdict import summarise
    from .ui import print_json, print_summary

    try:
        s = summarise(run_dir)
    except HarnessError as e:  # the run's files are not readable: the error that ended it says more
        ui.warn(f"no summary: {e}")
        return
    if as_json:
        print_json(s.as_json())
    else:
        print_summary(s)


def _lab_parser(sub) -> None:
    lab = sub.add_parser("lab", help="the same bench on every matching labgrid place at once; one lab report")
    lab.add_argument("--places", nargs="+", required=True, metavar="TERM",
                     help="key=glob on place tags (board=stm32f746g*) or a glob on place names; all must match")
    lab.add_argument("--config", default="default", help="configs/<name>.yaml or a path")
    lab.add_argument("--coordinator", help="labgrid coordinator HOST[:PORT] (default LG_COORDINATOR, else :20408)")
    lab.add_argument("--count", type=int, default=0, help="boards to bench (default all matching; the rest are spares)")
    lab.add_argument("--wait", type=float, default=300.0,
                     help="seconds to wait for places someone else holds (default 300)")
    lab.add_argument("--template", help="a kind-labgrid target file whose options every board gets")
    lab.add_argument("--models", nargs="*", default=[])
    lab.add_argument("--runs", type=int)
    lab.add_argument("--results", default="results")


def cmd_lab(a, ui) -> int:
    import signal

    from .run import lab

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # like Ctrl-C: workers release their places
    req = lab.LabRequest(tuple(a.places), a.config, a.coordinator, a.count, a.wait, a.template, a.runs,
                         tuple(a.models), a.results)
    print(f"lab report: {lab.start(req, ui)}")
    return 0


def cmd_compare(a, ui) -> int:
    from .analysis.compare import compare_runs, render, verdicts
    from .ui import print_json

    if a.more:
        from .analysis.compare_many import compare_many, render as render_many

        runs = [Path(r) for r in (a.run_a, a.run_b, *a.more)]
        result = compare_many(runs)
        if a.json:
            print_json(result)
        else:
            print(render_many(result).markdown())
        return 0
    results = compare_runs(Path(a.run_a), Path(a.run_b))
    if a.json:
        print_json({"run_a": a.run_a, "run_b": a.run_b, "models": results, "verdicts": verdicts(results, "run B")})
    else:
        print(render(results, f"{a.run_a} vs {a.run_b}").markdown())
    return 0


def cmd_report(a, ui) -> int:
    from .analysis import analyse as analysis
    from .report import run_report as report
    from .results.rundir import RunDir

    rd = RunDir(Path(a.run_dir))
    if a.baseline:
        from .results.files import read_json
        from .run.regression import preflight

        meta = read_json(rd.file("run.json"))
        models = {n: (m.get("sha256"), m.get("input_source")) for n, m in (meta.get("models") or {}).items()}
        preflight(Path(a.baseline), str((meta.get("target") or {}).get("kind")), models, a.allow_other_target)
    analysis.analyse_run(rd)
    print(f"report: {report.write_all(rd, a.baseline)}")
    return 0


def cmd_sweep(a, ui) -> int:
    from .run import sweep as sweep_run

    path = sweep_run.run(a.model, a.float_model, a.bits, a.target, a.dataset, _runs(a.runs, "--runs"), a.results, ui)
    print((path / "sweep.md").read_text())
    print(f"report: {path / 'report.html'}\nsweep: {path / 'sweep.md'}\nsweep: {path / 'sweep.html'}")
    return 0


def _add_recipes(sub) -> None:
    from .run.recipes_models import RECIPES

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
    from .run import recipes

    env = os.environ  # `make recipes` passes TARGET= and RUNS= as HB_RECIPE_TARGETS and HB_RUNS
    targets = a.targets or env.get("HB_RECIPE_TARGETS", "").split() or ["host"]
    runs = _runs(a.runs, "--runs") if a.runs is not None else _runs(env.get("HB_RUNS"), "RUNS= (HB_RUNS)")
    req = recipes.RecipeRequest(tuple(targets), a.digits, a.keras, a.eval, a.train,
                                tuple(a.from_tflite), tuple(a.recipes), runs, a.qat_epochs, a.results, a.tf_python)
    for path in recipes.run(req, ui):
        print((path / "recipes.md").read_text())
        print(f"comparison: {path / 'recipes.md'}\ncomparison: {path / 'recipes.html'}")
    return 0


def cmd_targets(a, ui) -> int:
    from .core.config import load_target
    from .core.paths import ROOT

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
    from .core.config import load_target

    target = load_target(name)
    if target.kind != "ssh":
        print(f"{name}: kind {target.kind} has no remote checks (the firmware's HELLO says what it supports)")
        return 0
    from .drivers.ssh import driver as ssh

    if install:
        ssh.install_runtime(target)
    problems = ssh.remote_check(target)
    for p in problems:
        print(f"MISSING {p}")
    if not problems:
        print(f"ok      {name}: remote Python, numpy and runtime")
    return 2 if problems else 0


COMMANDS = {"bench": cmd_bench, "compare": cmd_compare, "report": cmd_report, "sweep": cmd_sweep,
            "explain": cmd_explain, "recipes": cmd_recipes, "targets": cmd_targets, "doctor": cmd_doctor, "lab": cmd_lab}


def _terminated(signum, frame) -> None:
    """SIGTERM ends a run like Ctrl-C: finished batches kept, run.json says failed."""
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a path that is not UTF-8 prints as \xNN, never a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    a = _parser().parse_args(argv)
    from .ui import UI

    ui = UI(a.quiet)
    try:
        old = signal.signal(signal.SIGTERM, _terminated)
    except ValueError:  # not the main thread
        old = None
    try:
        return COMMANDS[a.cmd](a, ui)
    except HarnessError as e:
        if a.debug:
            raise
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except MemoryError:
        if a.debug:
            raise
        print("error: out of memory; use fewer --runs or a smaller batch (finished batches are kept)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished batches are saved; continue with `harness bench --resume RUN_DIR`",
              file=sys.stderr)
        return 130
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
