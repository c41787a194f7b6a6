"""The run directory: atomic files, an fsync'd journal, and batch parts that make --resume lossless.

results/<target>/<run-id>/
  run.json  journal.jsonl  parts/<model>/<start>.npz  outputs/<model>.npz  refs/<model>.npz
  metrics.json  report.md  report.html  junit.xml
"""

from __future__ import annotations

import io
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from .errors import HarnessError, ResultsError


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temporary file, fsync, then rename: readers never see half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise ResultsError(f"{path}: cannot write ({e.strerror}); choose another --results dir") from None
    _fsync_dir(path.parent)


def write_json(path: Path, obj: Any) -> None:
    write_atomic(path, (json.dumps(obj, indent=2, sort_keys=False, default=_jsonable) + "\n").encode())


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    write_atomic(path, buf.getvalue())


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ResultsError(f"{path}: not found; is this a run directory (results/<target>/<run-id>)?") from None
    except (OSError, ValueError) as e:
        raise ResultsError(f"{path}: unreadable ({e})") from None


def load_arrays(path: Path, error: type[HarnessError], missing: str) -> dict[str, np.ndarray]:
    """{key: array} of an .npz, or {"x": array} of an .npy; `error` with one line when unreadable."""
    path = Path(path)
    try:
        if path.suffix != ".npz":
            return {"x": np.load(path, allow_pickle=False)}
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        raise error(f"{path}: {missing}") from None
    except (OSError, ValueError) as e:
        raise error(f"{path}: not a readable .npy/.npz file ({e})") from None


def read_npz(path: Path) -> dict[str, np.ndarray]:
    return load_arrays(path, ResultsError, "not found; the run did not finish this model (try --resume)")


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
        return self.path.joinpath(*parts)

    def journal(self, event: dict) -> None:
        """Append one line and fsync, so a killed run keeps every finished batch."""
        line = json.dumps(event, default=_jsonable) + "\n"
        try:
            with open(self.file("journal.jsonl"), "a", encoding="utf-8") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise ResultsError(f"{self.path}/journal.jsonl: cannot append ({e.strerror})") from None

    def events(self) -> Iterator[dict]:
        """Journal lines; a torn last line (killed mid-write) is ignored."""
        path = self.file("journal.jsonl")
        if not path.exists():
            return
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                yield json.loads(line)
            except ValueError:
                continue

    def done_batches(self, model: str) -> dict[int, int]:
        """start → stop of the batches of `model` whose parts are on disk."""
        done = {}
        for e in self.events():
            if e.get("event") == "batch" and e.get("model") == model and self.part(model, e["start"]).exists():
                done[int(e["start"])] = int(e["stop"])
        return done

    def part(self, model: str, start: int) -> Path:
        return self.file("parts", model, f"{start:08d}.npz")

    def has_event(self, event: str, model: str) -> bool:
        return any(e.get("event") == event and e.get("model") == model for e in self.events())
