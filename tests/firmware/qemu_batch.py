"""Many models on the Arm build of the engine in one QEMU boot: the cases (opgen.Case, or any
model + input samples) are packed into one blob that QEMU's loader places in the board's RAM,
firmware/tools/batch_main.c runs them all and streams the outputs out of UART0 into a file.
About 1 000 small cases a second on mps2-an386, against ~30 KB/s for models sent over the link.

    elf = build_batch_elf("mps2-an386", "dsp")
    results = run_batch(elf, [(case.model, case.samples) for case in cases])
    results[i].outputs[k][j]   # case i, sample k, graph output j (raw bytes)
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.firmware.fwbuild import FIRMWARE

BATCH_ADDR = 0x21000000  # firmware/tools/batch_main.c HB_BATCH_ADDR (mps2 PSRAM)
BATCH_ADDRS = {"mps3-an547": 0x60000000}  # firmware/boards.mk BATCH_ADDR_<board> (an547: DDR)
BATCH_BYTES = 15 << 20   # of its 16 MB
_EXIT = {3: "the firmware hit a fault (HardFault, MemManage, BusFault or UsageFault)",
         4: "the firmware took an unexpected exception", 5: "invoke failed after a successful load",
         1: "the blob's magic was not found at the load address"}


@dataclass
class BatchResult:
    status: int               # 0, or the engine's error code (100: sample size mismatch)
    text: str = ""            # the engine's error text
    outputs: list | None = None  # outputs[k][j]: bytes of graph output j for sample k


def build_batch_elf(board: str = "mps2-an386", kernels: str = "dsp") -> Path:
    """make -C firmware BOARD=<board> KERNELS=<kernels> batch, in build/<board>-<kernels>."""
    out = f"build/{board}-{kernels}"
    r = subprocess.run(["make", "-C", str(FIRMWARE), f"BOARD={board}", f"KERNELS={kernels}", f"BOARD_DIR={out}",
                        "batch"], capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"firmware batch build failed: {r.stderr[-2000:]}")
    return FIRMWARE / out / "batch.elf"


def _pad16(b: bytes) -> bytes:
    return b + bytes(-len(b) % 16)


def pack(items: list[tuple[bytes, list[list[np.ndarray]]]]) -> bytes:
    """The blob batch_main.c reads: items are (model, samples), samples[k][i] = input i."""
    parts = [_pad16(b"HBB1" + struct.pack("<I", len(items)))]
    for model, samples in items:
        xs = b"".join(b"".join(np.ascontiguousarray(x).tobytes() for x in s) for s in samples)
        in_bytes = sum(np.asarray(x).nbytes for x in samples[0]) if samples else 0
        parts += [struct.pack("<4I", len(model), len(samples), in_bytes, 0), _pad16(model), _pad16(xs)]
    return b"".join(parts)


def split_batches(items: list, limit: int = BATCH_BYTES) -> list[list]:
    """items in consecutive groups whose blobs fit the board's RAM window."""
    groups, cur, size = [], [], 16
    for it in items:
        n = len(pack([it])) - 16
        if cur and size + n > limit:
            groups.append(cur)
            cur, size = [], 16
        cur.append(it)
        size += n
    return groups + ([cur] if cur else [])


def run_batch(elf: Path, items: list[tuple[bytes, list[list[np.ndarray]]]], machine: str = "mps2-an386",
              out_sizes: list[list[int]] | None = None, timeout: float = 600.0) -> list[BatchResult]:
    """Runs every item in one QEMU boot. out_sizes[i]: the byte size of each graph output of
    item i (to split its samples' outputs); when None, each sample's outputs stay one bytes."""
    if not shutil.which("qemu-system-arm"):
        raise FileNotFoundError("qemu-system-arm not installed")
    with tempfile.TemporaryDirectory(prefix="hb-batch-") as tmp:
        blob, out = Path(tmp) / "cases.bin", Path(tmp) / "uart.bin"
        data = pack(items)
        if len(data) > BATCH_BYTES:
            raise ValueError(f"batch of {len(data)} bytes exceeds {BATCH_BYTES}: use split_batches()")
        blob.write_bytes(data)
        cmd = ["qemu-system-arm", "-M", machine, "-kernel", str(elf), "-nographic", "-monitor", "none",
               "-serial", f"file:{out}", "-semihosting-config", "enable=on,target=native",
               "-device", f"loader,file={blob},addr={BATCH_ADDRS.get(machine, BATCH_ADDR):#x},force-raw=on"]
        r = subprocess.run(cmd, capture_output=True, timeout=timeout)
        raw = out.read_bytes() if out.exists() else b""
    results = _parse(raw, items, out_sizes)
    if r.returncode != 0 or len(results) != len(items):
        why = _EXIT.get(r.returncode, f"exit {r.returncode}: {r.stderr.decode(errors='replace')[-300:]}")
        raise RuntimeError(f"QEMU batch stopped at case {len(results)} of {len(items)}: {why}")
    return results


def _parse(raw: bytes, items, out_sizes) -> list[BatchResult]:
    res, pos = [], 0
    while pos + 12 <= len(raw) and raw[pos:pos + 4] != b"HBBE":
        index, status, n = struct.unpack_from("<3I", raw, pos)
        body = raw[pos + 12:pos + 12 + n]
        pos += 12 + n
        if index != len(res) or len(body) != n:
            break
        if status:
            res.append(BatchResult(status, body.decode(errors="replace")))
            continue
        k = len(items[index][1])
        per = n // k if k else 0
        sizes = out_sizes[index] if out_sizes else [per]
        samples = []
        for s in range(k):
            chunk, outs, off = body[s * per:(s + 1) * per], [], 0
            for size in sizes:
                outs.append(chunk[off:off + size])
                off += size
            samples.append(outs)
        res.append(BatchResult(0, "", samples))
    return res


def prove_on_qemu(seeds: list[tuple[int, str]], elf: Path, workers: int = 2, machine: str = "mps2-an386"):
    """The op generator's cases `seeds` on the Arm build (proof.Tally): TFLM's answers from
    child processes (proof.prove, no native builds), then every case TFLM ran in as few QEMU
    boots as the RAM window allows; a differing byte saves the case like the native proofs."""
    from tests.firmware.opgen import make_case
    from tests.firmware.proof import prove

    tally = prove(seeds, {}, workers=workers, keep=True)
    tally.exact.clear()
    tally.where = f"{machine} (KERNELS as built)"
    ran = [(s, op) for s, op in seeds if (s, op) in tally.outputs]
    cases = {key: make_case(*key) for key in ran}
    for group in split_batches([(cases[k].model, cases[k].samples) for k in ran]):
        keys, ran = ran[:len(group)], ran[len(group):]
        sizes = [[o.nbytes for o in tally.outputs[k][0]] for k in keys]
        for key, res in zip(keys, run_batch(elf, group, machine, sizes)):
            _tally_qemu(tally, cases[key], res, tally.outputs[key])
    tally.outputs.clear()
    return tally


def _tally_qemu(tally, case, res: BatchResult, want) -> None:
    from tests.firmware.proof import REGRESSIONS, fail, reason, within_limits

    if res.status:
        if res.status == 2 and within_limits(res.text):
            tally.ours_refused[(case.op, reason(res.text))] += 1
            tally.examples.setdefault((case.op, reason(res.text)), case.seed)
        else:
            tally.failures.append(fail(case, REGRESSIONS, f"qemu: refused ({res.status}): {res.text}"))
        return
    for k, outs in enumerate(res.outputs):
        for j, ref in enumerate(want[k]):
            if outs[j] != ref.tobytes():
                tally.failures.append(fail(case, REGRESSIONS, f"qemu: sample {k} output {j} differs from TFLM"))
                return
    tally.exact[case.op] += 1


def main(argv=None) -> int:
    """python -m tests.firmware.qemu_batch [--elf ELF] [--machine M] [--long]: the QEMU proof's subset
    of the op generator's cases on a batch.elf (default: build mps2-an386 KERNELS=dsp); exit 1 on
    any failing case. tools/asm_mutation_check.sh uses it to show the proof catches asm slips."""
    import argparse
    import sys

    from tests.firmware.proof import qemu_seeds

    ap = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    ap.add_argument("--elf", type=Path)
    ap.add_argument("--machine", default="mps2-an386", help="QEMU machine the elf is for (mps3-an547: Cortex-M55)")
    ap.add_argument("--long", action="store_true", help="test-long's subset (4 178 cases) instead of 671")
    a = ap.parse_args(argv)
    tally = prove_on_qemu(qemu_seeds(a.long), a.elf or build_batch_elf(), machine=a.machine)
    print(tally.summary())
    sys.stdout.flush()
    return 1 if tally.failures else 0


if __name__ == "__main__":  # python -m tests.firmware.qemu_batch
    raise SystemExit(main())
