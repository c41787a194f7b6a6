"""Putting our firmware on a lab board, and power-cycling it, through what the place offers.

- The firmware: `make -C firmware BOARD=<board>` (make decides whether it is stale), its build id
  from build/<board>/build_id.h; the board's HELLO reports the id of the image it runs.
- An emulated board of our lab (locallab/board.py) is found from the place's NetworkPowerPort: its
  `simplerest` URL answers GET /info with kind harness-qemu-board. Flashing is a PUT of the ELF
  (the board restarts QEMU with it): the small strategy of ours for QEMU boards.
- A physical board is flashed by labgrid: `labgrid-client bootstrap <elf>` runs the place's
  BootstrapProtocol driver (OpenOCD with the env file's settings, …).
- Power: `labgrid-client power cycle` through the place's power driver (NetworkPowerPort, PDU
  daemon, USB power …); our emulated boards speak simplerest, so this is the same path.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ...core.paths import ROOT
from ...errors import ConfigError, TargetError
from .client import LabgridClient

QEMU_BOARD = "harness-qemu-board"


@dataclass(frozen=True)
class Firmware:
    elf: Path
    build: str  # the id the board's HELLO reports when it runs this image


def firmware_build(board: str) -> Firmware:
    """Build (or find up to date) firmware/build/<board>/harness.elf and read its build id."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", board or "") or not (ROOT / "firmware" / "port" / board).is_dir():
        known = ", ".join(sorted(p.name for p in (ROOT / "firmware" / "port").iterdir() if p.name != "common"))
        raise ConfigError(f"labgrid target: board {board!r} has no firmware port (firmware/port/<board>); "
                          f"boards: {known}")
    r = subprocess.run(["make", "-s", "-C", str(ROOT / "firmware"), f"BOARD={board}"], capture_output=True, text=True)
    if r.returncode != 0:
        tail = " | ".join((r.stderr or r.stdout).strip().splitlines()[-3:])
        raise TargetError(f"firmware build failed (make -C firmware BOARD={board}): {tail}")
    out = ROOT / "firmware" / "build" / board
    m = re.search(r'HB_BUILD_ID "([0-9a-f]+)"', (out / "build_id.h").read_text())
    return Firmware(out / "harness.elf", m.group(1) if m else "")


def _base_url(power: dict | None) -> str | None:
    """scheme://host:port of a simplerest NetworkPowerPort, else None."""
    if not power or power.get("model") != "simplerest":
        return None
    u = urlsplit(str(power.get("host", "")).split("{", 1)[0])
    return f"{u.scheme}://{u.netloc}" if u.scheme in ("http", "https") and u.netloc else None


def _http(url: str, method: str = "GET", body: bytes | None = None, timeout: float = 120.0) -> bytes:
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        raise TargetError(f"{url}: {e.code} {e.read().decode(errors='replace')[:200]}") from None
    except (urllib.error.URLError, OSError) as e:
        raise TargetError(f"{url}: not reachable ({getattr(e, 'reason', e)})") from None


def qemu_board(power: dict | None) -> dict | None:
    """/info of one of our emulated boards behind the place's power port, else None."""
    base = _base_url(power)
    if base is None:
        return None
    try:
        info = json.loads(_http(base + "/info", timeout=5.0))
    except (TargetError, ValueError):
        return None
    return {**info, "url": base} if isinstance(info, dict) and info.get("kind") == QEMU_BOARD else None


class Flasher:
    """How firmware gets onto the place's board; `how` names it in run.json."""

    how = ""

    def flash(self, fw: Firmware) -> None:
        raise NotImplementedError


class QemuBoardFlasher(Flasher):
    how = "qemu-board (HTTP PUT of the ELF; the board restarts QEMU with it)"

    def __init__(self, url: str) -> None:
        self.url = url

    def flash(self, fw: Firmware) -> None:
        _http(self.url + "/flash", "PUT", fw.elf.read_bytes())


class BootstrapFlasher(Flasher):
    how = "labgrid-client bootstrap (the place's BootstrapProtocol driver)"

    def __init__(self, client: LabgridClient, place: str) -> None:
        self.client, self.place = client, place

    def flash(self, fw: Firmware) -> None:
        self.client.bootstrap(self.place, str(fw.elf))


def flasher_for(kind: str, board_info: dict | None, client: LabgridClient, place: str) -> Flasher | None:
    """`flasher` option: auto (our emulated board, else labgrid bootstrap), qemu-board, bootstrap, none."""
    if kind == "none":
        return None
    if kind in ("auto", "qemu-board") and board_info is not None:
        return QemuBoardFlasher(board_info["url"])
    if kind == "qemu-board":
        raise ConfigError(f"labgrid place {place}: flasher qemu-board, but its power port is not one of our "
                          "emulated boards (GET <simplerest host>/info)")
    return BootstrapFlasher(client, place)
