"""pytest plugin (entry point pytest11 `harness`): lab regression suites as ordinary pytest tests.

    pytest lab_tests/ --harness-place lab-m4-1 [--harness-coordinator HOST:PORT] --junitxml=junit.xml
    pytest lab_tests/ --harness-target qemu-m4          # any target file
    pytest lab_tests/ --lg-env env.yaml                 # labgrid's plugin: its target's serial port

    def test_kws(bench):
        r = bench("models/kws.tflite", float_model="models/kws_float.tflite", runs=100)
        r.require(max_lsb=0, min_exact_pct=100)
        r.check_baseline(f"{r.board}-kws.json", max_latency_increase_pct=5)  # in --harness-baselines

`bench(...)` runs one bench (harness/run/bench.py: journaled batches, host references) and returns a
lab_result.BenchResult; its figures become junit properties (`<model>.p50_us`, …). With
--harness-place the place is acquired once for the session and released at its end. Without
any of the three options the `bench` fixture skips, so the plugin is inert in other suites.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import yaml

from .run.lab_result import BenchResult

SERIAL_CLASSES = ("NetworkSerialPort", "USBSerialPort", "RawSerialPort")


def pytest_addoption(parser) -> None:
    g = parser.getgroup("harness", "on-device benchmarks (harness pytest plugin)")
    g.addoption("--harness-target", help="target file (targets/<name>.yaml or a path) the bench fixture runs on")
    g.addoption("--harness-place", help="a labgrid place the bench fixture runs on (acquired for the session)")
    g.addoption("--harness-coordinator", help="labgrid coordinator HOST[:PORT] (default LG_COORDINATOR)")
    g.addoption("--harness-wait", type=float, default=0.0, help="seconds to wait for a place someone holds")
    g.addoption("--harness-results", default="results/pytest", help="results folder (default results/pytest)")
    g.addoption("--harness-baselines", default="baselines", help="folder of baseline files (default baselines/)")
    g.addoption("--harness-update-baselines", action="store_true", help="write baselines instead of checking")


class HarnessSession:
    """What the session's bench runs on; the place lock when there is one."""

    def __init__(self, config, request) -> None:
        self.results = Path(config.getoption("harness_results")) / time.strftime("%Y%m%d-%H%M%S")
        self.update = config.getoption("harness_update_baselines")
        self.baselines = Path(config.getoption("harness_baselines"))
        self.lock = None
        self.count = 0
        self.target = self._target(config, request)

    def _write(self, name: str, doc: dict) -> str:
        from .drivers.labgrid.place import safe_name

        path = self.results / "targets" / f"{safe_name(name)}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return str(path)

    def _target(self, config, request) -> str | None:
        if config.getoption("harness_target"):
            return config.getoption("harness_target")
        place = config.getoption("harness_place")
        if place:
            return self._place(place, config)
        if getattr(config.option, "lg_env", None):
            return self._labgrid_env(request.getfixturevalue("target"))
        return None

    def _place(self, place: str, config) -> str:
        from .drivers.labgrid.client import LabgridClient
        from .drivers.labgrid.place import PlaceLock

        client = LabgridClient(config.getoption("harness_coordinator"))
        state = str(Path(config.getoption("harness_results")) / ".labgrid")
        self.lock = PlaceLock(client, place, state, config.getoption("harness_wait")).acquire()
        return self._write(place, {"kind": "labgrid", "description": f"labgrid place {place} (pytest)",
                                   "options": {"place": place, "coordinator": client.address, "state_dir": state}})

    def _labgrid_env(self, lg_target) -> str:
        """labgrid's --lg-env target: its serial resource as a kind-mcu target."""
        from .drivers.labgrid.place import serial_url

        for res in lg_target.resources:
            cls = type(res).__name__
            if cls in SERIAL_CLASSES:
                params = {k: getattr(res, k, None) for k in ("host", "port", "protocol", "speed")}
                return self._write(lg_target.name, {"kind": "mcu", "description": f"labgrid target {lg_target.name}",
                                          "options": {"url": serial_url(cls, params),
                                                      "baud": int(params.get("speed") or 115200)}})
        pytest.fail(f"labgrid target {lg_target.name}: no serial resource ({', '.join(SERIAL_CLASSES)})")

    def run(self, model: str, float_model: str | None, dataset: str | None, runs: int, name: str | None) -> BenchResult:
        from .run import bench
        from .ui import UI

        self.count += 1
        entry = {"path": str(Path(model).resolve())}
        entry.update({k: str(Path(v).resolve()) for k, v in (("float", float_model), ("dataset", dataset)) if v})
        if name:
            entry["name"] = name
        refs = ["tflm", "float"] if float_model else ["tflm"]
        cfg = self.results / "configs" / f"bench-{self.count:03d}.yaml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(yaml.safe_dump({"models": [entry], "runs": runs, "warmup": 1, "batch": min(runs, 50),
                                       "references": refs}, sort_keys=False))
        run_dir = bench.start(bench.Request(target=self.target, config=str(cfg), results=str(self.results / "runs")),
                              UI(quiet=True))
        return BenchResult.from_run(run_dir)

    def close(self) -> None:
        if self.lock is not None:
            self.lock.release()


@pytest.fixture(scope="session")
def harness_session(request):
    session = HarnessSession(request.config, request)
    yield session
    session.close()


@pytest.fixture
def bench(harness_session, record_property):
    """bench(model, float_model=None, dataset=None, runs=50, name=None) -> BenchResult (junit properties)."""
    if harness_session.target is None:
        pytest.skip("no lab target: give --harness-target, --harness-place or labgrid's --lg-env")

    def run(model: str, float_model: str | None = None, dataset: str | None = None, runs: int = 50,
            name: str | None = None) -> BenchResult:
        result = harness_session.run(model, float_model, dataset, runs, name)
        result = dataclasses.replace(result, update_baselines=harness_session.update,
                                     baselines=str(harness_session.baselines))
        for key, value in result.properties().items():
            record_property(f"{result.model}.{key}", value)
        return result

    return run
