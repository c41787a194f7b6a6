"""`python -m harness …`: bench, compare, report, sweep, explain, recipes, lab, targets, doctor. Errors are one line; --debug shows tracebacks."""

from __future__ import annotations

import glob
import os
import signal
import sys
from pathlib import Path

from .cli_parser import parser
from .core.schema import whole_number
from .errors import ConfigError, HarnessError

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


def _runs(value: int | str | None, name: str) -> int | None:
    from .core.config import MAX_RUNS

    return whole_number(value, name, 1, MAX_RUNS, "inferences per model")


def _bench_request(a):
    """The bench request from the options, then HB_* (make bench), then defaults; checked before anything runs."""
    from .run import bench

    env = os.environ
    runs = _runs(a.runs, "--runs") if a.runs is not None else _runs(env.get("HB_RUNS"), "RUNS= (HB_RUNS)")
    models = a.models if a.models is not None else _env_models(env.get("HB_MODELS", ""))
    layers = (whole_number(a.per_layer, "--per-layer", 0, 100_000, "samples") if a.per_layer is not None else
              whole_number(env.get("HB_PER_LAYER"), "PER_LAYER= (HB_PER_LAYER)", 0, 100_000, "samples"))
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


def cmd_lab(a, ui) -> int:
    import signal

    from .run import lab

    signal.signal(signal.SIGTERM, signal.default_int_handler)  # like Ctrl-C: workers release their places
    req = lab.LabRequest(tuple(a.places), a.config, a.coordinator, a.count, a.wait, a.template, a.runs,
                         tuple(a.models), a.results)
    print(f"lab report: {lab.start(req, ui)}")
    return 0


def cmd_compare(a, ui) -> int:
    from .analysis.compare import compare_runs, verdicts
    from .report.compare import render_many, render_pair
    from .ui import print_json

    if a.more:
        from .analysis.compare_many import compare_many

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
        print(render_pair(results, f"{a.run_a} vs {a.run_b}").markdown())
    return 0


def cmd_report(a, ui) -> int:
    from .analysis import analyse as analysis
    from .report import run_report as report
    from .results.rundir import RunDir

    rd = RunDir(Path(a.run_dir))
    if a.baseline:
        from .results.files import read_json
        from .analysis.regression import preflight

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
    from .core.config import known_names, load_target

    for name, path in known_names("targets").items():
        t = load_target(str(path))
        print(f"{name:14} {t.kind:6} {t.description}")
    return 0


def cmd_doctor(a, ui) -> int:
    from .doctor import doctor

    return doctor(a.target, a.install_runtime)


COMMANDS = {"bench": cmd_bench, "compare": cmd_compare, "report": cmd_report, "sweep": cmd_sweep,
            "explain": cmd_explain, "recipes": cmd_recipes, "targets": cmd_targets, "doctor": cmd_doctor, "lab": cmd_lab}


def _terminated(signum, frame) -> None:
    """SIGTERM ends a run like Ctrl-C: finished batches kept, run.json says failed."""
    raise KeyboardInterrupt("SIGTERM")


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a path that is not UTF-8 prints as \xNN, never a traceback
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    a = parser().parse_args(argv)
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
    except BrokenPipeError:  # `harness … | head`: the reader left; what was measured is already on disk
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
        return 141  # as a shell reports a pipe's writer ended by SIGPIPE
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)
