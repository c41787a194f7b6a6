"""Every firmware port builds with the Arm toolchain (the QEMU ones and the physical
stm32f746g-disco, which cannot run here: its code path is the same core + a port folder).
Each board builds into its own temporary directory, all in parallel."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
# board -> (CPU the ELF is built for, lowest address of the vector table)
BOARDS = {"mps2-an386": ("cortex-m4", 0x0), "mps2-an500": ("cortex-m7", 0x0),
          "mps3-an547": ("cortex-m55", 0x0), "stm32f746g-disco": ("cortex-m7", 0x08000000)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not shutil.which("arm-none-eabi-gcc"):
        pytest.skip("arm-none-eabi-gcc not installed (make setup installs gcc-arm-none-eabi)")
    out = tmp_path_factory.mktemp("boards")
    procs = {b: subprocess.Popen(["make", "-s", "-j4", "-C", str(FIRMWARE), f"BOARD={b}", f"BOARD_DIR={out / b}",
                                  "board", "bin"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for b in BOARDS}
    logs = {b: p.communicate(timeout=600)[0] for b, p in procs.items()}
    return out, {b: (procs[b].returncode, logs[b]) for b in BOARDS}


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_board_builds(built, board):
    out, results = built
    rc, log = results[board]
    assert rc == 0, f"make -C firmware BOARD={board} failed:\n{log[-3000:]}"
    elf, binf = out / board / "harness.elf", out / board / "harness.bin"
    assert elf.stat().st_size > 0 and binf.stat().st_size > 10_000
    cpu, origin = BOARDS[board]
    attrs = subprocess.run(["arm-none-eabi-readelf", "-A", str(elf)], capture_output=True, text=True).stdout
    arch = {"cortex-m4": "v7E-M", "cortex-m7": "v7E-M", "cortex-m55": "v8.1-M.mainline"}[cpu]
    assert f"Tag_CPU_arch: {arch}" in attrs, attrs
    words = binf.read_bytes()[:8]
    sp, reset = int.from_bytes(words[:4], "little"), int.from_bytes(words[4:], "little")
    assert sp & 0x7 == 0 and 0x20000000 <= sp < 0x20100000 + (3 << 20), hex(sp)  # initial stack in RAM
    assert reset & 1 and origin <= reset < origin + (1 << 20), hex(reset)  # Thumb, inside the image


def test_unknown_board_lists_boards():
    r = subprocess.run(["make", "-C", str(FIRMWARE), "BOARD=nosuch"], capture_output=True, text=True)
    assert r.returncode != 0
    assert "BOARD=nosuch" in r.stderr and all(b in r.stderr for b in BOARDS) and "common" not in r.stderr
