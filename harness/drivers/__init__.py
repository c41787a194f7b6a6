"""Driver registry: a kind of target is one class decorated with @register("kind"), and that is
the only place a kind is named.

The modules are found by reading the decorators in this package's sources (ast, no import) and
imported on first use of their kind, so that, e.g., the host target never imports paramiko.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path

from ..core.config import TargetConfig, load_target

from ..core.schema import load_dataclass
from ..errors import ConfigError
from .base import Driver

_REGISTRY: dict[str, type[Driver]] = {}


def register(kind: str):
    """Class decorator: make a Driver subclass available under `kind`."""

    def wrap(cls: type[Driver]) -> type[Driver]:
        cls.kind = kind
        _REGISTRY[kind] = cls
        return cls

    return wrap


@functools.cache
def kinds() -> dict[str, str]:
    """{kind: module} of every @register("kind") in this package's sources, read without importing them."""
    here = Path(__file__).resolve().parent
    found = {}
    for path in sorted(here.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for dec in getattr(node, "decorator_list", ()):
                if (isinstance(dec, ast.Call) and getattr(dec.func, "id", "") == "register" and dec.args
                        and isinstance(dec.args[0], ast.Constant)):
                    rel = path.relative_to(here).with_suffix("")
                    found[dec.args[0].value] = ".".join((__name__, *rel.parts))
    return found


def driver_class(kind: str, where: str = "") -> type[Driver]:
    """The Driver class for `kind`; ConfigError naming the known kinds otherwise."""
    if kind not in _REGISTRY and kind in kinds():
        importlib.import_module(kinds()[kind])
    if kind not in _REGISTRY:
        raise ConfigError(f"{where}unknown target kind {kind!r}; known kinds: {', '.join(sorted(kinds()))}")
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
