"""The driver registry: a kind is named once, in its @register("kind"), found without importing
anything, and imported only when used (the host target never loads paramiko or labgrid)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from harness.drivers import driver_class, kinds
from harness.errors import ConfigError
from tests.common import ROOT


def test_every_registered_kind_is_found_and_is_its_class():
    found = kinds()
    assert {"host", "mcu", "qemu", "ssh", "fake", "labgrid", "eembc", "qemu-eembc", "eembc-fake"} <= set(found)
    for kind in found:
        assert driver_class(kind).kind == kind


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown target kind 'nope'; known kinds: .*\bqemu\b.*\bssh\b"):
        driver_class("nope")


def test_a_kind_imports_only_its_own_module():
    code = ("import sys; from harness.drivers import driver_class; driver_class('host'); "
            "print(sorted(m for m in ('paramiko', 'labgrid', 'serial') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr
