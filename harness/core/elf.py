"""Code and RAM sizes of a firmware ELF, read from its section headers (what `arm-none-eabi-size`
prints, without needing the toolchain on the machine that reads a run): text = allocated read-only
sections (code, constants, the vector table), data = allocated, written and stored in flash,
bss = allocated, zero-filled. The firmware's flash use is text + data, its static RAM data + bss."""

from __future__ import annotations

import struct
from pathlib import Path

SHF_WRITE, SHF_ALLOC = 0x1, 0x2
SHT_NOBITS = 8
MAX_SECTIONS = 4096


def sizes(path: Path | str) -> dict[str, int]:
    """{"firmware_text_bytes", "firmware_data_bytes", "firmware_bss_bytes"} of a 32- or 64-bit
    little-endian ELF; {} when the file is not one (never an error: the sizes are a fact, not a need)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if len(head) < 52 or head[:4] != b"\x7fELF" or head[5] != 1:
                return {}
            wide = head[4] == 2
            shoff, shentsize, shnum = (struct.unpack_from("<Q", head, 40)[0], *struct.unpack_from("<HH", head, 58)) \
                if wide else (struct.unpack_from("<I", head, 32)[0], *struct.unpack_from("<HH", head, 46))
            if not 0 < shnum <= MAX_SECTIONS or shentsize < (64 if wide else 40):
                return {}
            f.seek(shoff)
            table = f.read(shentsize * shnum)
    except OSError:
        return {}
    if len(table) < shentsize * shnum:
        return {}
    text = data = bss = 0
    for i in range(shnum):
        off = i * shentsize
        if wide:
            sh_type, flags = struct.unpack_from("<IQ", table, off + 4)
            size = struct.unpack_from("<Q", table, off + 32)[0]
        else:
            sh_type, flags = struct.unpack_from("<II", table, off + 4)
            size = struct.unpack_from("<I", table, off + 20)[0]
        if not flags & SHF_ALLOC:
            continue
        if sh_type == SHT_NOBITS:
            bss += size
        elif flags & SHF_WRITE:
            data += size
        else:
            text += size
    return {"firmware_text_bytes": text, "firmware_data_bytes": data, "firmware_bss_bytes": bss}
