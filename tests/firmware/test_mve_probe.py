"""The QEMU and GCC facts the Helium kernels rest on (firmware/tools/mve_probe.c says which): a
bare Cortex-M55 image built with arm-none-eabi-gcc 12 and run on qemu-system-arm mps3-an547 under
-icount shift=0 must exit 0."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.firmware.fwbuild import FIRMWARE

LINK = """MEMORY { ITCM (rx) : ORIGIN = 0x0, LENGTH = 512K  DTCM (rwx) : ORIGIN = 0x20000000, LENGTH = 512K }
ENTRY(probe_reset)
SECTIONS { .text : { KEEP(*(.vectors)) *(.text*) *(.rodata*) } > ITCM
  .bss (NOLOAD) : { *(.bss*) *(COMMON) } > DTCM
  __stack_top = ORIGIN(DTCM) + LENGTH(DTCM); }
"""
CHECKS = {11: "VMLADAVA dot product", 12: "requantisation by lanes", 13: "WLSTP/LETP copy",
          14: "VMOV two registers to two lanes (lane order)", 15: "-icount tick length"}


def test_mve_probe_on_qemu_m55(tmp_path):
    if not (shutil.which("qemu-system-arm") and shutil.which("arm-none-eabi-gcc")):
        pytest.skip("qemu-system-arm or arm-none-eabi-gcc missing")
    (tmp_path / "probe.ld").write_text(LINK)
    elf = tmp_path / "probe.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard", "-O2", "-ffreestanding",
                    "-nostartfiles", "-nostdlib", "-Wall", "-Werror", "-T", str(tmp_path / "probe.ld"),
                    str(FIRMWARE / "tools" / "mve_probe.c"), "-o", str(elf)], check=True)
    r = subprocess.run(["qemu-system-arm", "-M", "mps3-an547", "-kernel", str(elf), "-nographic", "-monitor", "none",
                        "-semihosting-config", "enable=on,target=native", "-icount", "shift=0"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, f"mve_probe failed: {CHECKS.get(r.returncode, f'exit {r.returncode}')}"
