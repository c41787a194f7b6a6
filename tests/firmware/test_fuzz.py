"""libFuzzer over the model loader (firmware/tools/fuzz_load.c) and the link's frame decoder +
command layer (firmware/tools/fuzz_link.c), both from `make -C firmware fuzz`.

- test_fuzz_loader / test_fuzz_link (long: `make test-long`): FUZZ_SECONDS (60) of fuzzing each,
  from a seed corpus: the project's models for the loader; for the link, frames the Python side
  encodes (harness/protocol/wire.py) for real sessions (HELLO, a chunked load of
  models/digits_int8.tflite and of small one-op models, SET_INPUT, INVOKE, outputs, RESET),
  written into a temporary directory in fuzz_link.c's record format. Every crash / leak /
  timeout / OOM input is saved as a regression input in tests/firmware/fuzz_regressions/
  (link/ for the link's) and the test fails naming it.
- test_fuzz_regressions_replay / test_fuzz_link_replay (every `make test`): each saved input goes
  through the ASan/UBSan native build (hbload in the fuzzer's plan mode; fuzz_link's own code
  with a replay main) and must end cleanly; the link seeds replay too, and the clean sessions
  must be answered without a single ERROR (the seeds reach INVOKE)."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from harness.core import model as models
from harness.protocol import wire
from tests.firmware.fwbuild import FIRMWARE, PROJECT_MODELS, san_build  # noqa: F401 (fixture)

REGRESSIONS = Path(__file__).resolve().parent / "fuzz_regressions"
LINK_REGRESSIONS = REGRESSIONS / "link"  # fuzz_link inputs: replayed by another binary
FUZZ_SECONDS = int(os.environ.get("HB_FUZZ_SECONDS", "60"))
ARTIFACT_KINDS = ("crash", "leak", "timeout", "oom", "slow-unit")


def seed_corpus(dest: Path) -> int:
    """The project's own models (whole models + one-op models) as seeds; returns the count."""
    dest.mkdir(parents=True, exist_ok=True)
    seeds = sorted(PROJECT_MODELS.glob("*.tflite")) + sorted((PROJECT_MODELS / "ops").glob("*.tflite"))
    for p in seeds:
        shutil.copy(p, dest / p.name)
    for p in sorted(REGRESSIONS.glob("*.tflite")):  # old crashers keep guiding the search
        shutil.copy(p, dest / f"regression-{p.name}")
    return len(seeds)


# ---- link seeds: fuzz_link.c records (tag u8 | len u16 le | payload) ----
SESSION = 0xC0FFEE  # the seeds' session (opened by their HELLO)


def frame_record(msg_type: int, seq: int, body: bytes = b"", session: int = SESSION) -> bytes:
    """A frame the harness wraps (odd tag): type | session | seq | body, CRC and COBS added in C."""
    payload = wire.HEAD.pack(msg_type, session, seq) + body
    return struct.pack("<BH", 1, len(payload)) + payload


def raw_record(data: bytes) -> bytes:
    """Bytes that go on the wire as they are (even tag)."""
    return struct.pack("<BH", 0, len(data)) + data


def session(path: Path, chunk: int, preserve: bool = False, profile: bool = False) -> list[tuple[int, bytes]]:
    """(type, body) of every request a host sends to load `path`, run it once and read it back."""
    data = path.read_bytes()
    info = models.inspect(data, path)
    reqs = [(wire.HELLO, wire.pack_hello_request(0x1234)),
            (wire.LOAD_BEGIN, wire.pack_load_begin(len(data), hashlib.sha256(data).digest()))]
    reqs += [(wire.LOAD_CHUNK, wire.pack_offset_data(o, data[o:o + chunk])) for o in range(0, len(data), chunk)]
    reqs.append((wire.LOAD_END, wire.pack_load_end(wire.LOAD_PRESERVE_ALL if preserve else 0)))
    for i, t in enumerate(info.inputs):
        reqs.append((wire.SET_INPUT, wire.pack_set_input(i, 0, bytes((7 * k) & 0xFF for k in range(t.nbytes)))))
    reqs.append((wire.INVOKE, wire.pack_invoke(2 if profile else 1, wire.INVOKE_PROFILE if profile else 0)))
    reqs += [(wire.GET_OUTPUT, wire.pack_get_output(i, 0, t.nbytes)) for i, t in enumerate(info.outputs)]
    reqs += [(wire.TENSOR_INFO, struct.pack("<H", 1))]
    if preserve:
        reqs += [(wire.GET_TENSOR, wire.pack_get_tensor(i, 0, 4096)) for i in range(2)]
    return reqs + [(wire.RESET, b"")]


def hostile_records() -> bytes:
    """Retries, a lost seq (NAK), a stale copy with other bytes, another session, a repeated (brief)
    and a stray HELLO, SINK/SOURCE raw runs, garbage (damaged frames: NAKs), an unknown type."""
    out = frame_record(wire.HELLO, 5) + frame_record(wire.TENSOR_INFO, 6, b"\x00\x00")
    out += frame_record(wire.TENSOR_INFO, 6, b"\x00\x00") + frame_record(wire.INVOKE, 9, b"\x01\x00\x00")
    out += frame_record(wire.TENSOR_INFO, 6, b"\x01\x00") + frame_record(wire.TENSOR_INFO, 7, b"\x00\x00", 7)
    out += frame_record(wire.HELLO, 5, wire.pack_hello_request(9, brief=True))
    out += frame_record(wire.SINK, 7, struct.pack("<I", 8)) + raw_record(b"\x55" * 8)
    out += frame_record(wire.SOURCE, 8, struct.pack("<I", 100)) + raw_record(b"\x03\x41\x42\x00\x00\xff")
    out += frame_record(wire.HELLO, 1, b"", 0) + frame_record(wire.TENSOR_INFO, 2, b"\x00\x00", 0)
    out += frame_record(wire.HELLO, 3, b"", SESSION + 1) + frame_record(0x42, 4, b"?", SESSION + 1)
    return out + raw_record(wire.encode(wire.HELLO, SESSION, 10)[:-3] + b"\x00")


def link_seed_corpus(dest: Path) -> dict[str, int]:
    """Seed inputs for fuzz_link; name -> requests in it for the clean sessions (0: expect errors)."""
    dest.mkdir(parents=True, exist_ok=True)
    digits = PROJECT_MODELS / "digits_int8.tflite"
    ops = sorted((PROJECT_MODELS / "ops").glob("*.tflite"), key=lambda p: p.stat().st_size)[:3]
    sessions = {"digits-c1024": session(digits, 1024), "digits-c4092-preserve": session(digits, 4092, True, True)}
    sessions.update({f"op-{p.stem}": session(p, 256, preserve=True) for p in ops})
    seeds = {}
    for name, reqs in sessions.items():
        (dest / f"{name}.bin").write_bytes(b"".join(frame_record(t, s, b) for s, (t, b) in enumerate(reqs)))
        seeds[f"{name}.bin"] = len(reqs)
    wire_bytes = [raw_record(wire.encode(t, SESSION, s, b)) for s, (t, b) in enumerate(sessions["digits-c1024"])]
    (dest / "wire-digits-c1024.bin").write_bytes(b"".join(wire_bytes))  # the exact bytes a host sends
    seeds["wire-digits-c1024.bin"] = len(wire_bytes)
    (dest / "hostile.bin").write_bytes(hostile_records())
    seeds["hostile.bin"] = 0
    for p in sorted(LINK_REGRESSIONS.glob("*.bin")):  # old crashers keep guiding the search
        shutil.copy(p, dest / f"regression-{p.name}")
    return seeds


# ---- running libFuzzer ----
def save_artifacts(found: list[Path], dest: Path, ext: str) -> list[Path]:
    """Copy libFuzzer's artifacts into `dest` under a content name; the new paths."""
    saved = []
    for a in found:
        data = a.read_bytes()
        kind = next((k for k in ARTIFACT_KINDS if a.name.startswith(k)), "crash")
        dest.mkdir(parents=True, exist_ok=True)
        dst = dest / f"{kind}-{hashlib.sha1(data).hexdigest()[:16]}{ext}"
        dst.write_bytes(data)
        saved.append(dst)
    return saved


def run_fuzzer(tmp_path: Path, name: str, fill_corpus, dest: Path, ext: str) -> str:
    """Builds the fuzzers, runs `name` for FUZZ_SECONDS from the corpus fill_corpus(dir) writes;
    fails (after saving the inputs) on any finding. libFuzzer's final report."""
    if not shutil.which("clang"):
        pytest.skip("clang not installed: the fuzz build needs libFuzzer")
    r = subprocess.run(["make", "-C", str(FIRMWARE), "fuzz"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"make -C firmware fuzz failed:\n{r.stderr[-3000:]}"
    corpus, artifacts = tmp_path / "corpus", tmp_path / "artifacts"
    artifacts.mkdir()
    assert fill_corpus(corpus) >= 5
    cmd = [str(FIRMWARE / "build" / "fuzz" / name), f"-max_total_time={FUZZ_SECONDS}", "-timeout=10",
           "-rss_limit_mb=2048", "-max_len=65536", f"-artifact_prefix={artifacts}/", "-print_final_stats=1",
           str(corpus)]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=FUZZ_SECONDS + 300)
    saved = save_artifacts(sorted(p for p in artifacts.iterdir() if p.is_file()), dest, ext)
    assert not saved, (f"libFuzzer found {len(saved)} failing input(s) in {name}, saved as regressions: "
                       f"{[str(p.relative_to(REGRESSIONS)) for p in saved]} (exit {run.returncode}):\n"
                       f"{run.stderr[-4000:]}")
    assert run.returncode == 0, f"{name} exited {run.returncode}:\n{run.stderr[-4000:]}"
    assert "Done" in run.stderr and "stat::number_of_executed_units" in run.stderr, run.stderr[-2000:]
    return run.stderr


@pytest.mark.long
def test_fuzz_loader(tmp_path):
    run_fuzzer(tmp_path, "fuzz_load", seed_corpus, REGRESSIONS, ".tflite")


@pytest.mark.long
def test_fuzz_link(tmp_path):
    run_fuzzer(tmp_path, "fuzz_link", lambda d: len(link_seed_corpus(d)), LINK_REGRESSIONS, ".bin")


def test_fuzz_regressions_replay(san_build):
    inputs = sorted(REGRESSIONS.glob("*.tflite"))
    if not inputs:
        pytest.skip("no fuzz regressions recorded yet (tests/firmware/fuzz_regressions/ is empty)")
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=99",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=98"}
    for f in inputs:
        data = f.read_bytes()
        preserve = ["--preserve"] if data and data[-1] & 1 else []  # as fuzz_load.c picks the mode
        r = subprocess.run([str(san_build / "hbload"), "--arena", str(1 << 20), *preserve, str(f)],
                           capture_output=True, text=True, timeout=120, env=env)
        answers = [line for line in r.stdout.splitlines() if line]
        assert r.returncode == 0 and len(answers) == 1, f"{f.name}: exit {r.returncode}\n{r.stderr[-4000:]}"
        assert answers[0].split(" ", 1)[0] in ("OK", "ERROR"), f"{f.name}: {answers[0]!r}"


def test_fuzz_link_replay(san_build, tmp_path):
    """Saved link crashers and the seed sessions through fuzz_link.c's replay main, ASan/UBSan."""
    args = ["fuzz-replay", "SAN=1", f"KERNELS={san_build.kernels}"]
    r = subprocess.run(["make", "-C", str(FIRMWARE), *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"make -C firmware {' '.join(args)} failed:\n{r.stderr[-3000:]}"
    seeds = link_seed_corpus(tmp_path)
    inputs = sorted(LINK_REGRESSIONS.glob("*.bin")) + [tmp_path / n for n in sorted(seeds)]
    env = {**os.environ, "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=99",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=98"}
    r = subprocess.run([str(san_build / "fuzz_link_replay"), *map(str, inputs)], capture_output=True, text=True,
                       timeout=300, env=env)
    lines = r.stdout.splitlines()
    assert r.returncode == 0 and len(lines) == len(inputs), f"exit {r.returncode} after {lines[-1:]}\n{r.stderr[-4000:]}"
    for line in lines:
        _, path, replies, errors = line.split(" ")
        requests = seeds.get(Path(path).name) if Path(path).parent == tmp_path else None
        if requests:  # a clean session: one reply per request, + the two boot HELLOs, no ERROR
            assert (replies, errors) == (f"replies={requests + 2}", "errors=0"), line
