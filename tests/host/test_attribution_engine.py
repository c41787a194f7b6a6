"""A deliberately altered engine is caught and attributed: our firmware core built with
HB_ALTER_FC_SINGLE_ROUNDING (FULLY_CONNECTED requantises with one rounding, ties up) gives
per-layer tensors that the replay says are not TFLM's and are reproduced exactly by
single rounding; the stock build of the same core is TFLM's on every op. Through the run
directory, as `harness explain` reads it after the fact."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from harness.analysis.attribution import store
from harness.analysis.attribution.graph import model_inputs
from harness.report import explain as command
from harness.results.files import write_json
from harness.results.rundir import RunDir
from tests.common import MODELS, ROOT

FIRMWARE = ROOT / "firmware"


def _build(name: str, cc: str) -> str:
    if not shutil.which("make") or not shutil.which("gcc"):
        pytest.skip("no gcc / make on this machine")
    r = subprocess.run(["make", "-s", "-C", str(FIRMWARE), "native", f"NATIVE_DIR=build/{name}", f"CC={cc}"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return str(FIRMWARE / "build" / name / "libhbcore.so")


@pytest.fixture(scope="module")
def altered() -> str:
    return _build("native-alter-fc", "gcc -DHB_ALTER_FC_SINGLE_ROUNDING")


@pytest.fixture(scope="module")
def stock() -> str:
    return _build("native", "gcc")


def _fc_model() -> bytes:
    """One FULLY_CONNECTED, 16 x 64 outputs per sample; a multiplier of about 2^-4 (a short final
    shift) makes the two roundings differ on a few % of the outputs, small weights keep them in range."""
    from tools.tflite_build import ModelBuilder

    rng = np.random.default_rng(18)
    m = ModelBuilder()
    x = m.tensor((16, 64), np.int8, 0.05, 3)
    w = m.tensor((64, 64), np.int8, 0.01, 0, rng.integers(-4, 5, (64, 64)))
    b = m.tensor((64,), np.int32, 0.0005, 0, rng.integers(-3000, 3000, 64))
    y = m.tensor((16, 64), np.int8, 0.0071, -5)
    m.op("FULLY_CONNECTED", [x, w, b], [y], {0: ("u8", 0)})
    m.inputs, m.outputs = [x], [y]
    return m.build()


def _run_dir(tmp_path, lib: str, models: dict[str, bytes]) -> RunDir:
    """A run directory with per-layer tensors from the engine `lib`, as bench --per-layer keeps them."""
    from harness.runtimes.native import NativeEngine

    rd = RunDir(tmp_path / "run")
    write_json(rd.file("run.json"), {"run_id": "run", "models": {n: {} for n in models}})
    for name, data in models.items():
        eng = NativeEngine(data, preserve_all=True, lib=lib)
        spec = eng.input_info(0)

        def tensors(rows):
            eng.set_input(0, rows[0])
            eng.invoke()
            return {t: v for t in map(eng.op_output_tensor, range(eng.num_ops)) if (v := eng.tensor(t)) is not None}

        rec = store.Recorder(tensors)
        rng = np.random.default_rng(3)
        for _ in range(3):
            rec([rng.integers(-128, 128, spec.shape, dtype=np.int8)])
        store.save(rd, name, data, rec)
    return rd


def _models() -> dict[str, bytes]:
    return {"fc": _fc_model(), "digits": (MODELS / "digits_int8.tflite").read_bytes()}


def test_altered_fully_connected_is_caught_and_attributed(tmp_path, altered):
    rd = _run_dir(tmp_path, altered, _models())
    text = command.explain(str(rd.path))
    for name in ("fc", "digits"):  # digits' small FULLY_CONNECTEDs may not meet a tie in 3 samples
        rows = store.read(rd, name)["ops"]
        fcs = [r for r in rows if r["op"] == "FULLY_CONNECTED" and r["verdict"] != "tflm"]
        assert fcs or name == "digits", f"{name}: the altered FULLY_CONNECTED was not caught"
        for r in fcs:
            assert r["verdict"] == "attributed" and r["exact"][0] == ["single-up", None], r
        assert all(r["verdict"] == "tflm" for r in rows if r["op"] != "FULLY_CONNECTED"), name
    fc = store.read(rd, "fc")["ops"][0]
    assert ["ruy-x86", None] not in fc["exact"] and fc["tflm_match_pct"] < 100
    assert "FULLY_CONNECTED | " in text and "reproduced exactly by single-up" in text
    assert "cause: kernel arithmetic, not the board" in text


def test_stock_engine_is_tflm_on_every_op(tmp_path, stock):
    rd = _run_dir(tmp_path, stock, _models())
    command.explain(str(rd.path))
    for name in ("fc", "digits"):
        assert all(r["verdict"] == "tflm" for r in store.read(rd, name)["ops"]), name


def test_explain_names_what_is_missing(tmp_path, stock):
    from harness.errors import ResultsError

    rd = _run_dir(tmp_path, stock, {"fc": _fc_model()})
    with pytest.raises(ResultsError, match="no model 'nope'"):
        command.explain(str(rd.path), "nope")
    with pytest.raises(ResultsError, match=r"has no op 5 \(ops 0..0\)"):
        command.explain(str(rd.path), "fc", 5)
    store.tensors_path(rd, "fc").unlink()
    with pytest.raises(ResultsError, match="--per-layer"):
        command.explain(str(rd.path))
    assert model_inputs(_fc_model(), "fc") == [0]
