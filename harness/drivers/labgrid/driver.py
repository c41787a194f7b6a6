"""kind: labgrid — a board of a labgrid place: acquired for the run, reached through its resources.

    kind: labgrid
    options: {place: stm32-01, coordinator: null, board: stm32f746g-disco, flash: auto}

open() holds the place (labgrid_place.PlaceLock: waits up to acquire_timeout, releases on close,
reports a killed run's stale lock), reads its resources (`labgrid-client env`) and composes the
driver that speaks to the board: the mcu driver on the serial resource's pyserial URL
(NetworkSerialPort raw → socket://, rfc2217 → rfc2217://, USBSerialPort → its device), or the ssh
driver on a NetworkService. It flashes our firmware when the HELLO reports another build (or the
board is silent) through labgrid_flash, and power-cycles a board that stops answering (labgrid's
power driver), reloads the model and runs the interrupted batch again: the outputs equal an
uninterrupted run's, since the inputs and firmware are the same.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ...core.config import TargetConfig

from ...core.schema import load_dataclass, opt
from ...deadline import Deadline
from ...errors import ConfigError, LinkError, TargetError, TargetTimeout
from .. import register
from ..base import Driver, LoadInfo, RunResult, TargetInfo
from .board import PlaceMcu
from .client import LabgridClient
from .flash import Firmware, Flasher, firmware_build, flasher_for, qemu_board
from .place import BoardAccess, PlaceLock, board_access, held

log = logging.getLogger("harness.lab")
FLASH = ("auto", "always", "never")
FLASHERS = ("auto", "qemu-board", "bootstrap", "none")


@dataclass(frozen=True)
class LabgridOptions:
    """targets/<name>.yaml `options:` for kind labgrid."""

    place: str = ""
    coordinator: str | None = None  # HOST[:PORT]; null: LG_COORDINATOR, else 127.0.0.1:20408
    board: str = opt("", name=True, hint="firmware/port/<board> to build and flash; empty: the place's board tag")
    flash: str = opt("auto", choices=FLASH, hint="auto: when HELLO reports another build or the board is silent")
    flasher: str = opt("auto", choices=FLASHERS, hint="auto: our emulated board's HTTP flash, else bootstrap")
    env: str | None = None  # a labgrid environment YAML for labgrid-client -c (e.g. OpenOCD settings)
    acquire_timeout: float = opt(0.0, min=0, max=86_400, hint="seconds to wait while someone else holds the place")
    recover: bool = True  # power-cycle a board that stops answering, then resume
    max_recoveries: int = opt(3, min=0, max=1000, hint="per load() or run() call")
    power_delay: float = opt(1.0, min=0, max=3600, hint="seconds off during a power cycle")
    boot_timeout: float = opt(60.0, above=0, max=3600, hint="seconds for the board to answer after a power cycle")
    state_dir: str = "results/.labgrid"  # records of the places this process holds (stale-lock detection)
    mcu: dict = field(default_factory=dict)  # mcu driver options (window, chunk, timeouts, clock_hz)
    ssh: dict = field(default_factory=dict)  # ssh driver options for a NetworkService board


@register("labgrid")
class LabgridDriver(Driver):
    """See the module docstring."""

    options_class = LabgridOptions

    def __init__(self, target: TargetConfig) -> None:
        super().__init__(target)
        where = f"{target.path or target.name}: options"
        self.opts: LabgridOptions = load_dataclass(LabgridOptions, target.options, where)  # ranges: opt() above
        self.client = LabgridClient(self.opts.coordinator, self.opts.env)
        self.lock: PlaceLock | None = None
        self.inner: Driver | None = None
        self.access: BoardAccess | None = None
        self.board_info: dict | None = None
        self._fw: Firmware | None = None
        self._model: tuple[bytes, str] | None = None
        self.recoveries = 0
        self.flashed: list[str] = []
        self._owns_lock = False

    # ---- open / close ----
    def open(self) -> TargetInfo:
        o = self.opts
        if not o.place:
            raise ConfigError(f"{self.target.path or self.target.name}: options.place is empty; name a labgrid place "
                              "(labgrid-client places)")
        try:
            theirs = held(self.client.address, o.place)  # the pytest session's lock, say: not ours to release
            self._owns_lock = theirs is None
            self.lock = theirs or PlaceLock(self.client, o.place, o.state_dir, o.acquire_timeout).acquire()
            self.access = board_access(self.client.resources(o.place), o.place)
            self.board_info = qemu_board(self.access.power)
            info = self._open_board()
        except BaseException:
            self.close()
            raise
        facts = {**info.facts, "place": o.place, "coordinator": self.client.address,
                 "tags": self.lock.state.tags if self.lock.state else {},
                 "resources": list(self.access.classes), "flashed": self.flashed, "lock_notes": self.lock.notes}
        if self.board_info:
            facts["emulated_board"] = {k: self.board_info[k] for k in ("machine", "icount") if k in self.board_info}
        return dataclasses.replace(info, name=self.target.name, kind=self.kind, facts=facts)

    def _open_board(self) -> TargetInfo:
        if self.access.serial_url:
            self.inner = PlaceMcu(self._inner_target("mcu", {**self.opts.mcu, "url": self.access.serial_url,
                                                             "baud": self.access.baud}), self.board_info)
            return self._open_mcu()
        from ..ssh.driver import SshDriver

        self.inner = SshDriver(self._inner_target("ssh", {**self.opts.ssh, **{k: v for k, v in
                                                                          self.access.ssh.items() if v}}))
        return self.inner.open()

    def _inner_target(self, kind: str, options: dict) -> TargetConfig:
        return TargetConfig(kind=kind, description=self.target.description, options=options,
                            name=self.target.name, path=self.target.path)

    def _open_mcu(self) -> TargetInfo:
        """HELLO; flash first when the board is silent or runs another build (and flashing is on)."""
        try:
            info = self.inner.open()
        except (LinkError, TargetTimeout) as e:
            self.inner.close()
            if self.opts.flash == "never":
                raise
            self._flash(f"the board does not answer ({e})")
            return self._reopen()
        why = self._flash_reason(info.facts)
        if why is None:
            return info
        self.inner.close()
        self._flash(why)
        info = self._reopen()
        if info.facts.get("build") != self._firmware().build:
            raise TargetError(f"labgrid place {self.opts.place}: flashed build {self._firmware().build}, but the board "
                              f"reports build {info.facts.get('build')!r}; check the flashing resource")
        return info

    def _flash_reason(self, facts: dict) -> str | None:
        if self.opts.flash == "never":
            return None
        if self.opts.flash == "always" and not self.flashed:
            return "flash: always"
        have, want = facts.get("build"), self._firmware().build
        return None if have == want else f"the board runs build {have or '(none reported)'}, this tree's is {want}"

    def _firmware(self) -> Firmware:
        if self._fw is None:
            board = self.opts.board or self.lock.tags().get("board", "")
            if not board:
                raise ConfigError(f"labgrid place {self.opts.place}: which firmware? set options.board or the place "
                                  "tag board=<firmware/port name> (labgrid-client set-tags)")
            self._fw = firmware_build(board)
        return self._fw

    def _flash(self, why: str) -> None:
        flasher: Flasher | None = flasher_for(self.opts.flasher, self.board_info, self.client, self.opts.place)
        if flasher is None:
            raise TargetError(f"labgrid place {self.opts.place}: {why}, and flasher is none")
        fw = self._firmware()
        log.warning(f"labgrid place {self.opts.place}: {why}; flashing {fw.elf} (build {fw.build}) via {flasher.how}")
        flasher.flash(fw)
        self.flashed.append(f"{fw.build} via {flasher.how}: {why}")

    def _reopen(self) -> TargetInfo:
        """open() the inner driver until the board answers or boot_timeout passes."""
        deadline = Deadline(self.opts.boot_timeout)
        while True:
            try:
                return self.inner.open()
            except (LinkError, TargetTimeout) as e:
                self.inner.close()
                if deadline.expired():
                    raise TargetError(f"labgrid place {self.opts.place}: the board did not answer within "
                                      f"{self.opts.boot_timeout:g} s after a restart ({e})") from None

    def close(self) -> None:
        try:
            if self.inner is not None:
                self.inner.close()
        finally:
            self.inner = None
            if self.lock is not None and self._owns_lock:
                self.lock.release()
            self.lock = None

    # ---- work, with recovery ----
    def load(self, model: bytes, name: str) -> LoadInfo:
        self._model = (model, name)
        return self._recovering(lambda: self.inner.load(model, name), f"loading {name}")

    def run(self, inputs: Sequence[np.ndarray]) -> RunResult:
        return self._recovering(lambda: self.inner.run(inputs), "a batch of inferences")

    def tensors(self, inputs: Sequence[np.ndarray]) -> dict[int, np.ndarray]:
        return self._recovering(lambda: self.inner.tensors(inputs), "reading tensors")

    def _recovering(self, call: Callable, what: str):
        """call(); a board that stops answering is power-cycled and the call repeated from its start."""
        for attempt in range(self.opts.max_recoveries + 1):
            try:
                return call()
            except (LinkError, TargetTimeout) as e:
                if not self.opts.recover or attempt == self.opts.max_recoveries:
                    raise TargetError(f"labgrid place {self.opts.place}: the board stopped answering during {what} "
                                      f"({e}); {attempt} power cycles did not help") from None
                self._power_cycle(e)
        raise AssertionError("unreachable")

    def _power_cycle(self, why: Exception) -> None:
        p = self.opts.place
        log.warning(f"labgrid place {p}: the board stopped answering ({why}); power-cycling it")
        self.inner.close()
        try:
            self.client.power(p, "cycle", self.opts.power_delay)
        except TargetError as e:
            raise TargetError(f"labgrid place {p}: the board stopped answering ({why}) and cannot be power-cycled: "
                              f"{e}") from None
        self.recoveries += 1
        self._reopen()
        if self._model is not None:
            self.inner.load(*self._model)
