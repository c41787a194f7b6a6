"""Progress bars and messages on stderr; --quiet silences all but errors."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class UI:
    """The one place that talks to the user while a run goes on."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.console = Console(stderr=True, highlight=False)

    def say(self, msg: str) -> None:
        if not self.quiet:
            self.console.print(msg, markup=False)

    def warn(self, msg: str) -> None:
        self.console.print(f"warning: {msg}", style="yellow", markup=False, soft_wrap=True)  # one line

    @contextmanager
    def progress(self, label: str, total: int) -> Iterator["Bar"]:
        if self.quiet or not sys.stderr.isatty():
            self.say(f"{label} ({total})")
            yield Bar(None, None)
            return
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=self.console, transient=True) as p:
            yield Bar(p, p.add_task(label, total=total))


class Bar:
    def __init__(self, progress: Progress | None, task: int | None) -> None:
        self._p, self._t = progress, task

    def advance(self, n: int = 1) -> None:
        if self._p is not None:
            self._p.advance(self._t, n)
