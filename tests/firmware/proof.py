"""Runs op-generator cases (opgen.py) on the TFLM interpreter and on the native engine (one or
more builds of libhbcore.so: KERNELS=c and dsp) and tallies the verdict of every case:

- exact: every output byte of every sample equal to TFLM's, on every build;
- TFLM refused (or aborted, e.g. an assert): skipped and counted with TFLM's reason;
- ours refused where TFLM runs: counted by reason; a reason outside LIMITS is a failure;
- anything else (a byte differs, our engine crashed) is a failure: its seed is printed and
  the case is saved (model + samples, Case.save) so test_exact_regressions.py replays it.

Cases run in child processes (TFLM asserts abort the process that runs it), `workers` at once;
a child that dies is restarted after the case it was on."""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.firmware.opgen import DSP_OPS, OPS, TflmRefused, make_case, tflm_run

# Where failing cases are saved (HB_PROOF_REGRESSIONS: elsewhere, e.g. for deliberate mutants).
REGRESSIONS = Path(os.environ.get("HB_PROOF_REGRESSIONS") or Path(__file__).resolve().parent / "regressions")
# Where our engine deliberately refuses what TFLM accepts (docs/firmware.md, "Deliberate
# differences"): TFLM's own arithmetic overflows there (a left shift by 31 or more, a fused
# activation bound cast from a float beyond int32), or, for
# int16 LOGISTIC/TANH, TFLM's float log2 test cannot be reproduced without its libm.
LIMITS = (r"requantisation multiplier too large", r"ADD output scale too small for its inputs",
          r"power-of-two test boundary", r"activation bound overflows int32")


@dataclass
class Tally:
    cases: int = 0
    samples: int = 0  # samples run on TFLM and compared on every build
    exact: Counter = field(default_factory=Counter)          # op -> cases exact on every build
    tflm_refused: Counter = field(default_factory=Counter)   # (op, reason) -> cases
    ours_refused: Counter = field(default_factory=Counter)   # (op, reason) -> cases (LIMITS)
    failures: list = field(default_factory=list)             # one line per failing case
    examples: dict = field(default_factory=dict)             # (op, reason) -> first seed
    outputs: dict = field(default_factory=dict)              # (seed, op) -> TFLM outputs (keep=True)
    seconds: float = 0.0
    where: str = "every build"

    def merge(self, other: "Tally") -> None:
        self.cases += other.cases
        self.samples += other.samples
        for mine, theirs in ((self.exact, other.exact), (self.tflm_refused, other.tflm_refused),
                             (self.ours_refused, other.ours_refused)):
            mine.update(theirs)
        self.failures += other.failures
        self.outputs.update(other.outputs)
        for k, v in other.examples.items():
            self.examples.setdefault(k, v)

    def summary(self) -> str:
        lines = [f"{self.cases} cases ({sum(self.exact.values())} exact on {self.where}, "
                 f"{sum(self.tflm_refused.values())} refused by TFLM, {sum(self.ours_refused.values())} "
                 f"refused by us within documented limits, {len(self.failures)} failing), "
                 f"{self.samples} samples, {self.seconds:.0f} s"]
        lines += [f"  exact {op}: {n}" for op, n in sorted(self.exact.items())]
        lines += [f"  TFLM refused {op} x{n} (e.g. seed {self.examples.get((op, why))}): {why}"
                  for (op, why), n in self.tflm_refused.most_common()]
        lines += [f"  we refused {op} x{n} (e.g. seed {self.examples.get((op, why))}): {why}"
                  for (op, why), n in self.ours_refused.most_common()]
        return "\n".join(lines + [f"  FAIL {f}" for f in self.failures])


def check_case(seed: int, op: str, libs: dict[str, str], tally: Tally, regressions: Path = REGRESSIONS,
               on_tflm_done=None):
    """One case into `tally`; libs: kernel-set name -> path of its libhbcore.so (none: only
    TFLM runs). Returns TFLM's outputs (None when it refused)."""
    from harness.runtimes.native import EngineError, NativeEngine

    case = make_case(seed, op)
    tally.cases += 1
    try:
        want = tflm_run(case.model, case.samples)
    except TflmRefused as e:
        tally.tflm_refused[(op, reason(str(e)))] += 1
        tally.examples.setdefault((op, reason(str(e))), seed)
        return None
    if on_tflm_done:
        on_tflm_done()
    for name, lib in libs.items():
        try:
            eng = NativeEngine(case.model, arena_bytes=1 << 20, lib=lib)
        except EngineError as e:
            if e.kind == "unsupported" and within_limits(str(e)):
                tally.ours_refused[(op, reason(str(e)))] += 1
                tally.examples.setdefault((op, reason(str(e))), seed)
                return want
            tally.failures.append(fail(case, regressions, f"{name}: refused: {e}"))
            return want
        for k, sample in enumerate(case.samples):
            for j, (y, ref) in enumerate(zip(eng.run(*sample), want[k])):
                if y.tobytes() != ref.tobytes():
                    diff = (y.view("u1").ravel() != ref.view("u1").ravel()).nonzero()[0]
                    at = diff[0] // y.itemsize
                    tally.failures.append(fail(case, regressions, f"{name}: sample {k} output {j}: {len(diff)} bytes "
                                                f"differ, first element {at}: ours {y.ravel()[at]} TFLM {ref.ravel()[at]}"))
                    return want
    tally.samples += len(case.samples)
    tally.exact[op] += 1
    return want


def reason(text: str) -> str:
    """TFLM's or our message without the node/tensor numbers, so equal reasons count together."""
    return re.sub(r"\b(node|number|tensor) \d+", r"\1 N", text)[:160]


def within_limits(text: str) -> bool:
    """A refusal of ours that the documented limits (LIMITS) allow."""
    return any(re.search(p, text) for p in LIMITS)


def fail(case, regressions: Path, what: str) -> str:
    """A failing case: saved for replay, announced with its seed; the line for the tally."""
    path = case.save(regressions)
    line = f"seed {case.seed} {case.op}: {what}; saved {path} ({case.describe()})"
    print(f"PROOF FAILURE {line}", flush=True)
    return line


# ---- child processes ----
def _child(conn, seeds, libs, regressions, keep) -> None:
    import sys

    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # TFLM logs every refusal on stderr; the tally keeps the reasons
    for seed, op in seeds:
        conn.send(("start", seed, op))
        tally = Tally()
        want = check_case(seed, op, libs, tally, regressions, on_tflm_done=lambda: conn.send(("tflm_done",)))
        if keep and want is not None:
            tally.outputs[(seed, op)] = want
        conn.send(("result", tally))
    conn.send(("done",))


def _run_chunk(seeds, libs, regressions, keep, out: Tally) -> None:
    """seeds in one child; if it dies, the case it was on is tallied (TFLM aborted before
    its answer: skipped; after: a failure of ours) and a new child takes the rest."""
    ctx = mp.get_context("spawn")
    while seeds:
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_child, args=(child, seeds, libs, regressions, keep), daemon=True)
        proc.start()
        child.close()
        current, stage = None, ""
        while True:
            try:
                msg = parent.recv()
            except EOFError:
                break
            if msg[0] == "start":
                current, stage = (msg[1], msg[2]), "started"
            elif msg[0] == "tflm_done":
                stage = "tflm_done"
            elif msg[0] == "result":
                out.merge(msg[1])
                stage = "tallied"
            else:
                seeds = []
                break
        proc.join()
        if seeds and current is None:
            raise RuntimeError(f"proof child exited with {proc.exitcode} before its first case")
        if seeds:  # the child died on (or just after) `current`
            if stage != "tallied":
                out.merge(_died(current, stage == "tflm_done", proc.exitcode, regressions))
            seeds = seeds[seeds.index(current) + 1:]


def _died(current, tflm_done: bool, code, regressions: Path) -> Tally:
    t = Tally(cases=1)
    if not tflm_done:
        t.tflm_refused[(current[1], f"TFLM aborted the process (exit {code})")] += 1
        t.examples[(current[1], f"TFLM aborted the process (exit {code})")] = current[0]
    else:
        t.failures.append(fail(make_case(*current), regressions, f"our engine crashed the process (exit {code})"))
    return t


def prove(seeds: list[tuple[int, str]], libs: dict[str, str], workers: int = 2,
          regressions: Path = REGRESSIONS, keep: bool = False) -> Tally:
    """Every (seed, op) of `seeds`, split over `workers` child processes; keep: also return
    TFLM's outputs of every case it ran (Tally.outputs, by seed)."""
    import threading

    t0, total, parts = time.monotonic(), Tally(), [Tally() for _ in range(workers)]
    per = -(-len(seeds) // workers)
    chunks = [seeds[i * per:(i + 1) * per] for i in range(workers)]
    errors: list[BaseException] = []

    def run(chunk, part):
        try:
            _run_chunk(chunk, libs, regressions, keep, part)
        except BaseException as e:  # re-raised below, in the caller's thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(c, p)) for c, p in zip(chunks, parts)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    for p in parts:
        total.merge(p)
    total.seconds = time.monotonic() - t0
    return total


def seeds_for(n: int, start: int = 0, ops: tuple[str, ...] = OPS) -> list[tuple[int, str]]:
    """(seed, op) for seeds start..start+n-1, op = ops[seed % len(ops)] (opgen.cases' order)."""
    return [(s, ops[s % len(ops)]) for s in range(start, start + n)]


def qemu_subset(seeds, dsp_stride: int, other_stride: int) -> list[tuple[int, str]]:
    """Every dsp_stride-th case of the ops with asm, every other_stride-th of the rest (strides
    prime to 16, so every op of the cycle is sampled)."""
    return [s for i, s in enumerate(seeds) if i % (dsp_stride if s[1] in DSP_OPS else other_stride) == 0]


# The proofs' seed sets: make test's, then test-long's (disjoint), and their QEMU subsets.
QUICK_SEEDS = seeds_for(16 * 313)
LONG_SEEDS = seeds_for(100_000, start=len(QUICK_SEEDS))


def qemu_seeds(long: bool = False) -> list[tuple[int, str]]:
    return qemu_subset(LONG_SEEDS, 9, 97) if long else qemu_subset(QUICK_SEEDS, 3, 23)
