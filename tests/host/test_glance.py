"""The answer at a glance (issue #16, terminal half): the summary table and `--json` at the end of a
bench, the overall verdict and the baseline outcome, float twins for --models, memory figures, and
progress that third-party prints cannot break. Real runs on the host and qemu-m4 targets."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from harness.analysis.verdict import summarise
from harness.core import elf
from harness.run.twins import twin_candidates
from harness.ui import UI, RunProgress
from tests.common import MODELS, run_cli, shared_model

ADD = MODELS / "ops" / "add.tflite"
DIGITS = MODELS / "digits_int8.tflite"


def _json(r: subprocess.CompletedProcess) -> dict:
    assert r.stdout.lstrip().startswith("{"), (r.stdout, r.stderr)
    return json.loads(r.stdout)


def test_json_summary_pairs_float_twins_and_skips_lonely_floats(tmp_path):
    """MODELS= with a glob: digits_int8 gets digits_float by name, a float model with no int8 model
    beside it is skipped with a note; stdout is one JSON document with every summary figure."""
    m = tmp_path / "m"
    m.mkdir()
    lonely, add = m / "lonely_float.tflite", m / "add.tflite"
    shutil.copy(MODELS / "digits_float.tflite", lonely)
    shutil.copy(ADD, add)
    shutil.copy(MODELS / "digits_float.tflite", m / "add_float.tflite")  # named like add's twin, is not
    r = run_cli("bench", "--json", "--runs", "12", "--results", str(tmp_path / "res"),
                env={"HB_MODELS": f"{MODELS}/digits_*.tflite {add} {lonely}"})  # MODELS= of make bench
    assert r.returncode == 0, r.stderr
    s = _json(r)
    assert s["overall"] == "PASS" and s["line"] == "PASS: bit-exact on 2/2 models", s["line"]
    by = {m["name"]: m for m in s["models"]}
    assert set(by) == {"digits_int8", "add"}
    d = by["digits_int8"]
    assert d["status"] == "BIT-EXACT" and d["exactness"]["elements"] == 120 and d["exactness"]["differing"] == 0
    assert d["float_swaps"]["samples"] == 12 and "top-1 vs float twin" in d["line"]
    assert d["memory"]["model_bytes"] == DIGITS.stat().st_size and d["memory"]["peak_rss_bytes"] > 1 << 20
    assert {"mean", "p50", "std"} <= set(d["latency_us"]) and s["baseline"] is None
    assert len(s["reports"]) == 2 and all(Path(p).is_file() for p in s["reports"])
    assert "float twin digits_float.tflite (found by name" in r.stderr
    assert f"{lonely}: skipped, a float model" in r.stderr
    assert "add.tflite: add_float.tflite is named like its float twin but is not one" in r.stderr
    meta = json.loads((Path(s["run_dir"]) / "run.json").read_text())
    assert meta["models"]["digits_int8"]["float"]["path"].endswith("digits_float.tflite")
    assert meta["models"]["add"]["memory"]["model_bytes"] == ADD.stat().st_size
    # tflite-runtime announces its XNNPACK delegate on fd 2 when it runs the float twin: that line
    # lands in the run directory, never on the terminal (where it broke the progress bar)
    assert "XNNPACK" not in r.stderr
    assert "XNNPACK" in (Path(s["run_dir"]) / "interpreters.log").read_text()


def test_float_option_and_its_errors(tmp_path):
    res = str(tmp_path / "res")
    r = run_cli("--quiet", "bench", "--runs", "5", "--results", res, "--models", str(ADD), str(DIGITS),
                "--float", str(MODELS / "digits_float.tflite"))
    assert r.returncode == 2 and "names the twin of one model" in r.stderr and len(r.stderr.splitlines()) == 1
    r = run_cli("--quiet", "bench", "--runs", "5", "--results", res, "--float", str(MODELS / "digits_float.tflite"))
    assert r.returncode == 2 and "--float" in r.stderr and "Traceback" not in r.stderr, r.stderr
    r = run_cli("--quiet", "bench", "--runs", "5", "--results", res, "--models", str(ADD), "--float",
                str(MODELS / "digits_float.tflite"))
    assert r.returncode == 2 and "do not match" in r.stderr, r.stderr  # checked like a config's `float:`


def test_table_and_regression_outcome(tmp_path):
    """A broken tolerance: exit 1, the table says REGRESSION with every broken check; --json too."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"runs: 10\nreferences: [tflm]\nmodels: [{{path: {ADD}}}]\n"
                   "tolerances: {max_lsb: 0, min_exact_pct: 100, max_swapped_pct: 0, max_latency_increase_pct: -100}\n")
    r = run_cli("bench", "--config", str(cfg), "--results", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr
    assert "PASS: bit-exact on 1/1 models" in r.stdout and "BIT-EXACT" in r.stdout, r.stdout
    base = next((tmp_path / "a").glob("host/*"))
    r = run_cli("bench", "--config", str(cfg), "--results", str(tmp_path / "b"), "--baseline", str(base))
    assert r.returncode == 1, r.stderr
    assert "REGRESSION: 1 tolerance(s) broken on 1/1 models" in r.stdout and "add: latency" in r.stdout, r.stdout
    run = next((tmp_path / "b").glob("host/*"))
    s = summarise(run).as_json()
    assert s["overall"] == "REGRESSION" and s["baseline"]["failed"] == 1 and s["baseline"]["checks"] == 4
    assert [t.split(" ")[0] for t in s["models"][0]["regressions"]] == ["latency"]
    c = _json(run_cli("compare", str(run), str(base), "--json"))
    assert c["verdicts"] == {"add": "bit-exact with run B (1 280 elements in 10 samples)"}
    assert c["models"]["add"]["exactness"]["differing"] == 0 and c["models"]["add"]["samples"] == 10


def test_qemu_summary_has_instructions_arena_and_firmware_sizes(tmp_path):
    r = run_cli("bench", "--json", "--target", "qemu-m4", "--runs", "4", "--models", str(ADD),
                "--results", str(tmp_path / "res"))
    assert r.returncode == 0, r.stderr
    s = _json(r)
    (m,) = s["models"]
    assert m["status"] == "BIT-EXACT" and m["ticks"]["unit"] == "instructions" and m["ticks"]["mean"] > 0
    mem = m["memory"]
    assert 0 < mem["arena_used_bytes"] <= mem["arena_bytes"] and mem["model_bytes"] == ADD.stat().st_size
    assert mem["firmware_text_bytes"] > 10_000 and mem["firmware_bss_bytes"] > mem["arena_used_bytes"]
    meta = json.loads((Path(s["run_dir"]) / "run.json").read_text())
    elf_path = Path(meta["target_config"]["options"].get("elf") or
                    Path(__file__).parents[2] / "firmware" / "build" / "mps2-an386" / "harness.elf")
    if shutil.which("arm-none-eabi-size"):  # the toolchain's own count agrees with ours
        out = subprocess.run(["arm-none-eabi-size", str(elf_path)], capture_output=True, text=True).stdout
        text, data, bss = (int(v) for v in out.splitlines()[1].split()[:3])
        assert (text, data, bss) == tuple(meta["target"]["memory"][f"firmware_{k}_bytes"] for k in ("text", "data", "bss"))
    assert "upload" in r.stderr  # QEMU's upload is not silent


def test_twin_name_rule_matches_the_shared_model_sets():
    def first(name: str) -> list[str]:
        return [p.name for p in twin_candidates(Path("/m") / name)]

    assert "kws_ref_model_float32.tflite" in first("kws_ref_model.tflite")
    assert "vww_96_float.tflite" in first("vww_96_int8.tflite")
    assert "ad01_fp32.tflite" in first("ad01_int8.tflite")
    assert "pretrainedResnet.tflite" in first("pretrainedResnet_quant.tflite")
    assert first("digits_int8.tflite")[:2] == ["digits_float32.tflite", "digits_float.tflite"]
    assert "kws_ref_model.tflite" not in first("kws_ref_model.tflite")  # never itself


def test_elf_sizes_of_something_else_are_empty(tmp_path):
    junk = tmp_path / "x.elf"
    junk.write_bytes(b"\x7fELF\x01\x01" + b"\0" * 10)
    assert elf.sizes(junk) == {} and elf.sizes(tmp_path / "missing") == {} and elf.sizes(ADD) == {}


def _console(terminal: bool) -> tuple[UI, io.StringIO]:
    buf = io.StringIO()
    ui = UI()
    ui.console = Console(file=buf, force_terminal=terminal, width=120, highlight=False)
    return ui, buf


def test_progress_counts_inferences_and_plain_lines_are_rate_limited():
    ui, buf = _console(terminal=False)
    with ui.run_progress(2) as p:
        assert isinstance(p, RunProgress)
        p.model(1, "add", 1000, phase="load")
        p.phase("run")
        for _ in range(1000):
            p.inferences(1)
        p.model(2, "kws", 10, phase="load")
    lines = buf.getvalue().splitlines()
    assert lines == ["model 1/2 add · load (1000)", "model 2/2 kws · load (10)"], lines
    assert p.done == 0 and p.index == 2


def test_progress_on_a_terminal_shows_model_phase_and_upload_rate():
    ui, buf = _console(terminal=True)
    with ui.run_progress(3) as p:
        p.model(2, "digits", 20, phase="load")
        p.phase("upload")
        p.uploaded(0, 1000)
        p.uploaded(1000, 1000)
        p._p.refresh()
        assert "model 2/3 digits · upload" in buf.getvalue() and "100 % at" in buf.getvalue()
        p.inferences(7)
        p._p.refresh()
        assert "7/20" in buf.getvalue() and "model 2/3 digits · run" in buf.getvalue()


def test_drift_unchecked_and_failed_verdicts(tmp_path):
    """A real drift (ad01 on tflite-runtime's optimized kernels differs from TFLM by 1 LSB), a run
    without the oracle (UNCHECKED), and a run that stopped before its analysis (FAILED)."""
    ad01 = shared_model("mlperf_tiny/ad01_int8.tflite")
    kws = shared_model("mlperf_tiny/kws_ref_model.tflite")
    r = run_cli("bench", "--json", "--runs", "10", "--models", str(ad01), str(kws), "--results", str(tmp_path / "a"))
    assert r.returncode == 0, r.stderr  # drift is an answer, not a failure
    s = _json(r)
    by = {m["name"]: m for m in s["models"]}
    assert s["overall"] == "DRIFT" and s["line"].startswith("DRIFT: 1/2 models differ from TFLM (max 1 LSB)")
    ex = by["ad01_int8"]["exactness"]
    assert by["ad01_int8"]["status"] == "DRIFT" and 0 < ex["differing"] < ex["elements"] and ex["max_lsb"] == 1
    assert by["kws_ref_model"]["float_swaps"]["random_inputs"] is True  # twin found by name
    assert "changed (random inputs)" in by["kws_ref_model"]["line"]
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"runs: 5\nreferences: [optimized]\nmodels: [{{path: {ADD}}}]\n")
    r = run_cli("bench", "--json", "--config", str(cfg), "--results", str(tmp_path / "b"))
    s = _json(r)
    assert r.returncode == 0 and s["overall"] == "UNCHECKED" and s["models"][0]["status"] == "UNAVAILABLE"
    run = Path(s["run_dir"])
    meta = json.loads((run / "run.json").read_text())
    meta["status"] = "failed: interrupted"
    (run / "run.json").write_text(json.dumps(meta))
    (run / "metrics.json").unlink()
    f = summarise(run)
    assert f.overall == "FAILED" and f.models[0].status == "FAILED" and "0/1 models measured" in f.line
