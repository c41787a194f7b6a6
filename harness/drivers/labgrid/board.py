"""The mcu driver on a place's serial URL, with the time unit of an emulated board.

A physical board's ticks are its cycles (DWT, or SysTick on the core clock) and the mcu driver
reports them as they are. One of our emulated lab boards (locallab/board.py, its /info says the
QEMU -icount shift) counts instructions as the qemu driver does, so the same firmware gives the
same figures through labgrid as with `--target qemu-m4`.
"""

from __future__ import annotations

from ...core.config import TargetConfig
from ..mcu import McuDriver
from ..qemu import icount_tick_scale


class PlaceMcu(McuDriver):
    """McuDriver with url from the place; board_info: the emulated board's /info, or None."""

    def __init__(self, target: TargetConfig, board_info: dict | None = None) -> None:
        super().__init__(target)
        self.icount = None if board_info is None else board_info.get("icount")

    def time_unit(self, facts: dict) -> str:
        return "instructions" if self.icount is not None else super().time_unit(facts)

    def tick_scale(self) -> float:
        if self.icount is None:
            return 1.0
        return icount_tick_scale(self.icount, self.opts.clock_hz, getattr(self, "hello_facts", None))
