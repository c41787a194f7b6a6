"""The run directory: an fsync'd journal and batch parts that make --resume lossless.

results/<target>/<run-id>/
  run.json  run.lock (run/lock.py)  journal.jsonl  parts/<model>/<start>.npz  outputs/<model>.npz  refs/<model>.npz
  metrics.json  report.md  report.html  junit.xml

The journal is read line by line and finished batches are kept as merged ranges: nothing here
grows with the number of inferences.
"""

from __future__ import annotations

import bisect
import json
import os
import secrets
import time
from pathlib import Path
from typing import Iterator

from ..errors import ResultsError
from .files import jsonable


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


class RunDir:
    """One run's folder. Construction does no I/O; create() makes the folder."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def create(self) -> "RunDir":
        try:
            self.path.mkdir(parents=True, exist_ok=False)
            probe = self.path / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as e:
            raise ResultsError(f"{self.path}: cannot create the results folder ({e.strerror}); "
                               "pass --results DIR with a writable folder") from None
        return self

    def file(self, *parts: str) -> Path:
        """A path inside the run directory; a part that is not one plain name is refused (names are data)."""
        for part in parts:
            if not part or part in (".", "..") or "/" in part or "\0" in part or os.sep in part:
                raise ResultsError(f"{part!r}: not a plain file name; refusing to write outside {self.path}")
        return self.path.joinpath(*parts)

    def journal(self, event: dict) -> None:
        """Append one line and fsync, so a killed run keeps every finished batch."""
        line = json.dumps(event, default=jsonable) + "\n"
        try:
            with open(self.file("journal.jsonl"), "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise ResultsError(f"{self.path}/journal.jsonl: cannot append ({e.strerror})") from None

    def events(self, event: str | None = None, model: str | None = None) -> Iterator[dict]:
        """Journal lines (of one event and model), read line by line; a torn last line is ignored."""
        try:
            f = open(self.file("journal.jsonl"), encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return
        except OSError as e:
            raise ResultsError(f"{self.path}/journal.jsonl: cannot read ({e.strerror})") from None
        quick = None if event is None else f'"{event}"'
        with f:
            for line in f:
                if quick is not None and quick not in line:
                    continue  # most lines are batches: skip parsing what cannot match
                try:
                    e = json.loads(line)
                except ValueError:
                    continue
                if isinstance(e, dict) and (event is None or e.get("event") == event) \
                        and (model is None or e.get("model") == model):
                    yield e

    def done_batches(self, model: str) -> "Spans":
        """The row ranges of `model` whose batch parts are on disk."""
        done = Spans()
        for e in self.events("batch", model):
            start, stop = e.get("start"), e.get("stop")
            if isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop \
                    and self.part(model, start).exists():
                done.add(start, stop)
        return done

    def part(self, model: str, start: int) -> Path:
        return self.file("parts", model, f"{start:08d}.npz")

    def has_event(self, event: str, model: str) -> bool:
        return any(True for _ in self.events(event, model))


class Spans:
    """Sorted, merged [start, stop) row ranges: memory grows with the gaps, not with the rows."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.stops: list[int] = []

    def add(self, start: int, stop: int) -> None:
        i = bisect.bisect_left(self.stops, start)  # first range that ends at or after start
        j = bisect.bisect_right(self.starts, stop)  # ranges from i to j-1 touch [start, stop)
        if i < j:
            start, stop = min(start, self.starts[i]), max(stop, self.stops[j - 1])
        self.starts[i:j], self.stops[i:j] = [start], [stop]

    def covers(self, start: int, stop: int) -> bool:
        i = bisect.bisect_right(self.starts, start) - 1
        return i >= 0 and self.stops[i] >= stop

    def rows(self) -> int:
        return sum(b - a for a, b in zip(self.starts, self.stops))
