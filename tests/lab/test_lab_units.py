"""The lab's pieces without a lab: parsing labgrid's output, place selection, URLs, options, errors."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys

import pytest

from harness.core.config import TargetConfig
from harness.drivers import driver_class
from harness.drivers.labgrid.client import coordinator_address, parse_places
from harness.drivers.labgrid.place import board_access, safe_name, serial_url
from harness.errors import ConfigError
from harness.run.lab import matches
from harness.report.compare import pct

from .conftest import ROOT

PLACES = """Place 'lab-m4-1':
  tags: board=mps2-an386, cpu=cortex-m4
  matches:
    lab-exp1/lab-m4-1/*
  acquired: vm/root
  acquired resources:
    lab-exp1/lab-m4-1/NetworkSerialPort/NetworkSerialPort
  created: 2026-11-30 05:11:02.812302
  changed: 2026-11-30 05:11:05.325686
Place 'stm32-01':
  comment: the blue one
  matches:
    exp2/stm32/*
  acquired: None
  acquired resources:
  created: 2026-11-30 05:11:02.812302
  changed: 2026-11-30 05:11:04.257717
  reservation: ABCDEF
"""


def test_one_serial_module_from_pyserial_labgrid():
    """labgrid's fork provides `serial`; pyserial itself is not installed beside it."""
    import serial

    assert importlib.metadata.packages_distributions()["serial"] == ["pyserial-labgrid"]
    assert serial.__version__.startswith("3.5.0")
    with pytest.raises(importlib.metadata.PackageNotFoundError):
        importlib.metadata.distribution("pyserial")


def test_parse_places_and_select():
    places = parse_places(PLACES)
    a, b = places["lab-m4-1"], places["stm32-01"]
    assert a.tags == {"board": "mps2-an386", "cpu": "cortex-m4"} and a.acquired == "vm/root"
    assert a.matches == ("lab-exp1/lab-m4-1/*",) and b.acquired is None and b.reservation == "ABCDEF"
    assert matches(a, ("board=mps2-*",)) and not matches(b, ("board=mps2-*",))
    assert matches(b, ("stm32-*",)) and matches(a, ("lab-*", "cpu=cortex-m4")) and not matches(a, ("cpu=*m7",))


def test_serial_urls_and_resources():
    assert serial_url("NetworkSerialPort", {"host": "h", "port": 5, "protocol": "raw"}) == "socket://h:5"
    assert serial_url("NetworkSerialPort", {"host": "h", "port": 5}) == "rfc2217://h:5?ign_set_control"
    assert serial_url("USBSerialPort", {"port": "/dev/ttyACM0"}) == "/dev/ttyACM0"
    acc = board_access([("NetworkService", {"address": "10.0.0.7", "username": "pi"})], "pi-01")
    assert acc.ssh == {"host": "10.0.0.7", "user": "pi", "port": 22} and not acc.serial_url
    assert safe_name("../../etc") == "_.._etc" and safe_name("127.0.0.1:20408") == "127.0.0.1_20408"
    with pytest.raises(ConfigError, match=r"no serial port.*\(NetworkPowerPort\)"):
        board_access([("NetworkPowerPort", {"model": "simplerest"})], "p")


def test_coordinator_address(monkeypatch):
    monkeypatch.delenv("LG_COORDINATOR", raising=False)
    assert coordinator_address(None) == "127.0.0.1:20408"
    assert coordinator_address("lab.example:1234") == "lab.example:1234"
    monkeypatch.setenv("LG_COORDINATOR", "ci-coord")
    assert coordinator_address(None) == "ci-coord:20408"
    with pytest.raises(ConfigError, match="must be a number"):
        coordinator_address("host:abc")


def test_options_checked_on_load():
    cls = driver_class("labgrid")
    with pytest.raises(ConfigError, match="flash: 'sometimes' is not allowed: choose one of auto, always, never"):
        cls(TargetConfig(kind="labgrid", name="t", options={"place": "p", "flash": "sometimes"}))
    with pytest.raises(ConfigError, match="unknown key 'plaec'"):
        cls(TargetConfig(kind="labgrid", name="t", options={"plaec": "p"}))
    with pytest.raises(ConfigError, match="options.place is empty"):
        cls(TargetConfig(kind="labgrid", name="t", options={})).open()


def test_percent_is_never_rounded_up_to_100():
    assert pct(100.0) == "100" and pct(99.99999) == "99.999" and pct(None) == "–"


def test_lab_cli_errors_are_one_line(tmp_path):
    """No coordinator: exit 2, one line naming it and what to do; a bad config fails before that."""
    env_cmd = [sys.executable, "-m", "harness", "lab", "--places", "board=*", "--coordinator", "127.0.0.1:1",
               "--results", str(tmp_path)]
    r = subprocess.run(env_cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "127.0.0.1:1 is not reachable" in r.stderr
    r = subprocess.run(env_cmd + ["--config", "no-such-config"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "unknown config 'no-such-config'" in r.stderr and "Traceback" not in r.stderr
    r = subprocess.run(env_cmd + ["--count", "-1"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--count and --wait must be >= 0" in r.stderr and "Traceback" not in r.stderr


def test_fanout_pool_waits_for_a_held_place_then_gives_up():
    """A place someone holds: the lab says whom it waits for, then the slot is `not run` with why."""
    from harness.drivers.labgrid.client import PlaceState
    from harness.run.lab import PlacePool

    class HeldLab:  # stands in for the coordinator: one place, held by a colleague throughout
        def places(self):
            return {"a": PlaceState("a", acquired="ci-host/colleague")}

    said: list[str] = []
    name, why = PlacePool(HeldLab(), ["a"], 1.0, said.append).take()
    assert name is None and "no place free within 1 s: a (held by ci-host/colleague)" in why
    assert said == ["waiting up to 1 s for a place: a (held by ci-host/colleague)"]
