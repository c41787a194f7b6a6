"""The Driver ABC every kind of target implements, and the data it returns.

A driver does no I/O in its constructor: open() connects, load() pushes a model,
run() times inferences on the device, close() releases everything.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..core.config import TargetConfig
from ..core.tensors import TensorSpec
from ..errors import TargetError


@dataclass(frozen=True)
class TargetInfo:
    """Facts about the opened target, recorded in run.json."""

    name: str
    kind: str
    board: str
    cpu: str
    time_unit: str  # "ns" (wall clock on the device), "cycles" or "instructions"
    clock_hz: int | None = None
    boot_id: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    memory: dict[str, int] = field(default_factory=dict)  # firmware_{text,data,bss}_bytes (core/elf.py)

    def ticks_to_ns(self, ticks: np.ndarray) -> np.ndarray:
        """Per-inference ticks → ns (cycles / clock for MCUs)."""
        ticks = np.asarray(ticks, dtype=np.int64)
        if self.time_unit == "ns":
            return ticks
        if not self.clock_hz:
            raise TargetError(f"target {self.name}: no clock_hz to convert {self.time_unit} to time")
        return (ticks.astype(np.float64) * 1e9 / self.clock_hz).round().astype(np.int64)


@dataclass(frozen=True)
class LoadInfo:
    """What the target said about a loaded model."""

    sha256: str
    load_time_s: float
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    notes: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)  # e.g. arena bytes used


@dataclass
class RunResult:
    """Raw outputs of n inferences: one [n, ...] array per output tensor."""

    outputs: list[np.ndarray]
    ticks: np.ndarray  # int64 [n], in TargetInfo.time_unit, measured on the device
    retries: int = 0  # frames re-sent by the link layer, for the report
    op_ticks: np.ndarray | None = None  # int64 [n, ops] per-op ticks, when the target profiles
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # more [n, ...] arrays for outputs/<model>.npz


class Watcher:
    """Told about long steps while they go on, so that the user sees them (the bench's progress
    display, ui.RunProgress, implements it; this default tells no one). Calls are cheap and frequent."""

    def phase(self, text: str) -> None:
        """A step starts: "boot", "upload", "run" …"""

    def uploaded(self, done: int, total: int) -> None:
        """`done` of a model's `total` bytes are sent (0 when the upload starts)."""

    def inferences(self, n: int) -> None:
        """n more inferences of the current run() are finished."""


class Driver(ABC):
    """One kind of target. Subclasses register with @register("kind")."""

    kind: str = ""
    options_class: type | None = None  # the dataclass of targets/*.yaml `options:` (ranges declared with opt())
    watcher: Watcher = Watcher()  # the bench sets its own; run() reports inferences as they finish

    def __init__(self, target: TargetConfig) -> None:
        self.target = target

    def _inferred(self, n: int) -> None:
        """For the protocol client: inferences finish one by one, the watcher of the moment hears them."""
        self.watcher.inferences(n)

    def preflight(self) -> None:
        """Check the files the target options name (no connection): before a run directory exists."""

    @abstractmethod
    def open(self) -> TargetInfo:
        """Connect and say what the target is."""

    @abstractmethod
    def load(self, model: bytes, name: str) -> LoadInfo:
        """Push a model and make it ready to run."""

    @abstractmethod
    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        """Run one inference per row of the inputs (one [n, ...] array per input tensor)."""

    def tensors(self, inputs: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
        """Intermediate tensors (index → raw array) for one sample; per-layer drift."""
        raise TargetError(f"target {self.target.name}: kind {self.kind} cannot read intermediate tensors")

    def memory(self) -> dict[str, int]:
        """Memory the current model took, measured after its inferences (docs/results.md):
        arena_used_bytes / arena_bytes on MCUs, peak_rss_bytes where a process ran it."""
        return {}

    def figures(self, inputs: Sequence[np.ndarray]) -> dict:
        """Figures this kind of target measures its own way once a model's inferences are done
        (eembc: the MLPerf Tiny runner's performance windows); recorded in run.json."""
        return {}

    @abstractmethod
    def close(self) -> None:
        """Release the target; safe to call twice."""

    def __enter__(self) -> "Driver":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
