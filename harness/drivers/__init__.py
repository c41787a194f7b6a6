"""Driver registry: a kind of target is one module here, registered by name.

Modules are imported on first use so that, e.g., the host target never imports paramiko.
"""

from __future__ import annotations

import importlib

from ..core.config import TargetConfig, load_dataclass, load_target
from ..errors import ConfigError
from .base import Driver

_MODULES = {
    "host": "harness.drivers.host",
    "mcu": "harness.drivers.mcu",
    "qemu": "harness.drivers.qemu",
    "ssh": "harness.drivers.ssh.driver",
    "fake": "harness.drivers.fake",
    "eembc": "harness.drivers.eembc.driver",
    "qemu-eembc": "harness.drivers.eembc.qemu",
    "eembc-fake": "harness.drivers.eembc.fake",
    "labgrid": "harness.drivers.labgrid.driver",
}
_REGISTRY: dict[str, type[Driver]] = {}


def register(kind: str):
    """Class decorator: make a Driver subclass available under `kind`."""

    def wrap(cls: type[Driver]) -> type[Driver]:
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return wrap


def driver_class(kind: str, where: str = "") -> type[Driver]:
    """The Driver class for `kind`; ConfigError naming the known kinds otherwise."""
    if kind not in _REGISTRY and kind in _MODULES:
        importlib.import_module(_MODULES[kind])
    if kind not in _REGISTRY:
        known = ", ".join(sorted(_MODULES))
        raise ConfigError(f"{where}unknown target kind {kind!r}; known kinds: {known}")
    return _REGISTRY[kind]


def check_options(target: TargetConfig) -> None:
    """The target file's kind and `options:` checked against its driver's options class (types, ranges)."""
    cls = driver_class(target.kind, f"{target.path or target.name}: ")
    if cls.options_class is not None:
        load_dataclass(cls.options_class, target.options, f"{target.path or target.name}: options")


def load_checked(name_or_path: str) -> TargetConfig:
    """targets/<name>.yaml (or a path), with its options validated before anything runs."""
    target = load_target(name_or_path)
    check_options(target)
    return target
