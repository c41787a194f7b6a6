"""Every int8 model of models/ and ../shared/models on the native engine with both kernel sets
against the TFLM interpreter: 1 000 inputs per model in `make test`, 10 000 in `make test-long`
(the first 5 of them the edge inputs: all -128, all 127, alternating both ways, the zero point;
the rest seeded random), every output byte equal. Two worker processes share the inputs."""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from tests.firmware.fwbuild import SHARED_MODELS, both_builds  # noqa: F401 (fixture)
from tests.firmware.model_proof import int8_models, model_id, run_chunk

QUICK, LONG, WORKERS = 1000, 10_000, 2


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(WORKERS, mp_context=mp.get_context("spawn")) as ex:
        yield ex


def _prove(pool, builds, path: Path, n: int) -> None:
    pytest.importorskip("tflite_micro")
    libs = {k: str(b.lib) for k, b in builds.items()}
    per = -(-n // WORKERS)
    t0 = time.monotonic()
    parts = list(pool.map(run_chunk, [str(path)] * WORKERS, [libs] * WORKERS, range(0, n, per),
                          [min(per, n - s) for s in range(0, n, per)]))
    done, bad = sum(p["inputs"] for p in parts), sum(p["bad_inputs"] for p in parts)
    print(f"\n{model_id(path)}: {done} inputs x {len(libs)} kernel sets, {bad} differing, {time.monotonic() - t0:.1f} s")
    assert done == n
    assert bad == 0, f"{bad} of {n} inputs differ from TFLM:\n" + "\n".join(l for p in parts for l in p["first"])


def test_models_found():
    """The proof covers the project's models and, when present, the shared ones."""
    names = {model_id(p) for p in int8_models()}
    assert {"ops/fully_connected", "models/digits_int8"} <= names
    if SHARED_MODELS.is_dir():
        assert {"mlperf_tiny/ad01_int8", "mlperf_tiny/vww_96_int8", "tflm/hello_world_int8"} <= names
        assert not {"mlperf_tiny/ad01_fp32", "tflm/hello_world_float"} & names


@pytest.mark.parametrize("path", int8_models(), ids=model_id)
def test_model_exact(pool, both_builds, path):
    _prove(pool, both_builds, path, QUICK)


@pytest.mark.long
@pytest.mark.parametrize("path", int8_models(), ids=model_id)
def test_model_exact_long(pool, both_builds, path):
    _prove(pool, both_builds, path, LONG)
