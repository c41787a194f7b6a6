"""Talking to the user: progress and messages on stderr (--quiet silences all but errors), the
summary of a run on stdout (a table, or JSON with --json)."""

from __future__ import annotations

import json
import math
import sys
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .analysis.figures import byte_size, number

if TYPE_CHECKING:
    from .analysis.verdict import Summary

PLAIN_EVERY_S = 10.0  # without a terminal: one progress line at most this often, plus one per model
PLAIN_PHASES = ("firmware build", "boot")  # … and these, which take seconds before anything else moves


class UI:
    """The one place that talks to the user while a run goes on."""

    def __init__(self, quiet: bool = False, stream=None) -> None:
        self.quiet = quiet
        self.console = Console(file=stream, stderr=stream is None, highlight=False)

    @property
    def live(self) -> bool:
        """A terminal that can redraw a bar in place."""
        return not self.quiet and self.console.is_terminal

    def say(self, msg: str) -> None:
        if not self.quiet:
            self.console.print(msg, markup=False)

    def warn(self, msg: str) -> None:
        self.console.print(f"warning: {msg}", style="yellow", markup=False, soft_wrap=True)  # one line

    @contextmanager
    def run_progress(self, models: int) -> Iterator["RunProgress"]:
        """Progress of a whole run: model i/N, its phase, inferences with rate and ETA."""
        if not self.live:
            yield RunProgress(self, None, models)
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.fields[rate]}"), TimeRemainingColumn())
        with Progress(*columns, console=self.console, transient=True) as p:
            yield RunProgress(self, p, models)


class RunProgress:
    """What the bench and the drivers report while they work (drivers/base.Watcher): a live bar on
    a terminal; otherwise plain lines, one per phase and at most one per PLAIN_EVERY_S in between."""

    def __init__(self, ui: UI, progress: Progress | None, models: int) -> None:
        self.ui, self._p, self.models = ui, progress, models
        self.index, self.name, self.total, self.done = 0, "", 0, 0
        self._phase, self._rate, self._task = "", "", None
        self._t0 = self._last_line = self._upload_t0 = time.monotonic()

    def model(self, index: int, name: str, total: int, done: int = 0, phase: str = "") -> None:
        """Model `index` of the run (0: a step without a number): `total` inferences (or samples),
        `done` of them already (a --resume)."""
        self.index, self.name, self.total, self.done, self._phase, self._rate = index, name, total, done, phase, ""
        self._t0 = time.monotonic()
        if self._p is not None:
            if self._task is not None:
                self._p.remove_task(self._task)
            self._task = self._p.add_task(self._label(), total=total or None, completed=done, rate="")
        elif not self.ui.quiet:
            self._last_line = time.monotonic()
            self.ui.say(self._label() + (f" ({total})" if total else ""))

    def phase(self, text: str) -> None:
        """boot, upload, run, references, analysis …"""
        self._phase, self._rate = text, ""
        self._update(force=text in PLAIN_PHASES)

    def uploaded(self, done: int, total: int) -> None:
        """Bytes of a model sent to the target so far."""
        if done == 0:
            self._upload_t0 = time.monotonic()
        rate = done / max(time.monotonic() - self._upload_t0, 1e-6)
        self._rate = f"{done * 100 // max(total, 1)} % at {byte_size(rate)}/s"
        self._update(force=done >= total)

    def inferences(self, n: int) -> None:
        """n more inferences finished."""
        self.done += n
        if self._phase.startswith("upload"):
            self._phase = "run"
        self._update()

    def _label(self) -> str:
        head = f"model {self.index}/{self.models} {self.name}" if self.index else self.name
        return head + (f" · {self._phase}" if self._phase else "")

    def _update(self, force: bool = False) -> None:
        if self._p is not None and self._task is not None:
            self._p.update(self._task, description=self._label(), completed=self.done, rate=self._rate)
            return
        now = time.monotonic()
        if self.ui.quiet or not (force or now - self._last_line >= PLAIN_EVERY_S):
            return
        self._last_line = now
        eta = ""
        if 0 < self.done < self.total:
            left = (now - self._t0) / self.done * (self.total - self.done)
            eta = f", about {left:.0f} s left"
        if self._rate:  # an upload: its own figures
            self.ui.say(f"{self._label()}: {self._rate}")
        else:
            self.ui.say(self._label() + (f": {self.done}/{self.total}{eta}" if self.total else ""))


def print_json(obj: object) -> None:
    """Machine-readable output: one strict JSON document on stdout (NaN and ±inf become null)."""
    from .results.files import jsonable

    sys.stdout.write(json.dumps(_finite(json.loads(json.dumps(obj, default=jsonable))), indent=2,
                                allow_nan=False) + "\n")


def _finite(o: object) -> object:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_finite(v) for v in o]
    return o


def print_summary(s: "Summary", width: int | None = None) -> None:
    """The answer at a glance on stdout: one line per model, the overall line, baseline and reports."""
    from rich.table import Table

    out = Console(highlight=False, width=width or (None if sys.stdout.isatty() else 150))
    unit = next((m.ticks["unit"] for m in s.models if m.ticks), None)
    t = Table(title=f"{s.target}: {s.run_dir}", title_justify="left", show_edge=False, pad_edge=False)
    for col in ("model", "verdict", "detail", "mean µs") + ((f"mean {unit}",) if unit else ()) + ("memory",):
        t.add_column(col, justify="right" if col.startswith("mean") else "left", overflow="fold")
    for m in s.models:
        row = [m.name, f"[{_STYLE[m.status]}]{m.status}[/]", m.line, number(m.latency_us.get("mean"))]
        if unit:
            row.append(number(m.ticks["mean"]) if m.ticks else "")
        t.add_row(*row, _memory(m.memory))
    out.print(t)
    firmware = _firmware(s)
    if firmware:
        out.print(firmware, markup=False)
    out.print(f"[{_STYLE[s.overall]}]{s.line}[/]", soft_wrap=True)
    if s.baseline is not None:
        out.print(s.baseline.line, markup=False, soft_wrap=True)
        for f in s.baseline.failures:
            out.print(f"  {f}", markup=False, soft_wrap=True)
    for r in s.reports:
        out.print(f"report: {r}", markup=False, soft_wrap=True)


_STYLE = {"PASS": "bold green", "BIT-EXACT": "green", "UNCHECKED": "bold yellow", "UNAVAILABLE": "yellow",
          "DRIFT": "bold yellow", "FAILED": "bold red", "REGRESSION": "bold red"}


def _memory(mem: dict) -> str:
    parts = []
    if "arena_used_bytes" in mem:
        parts.append(f"arena {byte_size(mem['arena_used_bytes'])}")
    if "peak_rss_bytes" in mem:
        parts.append(f"RSS {byte_size(mem['peak_rss_bytes'])}")
    if "model_bytes" in mem:
        parts.append(f"model {byte_size(mem['model_bytes'])}")
    return ", ".join(parts)


def _firmware(s: "Summary") -> str:
    mem = next((m.memory for m in s.models if "firmware_text_bytes" in m.memory), None)
    if not mem:
        return ""
    return ("firmware: " + ", ".join(f"{k} {byte_size(mem[f'firmware_{k}_bytes'])}" for k in ("text", "data", "bss")
                                      if f"firmware_{k}_bytes" in mem))
