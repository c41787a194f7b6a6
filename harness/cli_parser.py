"""The command line's grammar: every subcommand and option of `python -m harness` (cli.py runs them)."""

from __future__ import annotations

import argparse

EPILOG = ("exit codes: 0 ok, 1 regression against the baseline, 2 bad input or target error. "
          "`make bench` passes TARGET, CONFIG, MODELS and RUNS as HB_TARGET, HB_CONFIG, HB_MODELS, HB_RUNS.")


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, exit 2, like every other bad input."""

    def error(self, message: str):
        self.exit(2, f"error: {self.prog}: {message}; see `{self.prog} --help`\n")


def parser() -> argparse.ArgumentParser:
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


def _add_recipes(sub) -> None:
    from .results.recipes import RECIPES

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
