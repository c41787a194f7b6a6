"""`harness lab`: the same bench on every matching labgrid place at once, then one lab report.

    harness lab --places 'board=stm32f746g*' --config mlperf-tiny [--count N] [--wait S]

Places are chosen by labgrid's own data: each term is `key=glob` on the place's tags or a glob on
its name, and all terms must match. One worker process per board (lab_worker.py: a bench run
with a kind-labgrid target on that place). A place someone else holds is waited for up to --wait
seconds. With --count N < matching places the others are spares: a job whose board fails (its
exporter vanishes, it cannot be revived) runs again on a spare; otherwise it is reported failed.
A failed attempt keeps its run directory (run.json says `failed:`, every measured batch stays).
"""

from __future__ import annotations

import fnmatch
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from .. import __version__
from ..core.config import load_bench, load_target
from ..deadline import Deadline
from ..drivers.labgrid.client import LabgridClient, PlaceState, identity
from ..drivers.labgrid.place import safe_name
from ..errors import ConfigError, HarnessError, TargetError
from ..proc import child_env, die_with_parent
from ..report import lab as lab_report
from ..results.files import read_json, write_json
from ..results.rundir import RunDir, new_run_id
from ..ui import UI


@dataclass(frozen=True)
class LabRequest:
    places: tuple[str, ...]
    config: str = "default"
    coordinator: str | None = None
    count: int = 0  # boards to bench; 0: every matching place
    wait: float = 300.0  # seconds to wait for places someone else holds
    template: str | None = None  # a kind-labgrid target file: its options are every worker's base
    runs: int | None = None
    models: tuple[str, ...] = ()
    results: str = "results"


def matches(place: PlaceState, terms: tuple[str, ...]) -> bool:
    """Every term holds: `key=glob` on a tag, or a glob on the place name."""
    for term in terms:
        key, eq, pattern = term.partition("=")
        if eq and not fnmatch.fnmatchcase(place.tags.get(key, ""), pattern):
            return False
        if not eq and not fnmatch.fnmatchcase(place.name, term):
            return False
    return True


def _template(req: LabRequest) -> dict:
    if not req.template:
        return {}
    t = load_target(req.template)
    if t.kind != "labgrid":
        raise ConfigError(f"{t.path}: --template must be a target of kind labgrid, not {t.kind}")
    return dict(t.options)


class PlacePool:
    """The matching places not used yet; take() hands out a free one, waiting up to the deadline."""

    def __init__(self, client: LabgridClient, names: list[str], wait_s: float, say=print) -> None:
        self.client, self.unused, self.deadline, self.say = client, list(names), Deadline(wait_s), say
        self._lock = threading.Lock()
        self._told = False
        self._seen: tuple[float, dict[str, PlaceState]] = (0.0, {})
        self.stopped = threading.Event()

    def _states(self) -> dict[str, PlaceState]:
        if time.monotonic() - self._seen[0] > 1.5:
            self._seen = (time.monotonic(), self.client.places())
        return self._seen[1]

    def take(self) -> tuple[str | None, str]:
        """(a free place, "") or (None, why not)."""
        while not self.stopped.is_set():
            with self._lock:
                if not self.unused:
                    return None, "no spare place left"
                states = self._states()
                for name in list(self.unused):
                    holder = states[name].acquired if name in states else "(deleted)"
                    if holder in (None, identity()):
                        self.unused.remove(name)
                        return name, ""
                busy = ", ".join(f"{n} (held by {states[n].acquired if n in states else '?'})" for n in self.unused)
            if self.deadline.expired():
                return None, f"no place free within {self.deadline.seconds:g} s: {busy}; try a longer --wait"
            if not self._told:
                self._told = True
                self.say(f"waiting up to {self.deadline.remaining():.0f} s for a place: {busy}")
            self.stopped.wait(1.0)
        return None, "interrupted"


class Lab:
    """One fan-out: its folder, the pool, the workers. start() does the work."""

    def __init__(self, req: LabRequest, ui: UI) -> None:
        self.req, self.ui = req, ui
        self.client = LabgridClient(req.coordinator)
        self.procs: dict[int, subprocess.Popen] = {}
        self.attempts: list[dict] = []
        self._lock = threading.Lock()

    def start(self) -> Path:
        req = self.req
        if req.count < 0 or req.wait < 0 or (req.runs is not None and req.runs < 1) or not all(req.places):
            raise ConfigError("harness lab: --count and --wait must be >= 0, --runs >= 1, --places non-empty terms")
        load_bench(req.config)  # bad input fails before any board is touched
        self.base = _template(req)
        places = self.client.places()
        self.tags = {n: p.tags for n, p in places.items()}
        names = sorted(n for n, p in places.items() if matches(p, req.places))
        if not names:
            listed = "; ".join(f"{n} ({', '.join(f'{k}={v}' for k, v in sorted(p.tags.items()))})"
                               for n, p in sorted(places.items())) or "none"
            raise ConfigError(f"no labgrid place matches {' '.join(req.places)!r} on {self.client.address}; "
                              f"places: {listed}")
        slots = req.count or len(names)
        if slots > len(names):
            raise ConfigError(f"--count {slots}: only {len(names)} places match ({', '.join(names)})")
        self.rd = RunDir(Path(req.results) / "lab" / new_run_id()).create()
        self.meta = {"lab_id": self.rd.path.name, "harness": __version__, "status": "running",
                     "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "coordinator": self.client.address,
                     "request": asdict(req), "matched": names, "slots": slots, "attempts": self.attempts}
        self._save()
        self.ui.say(f"lab {self.rd.path}: {slots} board(s) from {', '.join(names)}")
        self.pool = PlacePool(self.client, names, req.wait, self.ui.say)
        try:
            with ThreadPoolExecutor(slots) as ex:
                jobs = [ex.submit(self._slot, i) for i in range(slots)]
                try:
                    self._wait(jobs)
                except KeyboardInterrupt:
                    self._interrupt()
                    raise
        finally:
            self._save()
        unfinished = self._unfinished(slots)
        self.meta["status"] = f"failed: {unfinished}" if unfinished else "complete"
        report = lab_report.write(self.rd, self.meta)
        self._save()
        if unfinished:
            raise TargetError(f"{unfinished}; lab report: {report}")
        return report

    def _unfinished(self, slots: int) -> str:
        """'' when every board finished, else which did not and why."""
        last = {}
        for a in self.attempts:
            last[a["slot"]] = a
        bad = [a for a in last.values() if a["status"] != "complete"]
        if not bad:
            return ""
        why = "; ".join(f"{a.get('place') or '(no place)'}: {a['status']} {a.get('error', '')}".strip() for a in bad)
        return f"{len(bad)} of {slots} boards did not finish ({why})"

    def _wait(self, jobs) -> None:
        while not all(j.done() for j in jobs):
            time.sleep(0.2)  # the main thread stays interruptible (Ctrl-C)
        for j in jobs:
            j.result()

    def _save(self) -> None:
        with self._lock:
            write_json(self.rd.file("lab.json"), self.meta)

    def _slot(self, slot: int) -> None:
        """Bench one board; on a board failure, again on a spare place while there is one."""
        while True:
            place, why = self.pool.take()
            if place is None:
                self._record({"slot": slot, "place": None, "status": "not run", "error": why})
                return
            result = self._attempt(slot, place)
            if result["status"] != "failed" or not result.get("board_failed") or self.pool.stopped.is_set():
                return
            self.ui.say(f"{place}: the board failed ({result['error']}); trying a spare place")

    def _attempt(self, slot: int, place: str) -> dict:
        n = len(self.attempts) + 1
        folder = self.rd.file("attempts", f"{n:02d}-{safe_name(place)}")
        folder.mkdir(parents=True)
        target = folder / f"{safe_name(place)}.yaml"
        options = {"board": self.tags[place].get("board", ""), **self.base, "place": place,
                   "coordinator": self.client.address,
                   "acquire_timeout": max(5.0, self.pool.deadline.remaining()),
                   "state_dir": str(Path(self.req.results) / ".labgrid")}
        target.write_text(yaml.safe_dump({"kind": "labgrid", "description": f"labgrid place {place} (harness lab "
                                          f"{self.rd.path.name})", "options": options}, sort_keys=False))
        self.ui.say(f"{place}: bench started ({folder})")
        t0 = time.monotonic()
        code = self._run_worker(target, folder)
        result = _result(folder, code)
        result.update(slot=slot, place=place, attempt=str(folder), seconds=round(time.monotonic() - t0, 1))
        self._record(result)
        self.ui.say(f"{place}: {result['status']} in {result['seconds']:g} s"
                    + (f": {result['error']}" if result.get("error") else ""))
        return result

    def _run_worker(self, target: Path, folder: Path) -> int:
        cmd = [sys.executable, "-m", "harness.run.lab_worker", "--target", str(target), "--config", self.req.config,
               "--results", str(folder), "--out", str(folder / "result.json")]
        cmd += ["--runs", str(self.req.runs)] if self.req.runs else []
        cmd += ["--models", *self.req.models] if self.req.models else []
        env = child_env()
        with open(folder / "worker.log", "wb") as log:  # own session: a Ctrl-C reaches it once, from _interrupt
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env, cwd=os.getcwd(),
                                    start_new_session=True, preexec_fn=die_with_parent)
        self.procs[proc.pid] = proc
        try:
            return proc.wait()
        finally:
            self.procs.pop(proc.pid, None)

    def _record(self, attempt: dict) -> None:
        with self._lock:
            self.attempts.append(attempt)
        self._save()

    def _interrupt(self) -> None:
        """Ctrl-C: no new attempts; every worker gets one SIGINT and releases its place."""
        self.pool.stopped.set()
        self.meta["status"] = "interrupted"
        for proc in list(self.procs.values()):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in list(self.procs.values()):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _result(folder: Path, code: int) -> dict:
    try:
        return read_json(folder / "result.json")
    except HarnessError:  # the worker died before writing it (killed): say so
        from .lab_worker import run_dir_of

        run = run_dir_of(folder)
        return {"status": "failed", "error": f"the worker ended with status {code} without a result",
                "board_failed": True, "run_dir": str(run) if run else None}


def start(req: LabRequest, ui: UI) -> Path:
    return Lab(req, ui).start()
