"""Holding a labgrid place for a run, and what its resources say about the board.

PlaceLock acquires the place (waiting while someone else holds it, up to a deadline), releases it
on close — every exit path goes through close(): errors, Ctrl-C, atexit — and keeps a record of
ours (pid, process start, boot id) in the state folder while it holds the place. A run killed
with SIGKILL cannot release; the next start finds our record with a dead process, says so, and
releases that stale lock before acquiring. A place that someone acquired by hand under our own
labgrid identity (`labgrid-client acquire`, `reserve --wait` in CI) is used as it is and left
acquired: we release only what we acquired.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import logging
import os
import re
import time
import weakref
from dataclasses import dataclass
from pathlib import Path

from ...deadline import Deadline
from ...errors import ConfigError, TargetError
from .client import LabgridClient, PlaceBusy, identity

log = logging.getLogger("harness.lab")
_HELD: "weakref.WeakValueDictionary[tuple[str, str], PlaceLock]" = weakref.WeakValueDictionary()


def held(address: str, place: str) -> "PlaceLock | None":
    """The lock this process already holds on (coordinator, place), e.g. the lab fan-out's."""
    lock = _HELD.get((address, place))
    return lock if lock is not None and lock.holding else None


def _proc_start(pid: int) -> str:
    """Start time of a live process (clock ticks since boot) + this boot's id; "" if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
    return f"{stat.rsplit(')', 1)[1].split()[19]}@{boot}"


class PlaceLock:
    """One place of one coordinator, held by this process. No I/O in the constructor.

    Records: <state_dir>/locks/<coordinator>/<place>/<pid>.json, one per process of ours that is
    taking or holding the place, so two runs of ours never overwrite each other's record.
    """

    def __init__(self, client: LabgridClient, place: str, state_dir: str | Path, wait_s: float = 0.0,
                 poll_s: float = 2.0) -> None:
        self.client, self.place = client, place
        self.dir = Path(state_dir) / "locks" / safe_name(client.address) / safe_name(place)
        self.own = self.dir / f"{os.getpid()}.json"
        self.wait_s, self.poll_s = wait_s, poll_s
        self.holding = False  # we hold the place (acquired or borrowed)
        self.acquired = False  # we acquired it, so we release it
        self.notes: list[str] = []
        self.state = None  # the PlaceState last seen (tags), when it was queried

    def acquire(self) -> "PlaceLock":
        """Hold the place; PlaceBusy after wait_s seconds if someone else keeps it."""
        state = self._clear_stale()
        deadline = Deadline(self.wait_s)
        while True:
            if state is None or state.acquired is None:
                try:
                    self._take()
                    break
                except PlaceBusy:  # held (maybe by us, by hand): see by whom
                    state = self.client.place(self.place)
                    if state.acquired is None:
                        continue
            if state.acquired == identity() and not self._ours_alive():
                self._note(f"labgrid place {state.name} is already acquired by you ({state.acquired}); "
                           "using it and leaving it acquired")
                break
            if deadline.expired():
                raise PlaceBusy(f"labgrid place {self.place} is acquired by {state.acquired} and was not released "
                                f"within {self.wait_s:g} s; wait longer (--wait / options.acquire_timeout) or ask "
                                f"them to release it (labgrid-client -p {self.place} release)", state.acquired or "")
            time.sleep(min(self.poll_s, max(0.1, deadline.remaining())))
            state = self.client.place(self.place)
        self.state = state
        self.holding = True
        _HELD[(self.client.address, self.place)] = self
        atexit.register(self.release)
        return self

    def _take(self) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            self.own.write_text(json.dumps({"pid": os.getpid(), "start": _proc_start(os.getpid()),
                                            "identity": identity(), "since": time.time()}))
        except OSError as e:
            raise ConfigError(f"{self.own}: cannot write the place record ({e.strerror}); "
                              "choose a writable results folder") from None
        try:
            self.client.acquire(self.place)
        except BaseException:
            self.own.unlink(missing_ok=True)
            raise
        self.acquired = True

    def _records(self) -> list[tuple[Path, dict]]:
        out = []
        for path in sorted(self.dir.glob("*.json")) if self.dir.is_dir() else []:
            try:
                out.append((path, json.loads(path.read_text())))
            except (OSError, ValueError):
                continue
        return out

    @staticmethod
    def _alive(rec: dict) -> bool:
        return rec.get("start") == _proc_start(int(rec.get("pid", 0)))

    def _ours_alive(self) -> bool:
        """Does another live process of ours hold (or take) the place?"""
        return any(self._alive(r) for p, r in self._records() if p != self.own)

    def _clear_stale(self):
        """Records of ours whose process is gone: a killed run's lock. Report it, release it, forget
        the records. The place's state when there were records, else None (nothing queried)."""
        dead = [(p, r) for p, r in self._records() if not self._alive(r)]
        if not dead:
            return None
        state = self.client.place(self.place)
        path, rec = dead[-1]
        if state.acquired == rec.get("identity") and not self._ours_alive():
            since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(rec.get("since", 0)))
            self._note(f"stale lock: labgrid place {self.place} was acquired by harness pid {rec.get('pid')} "
                       f"(since {since}), which is gone (killed?); releasing it")
            self.client.release(self.place)
            state = dataclasses.replace(state, acquired=None)
        for p, _ in dead:
            p.unlink(missing_ok=True)
        return state

    def _note(self, text: str) -> None:
        self.notes.append(text)
        log.warning(text)

    def release(self) -> None:
        """Release what we acquired; safe to call twice; a failure is reported, never raised."""
        if not self.holding:
            return
        self.holding = False
        atexit.unregister(self.release)
        if not self.acquired:
            return
        try:
            self.client.release(self.place)
            self.own.unlink(missing_ok=True)
        except TargetError as e:  # coordinator gone: the record stays, the next start reports it
            log.warning(f"labgrid place {self.place}: could not release it ({e}); the next run reports the stale lock")
        except KeyboardInterrupt:
            log.warning(f"labgrid place {self.place}: release interrupted; the next run reports the stale lock")
        self.acquired = False

    def tags(self) -> dict:
        """The place's tags (queried once if acquiring did not need to)."""
        if self.state is None:
            self.state = self.client.place(self.place)
        return self.state.tags


def safe_name(name: str) -> str:
    """A place or coordinator name as one path component (names are data, never paths)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".") or "_"


@dataclass(frozen=True)
class BoardAccess:
    """How to reach the board of a place, from its resources."""

    serial_url: str = ""
    baud: int = 115200
    ssh: dict | None = None  # host, user, port of a NetworkService
    power: dict | None = None  # NetworkPowerPort params
    classes: tuple[str, ...] = ()


def serial_url(cls: str, p: dict) -> str:
    """A pyserial URL for a labgrid serial resource."""
    if cls == "NetworkSerialPort":
        if p.get("protocol", "rfc2217") == "raw":
            return f"socket://{p['host']}:{p['port']}"
        # ign_set_control: ser2net on a pty cannot set DTR/RTS and never acknowledges (labgrid does the same)
        return f"rfc2217://{p['host']}:{p['port']}?ign_set_control"
    return str(p.get("port") or "")  # USBSerialPort / RawSerialPort: a local device node


def board_access(resources: list[tuple[str, dict]], place: str) -> BoardAccess:
    """The serial port, SSH service and power port among a place's resources."""
    url, baud, ssh, power = "", 115200, None, None
    for cls, p in resources:
        if cls in ("NetworkSerialPort", "USBSerialPort", "RawSerialPort") and not url:
            url, baud = serial_url(cls, p), int(p.get("speed") or 115200)
        elif cls == "NetworkService" and ssh is None:
            ssh = {"host": p["address"], "user": p.get("username"), "port": int(p.get("port") or 22)}
        elif cls == "NetworkPowerPort" and power is None:
            power = dict(p)
    if not url and ssh is None:
        have = ", ".join(sorted({c for c, _ in resources})) or "none"
        raise ConfigError(f"labgrid place {place}: no serial port (NetworkSerialPort, USBSerialPort) and no "
                          f"NetworkService among its resources ({have}); add one to the exporter and a match")
    return BoardAccess(url, baud, ssh, power, tuple(c for c, _ in resources))
