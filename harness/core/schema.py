"""YAML → frozen dataclasses, checked: unknown keys, wrong types and values out of their declared
range (`opt(...)` on a field) are ConfigErrors naming file and key. The project's own files
(targets/, configs/) and their dataclasses are in config.py; driver options use this directly."""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import ConfigError


def read_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping from `path`, or a ConfigError saying what is wrong with the file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); "
                          "save the file as UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}:{line} is not valid YAML ({getattr(e, 'problem', e)})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level")
    return data


SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+-]{0,99}")


def is_safe_name(name: str) -> bool:
    """A name that is one plain file name everywhere: no separator, no `..`, no control character."""
    return bool(SAFE_NAME.fullmatch(name)) and ".." not in name


def safe_name(text: str) -> str:
    """`text` reduced to a safe name (file stems the user did not choose as names, e.g. MODELS=)."""
    name = re.sub(r"[^A-Za-z0-9._+-]", "_", text)[:100].replace("..", "__")
    return name if is_safe_name(name) else f"_{name}"[:100]


@dataclass(frozen=True)
class Check:
    """The allowed values of one field, declared once with `opt(...)` and enforced by load_dataclass."""

    min: float | None = None  # inclusive
    max: float | None = None  # inclusive
    above: float | None = None  # exclusive lower bound (timeouts: > 0)
    choices: tuple = ()
    name: bool = False  # a plain name: it becomes part of file paths
    hint: str = ""  # what the value means, for the message

    def problem(self, value: Any) -> str | None:
        """Why `value` is not allowed, or None."""
        if value is None or isinstance(value, bool):
            return None
        if self.choices and value not in self.choices:
            return f"choose one of {', '.join(map(str, self.choices))}"
        if self.name and isinstance(value, str) and not is_safe_name(value):
            return "not a plain name: use letters, digits, '.', '_', '+', '-' (no '/', '..' or control characters)"
        if not isinstance(value, (int, float)):
            return None
        if self.above is not None and not value > self.above:
            return f"must be > {self.above:g}"
        if self.min is not None and value < self.min:
            return f"must be >= {self.min:g}"
        if self.max is not None and value > self.max:
            return f"must be <= {self.max:g}"
        return None


def opt(default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING, **check: Any) -> Any:
    """A dataclass field with its allowed values, e.g. `batch: int = opt(8, min=1, max=10_000)`."""
    return field(default=default, default_factory=factory, metadata={"check": Check(**check)})


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (tuple, list):
        args = typing.get_args(hint)
        return isinstance(value, (list, tuple)) and all(_type_ok(v, args[0]) for v in value)
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    return isinstance(value, hint)


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def load_dataclass(cls: type, data: Mapping[str, Any] | None, where: str) -> Any:
    """Build frozen dataclass `cls` from `data`; `where` is 'file: key.path' for messages.

    Nested dataclass fields are built recursively; lists become tuples.
    """
    data = dict(data or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    checks = field_checks(cls)
    unknown = sorted(set(data) - set(fields), key=str)
    if unknown:
        raise ConfigError(f"{where}: unknown key {str(unknown[0])[:60]!r}; allowed: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{where}: missing required key {name!r}")
            continue
        kwargs[name] = _convert(data[name], hints[name], f"{where}.{name}")
        check_value(checks.get(name), kwargs[name], f"{where}.{name}")
    return cls(**kwargs)


def field_checks(cls: type) -> dict[str, Check]:
    """The opt() rule of every field, inherited: a subclass that only changes a default keeps the range."""
    checks: dict[str, Check] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            checks.update({f.name: f.metadata["check"] for f in dataclasses.fields(klass) if "check" in f.metadata})
    return checks


def check_value(check: Check | None, value: Any, where: str) -> None:
    """ConfigError when `value` breaks the range or choices of `check`."""
    why = check.problem(value) if check else None
    if why:
        hint = f" ({check.hint})" if check.hint else ""
        raise ConfigError(f"{where}: {short(value)} is not allowed: {why}{hint}")


def short(value: Any) -> str:
    """A value for a one-line message: repr, cut to a readable length."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _convert(value: Any, hint: Any, where: str) -> Any:
    inner = [h for h in typing.get_args(hint) if h is not type(None)]
    target = inner[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(inner) == 1 else hint
    if dataclasses.is_dataclass(target) and isinstance(value, dict):
        return load_dataclass(target, value, where)
    if typing.get_origin(target) is tuple and isinstance(value, list):
        (item,) = typing.get_args(target)[:1]
        if dataclasses.is_dataclass(item):
            return tuple(_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value))
        value = tuple(value)
    if not _type_ok(value, hint):
        raise ConfigError(f"{where}: expected {_type_name(hint)}, got {type(value).__name__} {short(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: expected a finite number, got {value!r}")
    if isinstance(value, str) and "\0" in value:
        raise ConfigError(f"{where}: contains a NUL character")
    return value


def whole_number(value: int | str | None, name: str, low: int, high: int, what: str) -> int | None:
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
