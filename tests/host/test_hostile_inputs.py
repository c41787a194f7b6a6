"""Every bad input is one line on stderr and exit 2 — never a traceback, never exit 1 (the regression
code) — and whatever was measured before the error is kept (issue #19 item 2, #11 item 5).

One table: crafted models, configs, datasets, target files, CLI values and environment. Each row
runs the CLI in-process on cheap targets (host, host-firmware; no QEMU is started: target-file
errors are caught when the file is loaded or before QEMU or SSH is reached).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from harness import cli
from tests.common import MODELS
from tools.tflite_build import ModelBuilder

ADD = MODELS / "ops" / "add.tflite"
DIGITS = MODELS / "digits_int8.tflite"
ENV_KEYS = ("HB_TARGET", "HB_CONFIG", "HB_MODELS", "HB_RUNS", "HB_PER_LAYER", "HB_PORT", "HB_HOST", "HB_KEY_FILE")


@dataclass
class Row:
    id: str
    make: Callable[[Path], tuple[list[str], dict]]  # tmp → (CLI arguments, environment)
    expect: str  # in the one line on stderr


# ---- builders of hostile files ----

def _write(tmp: Path, name: str, data: bytes | str) -> Path:
    p = tmp / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def _config(text: str, **extra) -> Callable[[Path], tuple[list[str], dict]]:
    """A bench config (with {add}, {digits}, {tmp} filled in) run on the host target."""
    def make(tmp: Path):
        body = text.format(add=ADD, digits=DIGITS, tmp=tmp)
        return ["bench", "--config", str(_write(tmp, "c.yaml", body)), *extra.get("args", [])], {}
    return make


def _target(text: str, target_args=("--models", str(ADD))) -> Callable[[Path], tuple[list[str], dict]]:
    def make(tmp: Path):
        return ["bench", "--target", str(_write(tmp, "t.yaml", text.format(tmp=tmp))), *target_args], {}
    return make


def _args(*args: str, env: dict | None = None) -> Callable[[Path], tuple[list[str], dict]]:
    return lambda tmp: ([a.format(tmp=tmp, add=ADD) for a in args], env or {})


def _crafted(in_shape=(1, 4), out_shape=(1, 4), inputs=True, outputs=True) -> Callable[[Path], tuple[list[str], dict]]:
    """A model our reader parses, with the given IO shapes (RESHAPE in between)."""
    def make(tmp: Path):
        m = ModelBuilder()
        x = m.tensor(in_shape, np.int8, 0.1, 0)
        y = m.tensor(out_shape, np.int8, 0.1, 0)
        m.op("RESHAPE", [x], [y])
        m.inputs, m.outputs = ([x] if inputs else []), ([y] if outputs else [])
        return ["bench", "--models", str(_write(tmp, "crafted.tflite", m.build()))], {}
    return make


def _dataset(**arrays) -> Callable[[Path], tuple[list[str], dict]]:
    """The digits model with a crafted .npz dataset."""
    def make(tmp: Path):
        path = tmp / "d.npz"
        np.savez(path, **arrays)
        cfg = _write(tmp, "c.yaml", f"models:\n  - path: {DIGITS}\n    dataset: {path}\n")
        return ["bench", "--config", str(cfg)], {}
    return make


def _dataset_file(data: bytes | str) -> Callable[[Path], tuple[list[str], dict]]:
    def make(tmp: Path):
        path = _write(tmp, "d.npz", data)
        cfg = _write(tmp, "c.yaml", f"models:\n  - path: {DIGITS}\n    dataset: {path}\n")
        return ["bench", "--config", str(cfg)], {}
    return make


def _twin_is_int8(tmp: Path):
    other = _write(tmp, "other.tflite", ADD.read_bytes() + b"\0\0\0\0")  # same network, other bytes
    cfg = _write(tmp, "c.yaml", f"models:\n  - path: {ADD}\n    float: {other}\n")
    return ["bench", "--config", str(cfg)], {}


def _baseline(meta: dict | str | None) -> Callable[[Path], tuple[list[str], dict]]:
    def make(tmp: Path):
        base = tmp / "base"
        base.mkdir()
        if meta is not None:
            _write(base, "run.json", meta if isinstance(meta, str) else json.dumps(meta))
        return ["bench", "--models", str(ADD), "--baseline", str(base)], {}
    return make


def _resume(meta: dict | str) -> Callable[[Path], tuple[list[str], dict]]:
    def make(tmp: Path):
        rd = tmp / "runs" / "host" / "r1"
        rd.mkdir(parents=True)
        _write(rd, "run.json", meta if isinstance(meta, str) else json.dumps(meta))
        return ["bench", "--resume", str(rd)], {}
    return make


def _special_model(kind: str) -> Callable[[Path], tuple[list[str], dict]]:
    def make(tmp: Path):
        p = tmp / "m.tflite"
        if kind == "dir":
            p.mkdir()
        elif kind == "loop":
            os.symlink(p, p)
        elif kind == "device":
            p = Path("/dev/zero")
        elif kind == "fifo":
            os.mkfifo(p)
        elif kind == "empty":
            p.write_bytes(b"")
        return ["bench", "--models", str(p)], {}
    return make


def _unsupported_second(tmp: Path):
    """add.tflite is measured, then the target refuses TANH: the error comes after real results."""
    m = ModelBuilder()
    x, y = m.tensor((1, 4), np.int8, 0.05, 0), m.tensor((1, 4), np.int8, 1 / 128, 0)
    m.op("TANH", [x], [y])
    m.inputs, m.outputs = [x], [y]
    tanh = _write(tmp, "tanh.tflite", m.build())
    cfg = _write(tmp, "c.yaml", f"runs: 8\nbatch: 4\nmodels:\n  - path: {ADD}\n  - path: {tanh}\n")
    return ["bench", "--target", "host-firmware", "--config", str(cfg)], {}


HOSTILE_NAMES = {"traversal": '"../../../../escaped_by_name"', "absolute": '"/tmp/abs"', "slash": '"a/b"',
                 "dotdot": '".."', "nul": '"a\\0b"', "newline": '"a\\nb"', "empty": '""', "long": "n" * 300,
                 "unicode": '"mödel✓"', "dash": '"-rf"', "dot": '".hidden"'}
GOOD_META = {"status": "complete", "models": {}, "target": {"kind": "host", "time_unit": "ns"}}
QEMU = "kind: qemu\noptions:\n  {opt}\n"
SSH = "kind: ssh\noptions:\n  host: 127.0.0.1\n  port: 9\n  known_hosts: {{tmp}}/kh\n  {opt}\n"

ROWS = [
    # ---- CLI values and the environment make passes ----
    Row("runs-0", _args("bench", "--runs", "0"), "--runs 0: must be between 1 and"),
    Row("runs-negative", _args("bench", "--runs", "-5"), "--runs -5: must be between 1 and"),
    Row("runs-huge", _args("bench", "--runs", "9" * 30), "must be between 1 and"),
    Row("runs-not-a-number", _args("bench", "--runs", "abc"), "invalid int value: 'abc'"),
    Row("RUNS-0", _args("bench", env={"HB_RUNS": "0"}), "RUNS= (HB_RUNS) 0: must be between"),
    Row("RUNS-negative", _args("bench", env={"HB_RUNS": "-5"}), "RUNS= (HB_RUNS) -5: must be between"),
    Row("RUNS-shell", _args("bench", env={"HB_RUNS": "3; touch pwned"}), "not a whole number"),
    Row("sweep-runs-0", _args("sweep", "--model", "{add}", "--float", "{add}", "--runs", "0"), "--runs 0: must be"),
    Row("PER_LAYER-negative", _args("bench", "--models", "{add}", env={"HB_PER_LAYER": "-1"}),
        "PER_LAYER= (HB_PER_LAYER) -1: must be between 0 and"),
    Row("per-layer-negative", _args("bench", "--models", "{add}", "--per-layer", "-1"), "--per-layer -1"),
    Row("unknown-option", _args("bench", "--bogus"), "unrecognized arguments: --bogus"),
    Row("target-nul", _args("bench", "--target", "a\0b"), "contains a NUL character"),
    Row("target-traversal", _args("bench", "--target", "../../../../etc/passwd"), "unknown target"),
    Row("target-long-name", _args("bench", "--target", "x" * 5000), "File name too long"),
    Row("target-directory", lambda tmp: (["bench", "--target", str(_mkdir(tmp / "t.yaml"))], {}), "is a directory"),
    Row("config-directory", lambda tmp: (["bench", "--config", str(_mkdir(tmp / "d.yaml"))], {}), "is a directory"),
    Row("config-device", lambda tmp: (["bench", "--config", str(_link(tmp / "z.yaml", "/dev/zero"))], {}),
        "special file"),
    Row("resume-with-runs", _args("bench", "--resume", "{tmp}", "--runs", "3"), "drop --runs"),
    Row("resume-not-a-run", _args("bench", "--resume", "{tmp}"), "no run.json"),
    Row("resume-run-json-garbage", _resume("{not json"), "unreadable"),
    Row("resume-run-json-list", _resume("[1, 2]"), "damaged (not a JSON object)"),
    Row("resume-no-request", _resume({"status": "running", "config": {}, "target_config": {}}),
        "no 'request'"),
    Row("resume-bad-request", _resume({"request": {"runs": "many"}, "config": {}, "plan": {},
                                       "target_config": {"kind": "host"}}), "request.runs: expected"),
    Row("resume-older-harness", _resume({"request": {}, "config": {}, "target_config": {"kind": "host"}}),
        "older harness"),
    Row("baseline-missing", _args("bench", "--models", "{add}", "--baseline", "{tmp}/nothere"),
        "not a run directory"),
    Row("baseline-no-run-json", _baseline(None), "run.json: not found"),
    Row("baseline-garbage", _baseline("\xff\xfe"), "unreadable"),
    Row("baseline-unfinished", _baseline({**GOOD_META, "status": "running"}), "not complete"),
    Row("baseline-other-kind", _baseline({**GOOD_META, "target": {"kind": "qemu", "time_unit": "instructions"}}),
        "--allow-other-target"),
    Row("baseline-other-models", _baseline(GOOD_META), "has no model 'add'"),
    Row("baseline-other-model-file", _baseline({**GOOD_META, "models": {"add": {"sha256": "00" * 32}}}),
        "is another file"),
    # ---- models ----
    Row("model-missing", _args("bench", "--models", "{tmp}/none.tflite"), "model file not found"),
    Row("model-directory", _special_model("dir"), "is a directory"),
    Row("model-symlink-loop", _special_model("loop"), "m.tflite"),
    Row("model-device", _special_model("device"), "not a regular file"),
    Row("model-fifo", _special_model("fifo"), "not a regular file"),
    Row("model-empty", _special_model("empty"), "m.tflite"),
    Row("model-negative-dim", _crafted(in_shape=(1, -3, 4)), "corrupt model: tensor 0 dim 1 is -3"),
    Row("model-zero-dim", _crafted(in_shape=(1, 0, 4)), "every dimension must be >= 1"),
    Row("model-huge-dim", _crafted(in_shape=(1, 1 << 20, 1 << 20, 4)), "over 2 GiB: a damaged shape"),
    Row("model-huge-output", _crafted(out_shape=(1, 1 << 30, 1 << 10)), "over 2 GiB: a damaged shape"),
    Row("model-no-outputs", _crafted(outputs=False), "subgraph has no outputs"),
    Row("model-batch-too-big", lambda tmp: (_crafted(in_shape=(1, 1024, 1024), out_shape=(1, 1024, 1024))(tmp)[0]
                                            + ["--config", str(_write(tmp, "c.yaml", "batch: 200\n"))], {}),
        "batch: 200 samples of crafted hold 419430400 bytes (limit 268435456); set `batch: 128` or less"),
    Row("model-no-inputs", _crafted(inputs=False), "has no input tensors"),
    Row("twin-is-the-model", _config("models:\n  - path: {add}\n    float: {add}\n"), "is the int8 model itself"),
    Row("twin-is-int8", _twin_is_int8, "is int8, expected float32"),
    # ---- configs ----
    Row("config-invalid-utf8", lambda tmp: (["bench", "--config", str(_write(tmp, "c.yaml", b"runs: 3\n\xff\xfe"))],
                                            {}), "not UTF-8 text (byte 0xff at offset 8)"),
    Row("config-top-level-list", _config("- 1\n- 2\n"), "expected a mapping"),
    Row("config-empty", _config(""), "no models listed"),
    Row("config-bad-yaml", _config("models: [\n"), "not valid YAML"),
    Row("config-python-tag", _config("runs: !!python/object/apply:os.system ['touch pwned']\n"), "not valid YAML"),
    Row("config-seed-negative", _config("inputs: {{seed: -1}}\nmodels: [{{path: {add}}}]\n"),
        "inputs.seed: -1 is not allowed: must be >= 0"),
    Row("config-seed-huge", _config("inputs: {{seed: 1e999}}\nmodels: [{{path: {add}}}]\n"), "expected int"),
    Row("config-seed-float", _config("inputs: {{seed: 1.5}}\nmodels: [{{path: {add}}}]\n"), "expected int"),
    Row("config-model-runs-negative", _config("models:\n  - {{path: {add}, runs: -3}}\n"),
        "models[0].runs: -3 is not allowed"),
    Row("config-runs-huge", _config("runs: 100000000000000000000\nmodels: [{{path: {add}}}]\n"), "must be <="),
    Row("config-batch-0", _config("batch: 0\nmodels: [{{path: {add}}}]\n"), "batch: 0 is not allowed"),
    Row("config-warmup-negative", _config("warmup: -1\nmodels: [{{path: {add}}}]\n"), "warmup: -1"),
    Row("config-tolerance-nan", _config("tolerances: {{min_exact_pct: .nan}}\nmodels: [{{path: {add}}}]\n"),
        "expected a finite number"),
    Row("config-tolerance-range", _config("tolerances: {{min_exact_pct: 150}}\nmodels: [{{path: {add}}}]\n"),
        "must be <= 100"),
    Row("config-models-not-list", _config("models: 5\n"), "expected tuple"),
    Row("config-model-not-mapping", _config("models: [5]\n"), "expected ModelEntry"),
    Row("config-mixed-keys", _config("1: 2\nx: 3\nmodels: []\n"), "unknown key"),
    Row("config-unhashable-key", _config("? [a]\n: 3\n"), "not valid YAML"),
    Row("config-reference-unknown", _config("references: [bogus]\nmodels: [{{path: {add}}}]\n"), "unknown 'bogus'"),
    Row("config-source-unknown", _config("inputs: {{source: file}}\nmodels: [{{path: {add}}}]\n"),
        "choose one of random"),
    *[Row(f"config-name-{k}", _config("models:\n  - {{path: {add}, name: " + v + "}}\n"),
          "NUL character" if k == "nul" else "not a plain name") for k, v in HOSTILE_NAMES.items()],
    Row("config-own-name", _config('name: "../x"\nmodels: [{{path: {add}}}]\n'), "not a plain name"),
    # ---- datasets ----
    Row("dataset-not-a-zip", _dataset_file("just text, no zip"), "not a readable .npy/.npz file"),
    Row("dataset-empty-file", _dataset_file(b""), "not a readable .npy/.npz file"),
    Row("dataset-torn-zip", _dataset_file(b"PK\x03\x04" + b"\0" * 40), "not a readable .npy/.npz file"),
    Row("dataset-no-arrays", _dataset(), "no array 'inputs_0' (has nothing)"),
    Row("dataset-zero-samples", _dataset(x=np.zeros((0, 8, 8, 1), np.float32)), "holds no samples"),
    Row("dataset-scalar", _dataset(x=np.float32(1)), "holds no samples"),
    Row("dataset-string-labels", _dataset(x=np.zeros((2, 8, 8, 1), np.float32), y=np.array(["a", "b"])),
        "labels must be integer class indices"),
    Row("dataset-string-inputs", _dataset(x=np.array([["a"] * 64] * 2)), "holds strings"),
    Row("dataset-bool-inputs", _dataset(x=np.zeros((2, 8, 8, 1), bool)), "holds booleans"),
    Row("dataset-object", _dataset(x=np.array([{"a": 1}, None], dtype=object)), "not a readable"),
    Row("dataset-nan", _dataset(x=np.where(np.arange(128).reshape(2, 8, 8, 1) == 70, np.nan, 0.0)),
        "holds 1 NaN/infinite values (first in sample 1)"),
    Row("dataset-inf", _dataset(x=np.full((2, 8, 8, 1), np.inf, np.float32)), "NaN/infinite"),
    Row("dataset-complex", _dataset(x=np.ones((2, 8, 8, 1), np.complex64)), "imaginary part would be dropped"),
    Row("dataset-reshaped", _dataset(x=np.zeros((2, 4, 16), np.float32)), "has samples of shape [4, 16]"),
    Row("dataset-int-out-of-range", _dataset(x=np.full((2, 8, 8, 1), 300, np.int32)), "do not fit input"),
    Row("dataset-label-fraction", _dataset(x=np.zeros((2, 8, 8, 1), np.float32), y=np.array([1.5, 2.0])),
        "label 1.5 at sample 0 is not a whole number"),
    Row("dataset-label-nan", _dataset(x=np.zeros((2, 8, 8, 1), np.float32), y=np.array([1.0, np.nan])),
        "label nan at sample 1 is not a whole number"),
    Row("dataset-label-negative", _dataset(x=np.zeros((2, 8, 8, 1), np.float32), y=np.array([1, -1])),
        "label -1 at sample 1 is negative"),
    Row("dataset-label-out-of-range", _dataset(x=np.zeros((2, 8, 8, 1), np.float32), y=np.array([1, 10])),
        "label 10 is outside the model's 10 classes"),
    Row("dataset-label-count", _dataset(x=np.zeros((2, 8, 8, 1), np.float32), y=np.array([1])), "1 labels for 2"),
    Row("dataset-directory", lambda tmp: (["bench", "--config", str(_write(
        tmp, "c.yaml", f"models:\n  - path: {DIGITS}\n    dataset: {_mkdir(tmp / 'd.npz')}\n"))], {}), "no y_labels.csv"),
    # ---- target files ----
    Row("target-invalid-utf8", lambda tmp: (["bench", "--target", str(_write(tmp, "t.yaml", b"kind: host\n\xc3("))],
                                            {}), "not UTF-8 text"),
    Row("target-unknown-kind", _target("kind: toaster\n"), "unknown target kind 'toaster'"),
    Row("target-own-name", _target("kind: host\nname: ../../escape\n"), "name: '../../escape' is not allowed"),
    Row("target-options-not-mapping", _target("kind: host\noptions: 5\n"), "expected dict"),
    Row("host-kernels-unknown", _target("kind: host\noptions: {{kernels: bogus}}\n"), "choose one of optimized"),
    Row("host-threads-0", _target("kind: host\noptions: {{threads: 0}}\n"), "threads: 0 is not allowed"),
    Row("qemu-clock-negative", _target(QEMU.format(opt="clock_hz: -25")), "clock_hz: -25 is not allowed: must be >= 0"),
    Row("qemu-batch-0", _target(QEMU.format(opt="batch: 0")), "batch: 0 is not allowed: must be >= 1"),
    Row("qemu-frame-timeout-negative", _target(QEMU.format(opt="frame_timeout: -1")),
        "frame_timeout: -1 is not allowed: must be > 0"),
    Row("qemu-frame-timeout-nan", _target(QEMU.format(opt="frame_timeout: .nan")), "expected a finite number"),
    Row("qemu-window-huge", _target(QEMU.format(opt="window: 100000")), "window: 100000 is not allowed"),
    Row("qemu-icount-huge", _target(QEMU.format(opt="icount: 99")), "icount: 99 is not allowed"),
    Row("qemu-board-traversal", _target(QEMU.format(opt="board: ../../../tmp")), "not a plain name"),
    Row("qemu-unknown-option", _target(QEMU.format(opt="clokc_hz: 5")), "unknown key 'clokc_hz'"),
    Row("qemu-elf-not-elf", _target(QEMU.format(opt="elf: /etc/passwd")), "/etc/passwd (options.elf) is not a 32-bit"),
    Row("qemu-elf-x86", _target(QEMU.format(opt=f"elf: {sys.executable}")), "is not a 32-bit Arm ELF"),
    Row("qemu-elf-directory", _target(QEMU.format(opt="elf: /tmp")), "cannot read (Is a directory)"),
    Row("eembc-db-bytes", _target("kind: eembc\noptions: {{url: 'loop://', db_bytes: 99}}\n"),
        "db_bytes: 99 is not allowed: must be <= 38"),
    Row("eembc-fake-timeout-inherited", _target("kind: eembc-fake\noptions: {{command_timeout: 0}}\n"),
        "command_timeout: 0 is not allowed: must be > 0"),
    Row("mcu-retries-negative", _target("kind: mcu\noptions: {{url: 'loop://', retries: -1}}\n"), "retries: -1"),
    Row("ssh-key-missing", _target(SSH.format(opt="key_file: /nonexistent/id_ed25519")),
        "/nonexistent/id_ed25519: SSH key_file (options.key_file or HB_KEY_FILE) not found"),
    Row("ssh-key-garbage", lambda tmp: _target(SSH.format(opt=f"key_file: {_write(tmp, 'k', 'garbage')}"))(tmp),
        "is not a private key we can read"),
    Row("ssh-key-directory", _target(SSH.format(opt="key_file: /tmp")), "SSH key_file (options.key_file or "
        "HB_KEY_FILE) is a directory"),
    Row("ssh-port-range", _target(SSH.format(opt="threads: 1").replace("port: 9", "port: 70000")),
        "port: 70000 is not allowed: must be <= 65535"),
    Row("ssh-port-env", lambda tmp: (_target(SSH.format(opt="threads: 1"))(tmp)[0], {"HB_PORT": "abc"}),
        "environment HB_PORT='abc': expected int"),
    Row("ssh-port-env-range", lambda tmp: (_target(SSH.format(opt="threads: 1"))(tmp)[0], {"HB_PORT": "0"}),
        "environment HB_PORT: 0 is not allowed"),
    Row("ssh-threads-env-nan", lambda tmp: (_target(SSH.format(opt="threads: 1"))(tmp)[0],
                                            {"HB_CONNECT_TIMEOUT": "nan"}), "must be > 0"),
    # ---- an error after real results: they are kept ----
    Row("target-refuses-second-model", _unsupported_second, "tanh: the firmware engine refused it"),
]


def _mkdir(p: Path) -> Path:
    p.mkdir()
    return p


def _link(p: Path, to: str) -> Path:
    os.symlink(to, p)
    return p


@pytest.fixture
def clean_env(monkeypatch):
    for k in ENV_KEYS + ("HB_CONNECT_TIMEOUT",):
        monkeypatch.delenv(k, raising=False)
    return monkeypatch


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_bad_input_is_one_line_exit_2(row: Row, tmp_path, capsys, clean_env):
    results = tmp_path / "results"
    argv, env = row.make(tmp_path)
    for k, v in env.items():
        clean_env.setenv(k, v)
    if argv[0] == "bench" and "--resume" not in argv:
        argv = [*argv, "--results", str(results)]
    clean_env.chdir(tmp_path)  # a relative escape would land here, where the test looks for it
    try:
        rc = cli.main(["--quiet", *argv])
    except SystemExit as e:  # argparse's usage errors
        rc = e.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert rc == 2, (rc, err)
    assert "Traceback" not in err and len(lines) == 1, err
    assert row.expect in lines[0], lines[0]
    assert not list(tmp_path.rglob("pwned")) and not list(tmp_path.rglob("escaped_by_name*"))
    for run_json in results.glob("*/*/run.json"):  # a run that started says why it stopped …
        meta = json.loads(run_json.read_text())
        assert meta["status"].startswith("failed: "), meta["status"]
        for name in meta.get("models", {}):  # … and keeps every model it had measured
            assert np.load(run_json.parent / "outputs" / f"{name}.npz")["outputs_0"].shape[0] == 8
    if row.id == "target-refuses-second-model":
        (run_json,) = results.glob("*/*/run.json")
        assert list(json.loads(run_json.read_text())["models"]) == ["add"]
    else:  # checked before anything runs: not even a run directory
        assert not results.exists()


def test_the_table_covers_every_kind_of_input():
    kinds = {r.id.split("-")[0] for r in ROWS}
    assert {"runs", "RUNS", "model", "twin", "config", "dataset", "target", "qemu", "ssh", "baseline",
            "resume"} <= kinds
    assert len(ROWS) >= 100
