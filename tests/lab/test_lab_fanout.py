"""`harness lab` fan-out, `compare` of N runs, the pytest plugin against a place, and an exporter
killed mid-run (the job moves to a spare place; the failed attempt keeps its batches).

One lab for the module: a Cortex-M4 (ser2net RFC 2217) on exporter f-exp1 and a Cortex-M7 (raw
TCP) on exporter f-exp2. The exporter test runs last: it takes f-exp1 and its board down.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from harness.locallab.lab import BoardSpec
from harness.report.lab import measured
from harness.results.files import read_json

from .conftest import MODEL, ROOT, batches, cli, holder, start_lab, stop_lab, wait_for

pytestmark = [pytest.mark.lab, pytest.mark.qemu]
M4, M7 = "f-m4", "f-m7"


@pytest.fixture(scope="module")
def lab():
    local = start_lab([BoardSpec(M4, "mps2-an386", "mps2-an386", "rfc2217", exporter="f-exp1"),
                       BoardSpec(M7, "mps2-an500", "mps2-an500", "raw", exporter="f-exp2")])
    yield local
    stop_lab(local)


def _config(tmp: Path, runs: int, batch: int) -> Path:
    path = tmp / "cfg.yaml"
    path.write_text(yaml.safe_dump({"models": [{"path": str(MODEL)}], "runs": runs, "batch": batch, "warmup": 1,
                                    "references": ["tflm"]}))
    return path


def _lab_args(lab, tmp: Path, cfg: Path, *extra: str) -> list[str]:
    return ["lab", "--places", "board=mps2-*", "--coordinator", lab.coordinator, "--config", str(cfg),
            "--results", str(tmp / "results"), *extra]


def test_fanout_on_two_boards_then_compare_n_runs(lab, tmp_path):
    p = cli(*_lab_args(lab, tmp_path, _config(tmp_path, 40, 20)))
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    report = Path(out.strip().splitlines()[-1].split("lab report: ")[1])
    meta = read_json(report.parent / "lab.json")
    assert [a["status"] for a in meta["attempts"]] == ["complete", "complete"]
    assert sorted(meta["boards"]) == [M4, M7]
    across = meta["across"][MODEL.stem]
    assert across["identical_groups"] == [[M4, M7]] and across["exact_pct"][0][1] == 100.0
    text = report.read_text()
    assert "All runs computed identical bytes." in text and "| f-m7 | mps2-an500 | cortex-m7 |" in text
    for run in meta["boards"].values():
        vs = read_json(Path(run) / "metrics.json")[MODEL.stem]["tensors"]["outputs_0"]["vs"]["tflm"]
        assert vs["max_abs"] == 0 and vs["exact_pct"] == 100.0
    assert holder(lab, M4) is None and holder(lab, M7) is None
    runs = [meta["boards"][M4], meta["boards"][M7], meta["boards"][M4]]
    r = subprocess.run([sys.executable, "-m", "harness", "compare", *runs], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "All runs computed identical bytes." in r.stdout, r.stderr


def _acquisitions(lab, place: str) -> int:
    """How often the coordinator logged the place acquired."""
    return (lab.dir / "coordinator.log").read_text().count(f"{place}: place acquired by")


def test_pytest_plugin_suite_on_a_place(lab, tmp_path):
    """The example suite (docs/lab.md) as ordinary pytest tests; junit.xml carries the figures."""
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    (baselines / "mps2-an500-conv2d.json").write_text(json.dumps(
        {"exact_pct": 100.0, "max_lsb": 0, "p50_us": 1e9, "swapped_pct": None}))
    junit = tmp_path / "junit.xml"
    before = _acquisitions(lab, M7)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
                        str(ROOT / "tests" / "lab" / "plugin_suite" / "check_lab_regression.py"),
                        "--harness-place", M7, "--harness-coordinator", lab.coordinator,
                        "--harness-results", str(tmp_path / "results"), "--harness-baselines", str(baselines),
                        f"--junitxml={junit}"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    props = {p.get("name"): p.get("value") for p in ET.parse(junit).iter("property")}
    assert props["conv2d_valid_s1.exact_pct"] == "100.0" and props["conv2d_valid_s1.max_lsb"] == "0"
    assert float(props["conv2d_valid_s1.p50_us"]) > 0 and props["conv2d_valid_s1.place"] == M7
    assert "digits_int8.swapped_pct" in props and props["digits_int8.board"] == "mps2-an500"
    assert len(list((tmp_path / "results").rglob("run.json"))) == 2
    assert _acquisitions(lab, M7) == before + 1, "the place is acquired once for the whole session"
    assert holder(lab, M7) is None


def test_ctrl_c_stops_the_fanout_and_releases_every_place(lab, tmp_path):
    results = tmp_path / "results"
    p = cli(*_lab_args(lab, tmp_path, _config(tmp_path, 300, 20)))
    wait_for(lambda: batches(results) >= 2 or p.poll() is not None, 120, "first batches on both boards")
    os.killpg(p.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the lab and its workers
    out, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    meta = read_json(next(results.glob("lab/*/lab.json")))
    assert meta["status"] == "interrupted" and {a["status"] for a in meta["attempts"]} == {"interrupted"}
    assert holder(lab, M4) is None and holder(lab, M7) is None


def test_exporter_killed_mid_run_moves_the_job_to_a_spare(lab, tmp_path):
    """--count 1 with two matching places: f-m4's exporter host goes down (exporter and board killed)
    mid-run; the run there fails with a clear error and keeps its batches; the job reruns on f-m7.

    Mid-run by construction: the kill follows the first journaled batch at once (polled every 20 ms),
    nothing slow in between; the job's other 7 batches (~0.3 s each) are the margin. A labgrid-client
    query in between (0.5 s idle, 1.5 s on a loaded machine) once let the job finish before the kill;
    that the lab held f-m4 is read from the coordinator's log afterwards instead."""
    runs, batch = 160, 20
    results = tmp_path / "results"
    held_before = _acquisitions(lab, M4), _acquisitions(lab, M7)
    p = cli(*_lab_args(lab, tmp_path, _config(tmp_path, runs, batch), "--count", "1"))
    wait_for(lambda: batches(results) >= 1 or p.poll() is not None, 120, "a first batch on f-m4", poll=0.02)
    lab.kill("f-exp1")
    lab.kill(f"board-{M4}")
    at_kill = batches(results)
    out, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    meta = read_json(Path(out.strip().splitlines()[-1].split("lab report: ")[1]).parent / "lab.json")
    assert len(meta["attempts"]) == 2, (f"the kill did not land mid-run ({at_kill} of {runs // batch} batches "
                                        f"journaled at the kill): {meta['attempts']}")
    first, second = meta["attempts"]
    assert (_acquisitions(lab, M4), _acquisitions(lab, M7)) == (held_before[0] + 1, held_before[1] + 1)
    assert first["place"] == M4 and first["status"] == "failed" and first["board_failed"]
    assert f"labgrid place {M4}" in first["error"] and "exporter" in first["error"], first["error"]
    assert read_json(Path(first["run_dir"]) / "run.json")["status"].startswith("failed: ")
    assert measured(first["run_dir"]) >= 20, "the batches measured before the failure are kept"
    assert second["place"] == M7 and second["status"] == "complete" and list(meta["boards"]) == [M7]
    assert holder(lab, M7) is None
