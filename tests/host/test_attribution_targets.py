"""The op replay on real targets. Host (tflite-runtime's optimised x86 kernels): ResNet-8's first
diverging op is attributed to a named variant that reproduces it on 100 % of its elements, from
the CLI, after the fact too (`harness explain`). Bit-exact targets (our firmware on QEMU): every
op says "TFLM arithmetic reproduced exactly". Optimised kernels on generated single-op models:
every op is TFLM's or reproduced exactly by a named variant, never unexplained."""

from __future__ import annotations

import json

import numpy as np
import pytest

from harness.analysis.attribution.explain import explain_op
from harness.analysis.attribution.graph import model_inputs, read_ops
from tests.common import MODELS, run_cli, shared_model
from tests.host.test_attribution_tflm import _matrix_cases, random_rows


def _bench(results, *args) -> tuple:
    r = run_cli("--quiet", "bench", "--runs", "5", "--per-layer", "3", "--results", str(results), *args)
    assert r.returncode == 0, r.stderr
    run = next(results.glob("*/*"))
    return run, (run / "report.md").read_text()


def test_resnet_on_host_first_diverging_op_attributed(tmp_path):
    model = shared_model("mlperf_tiny/pretrainedResnet_quant.tflite")
    run, report = _bench(tmp_path, "--target", "host", "--models", str(model))
    layers = json.loads((run / "layers" / "pretrainedResnet_quant.json").read_text())
    first = next(r for r in layers if r["first_diverging"])
    attr = json.loads((run / "layers" / "pretrainedResnet_quant.attribution.json").read_text())
    row = next(r for r in attr["ops"] if r["index"] == first["index"])
    assert (first["index"], first["op"]) == (3, "ADD") and row["verdict"] == "attributed"
    assert row["best_match_pct"] == 100.0 and row["tflm_match_pct"] < 100.0
    # Its input (op 2's CONV_2D output, overwritten in place by tflite-runtime) rebuilt with ruy's x86
    # rounding; TFLM's rounding for that CONV_2D does not reproduce it, nor does single rounding.
    assert row["via"]["index"] == 2 and ["tflm", "ruy-x86"] in row["exact"]
    assert not any(via in ("tflm", "single-up") for _, via in row["exact"])
    assert not [r for r in attr["ops"] if r["verdict"] == "unexplained"]
    assert "op 3 ADD differs from TFLM arithmetic on" in report and "→ cause: op 2 CONV_2D's kernel" in report
    # After the fact, one op:
    r = run_cli("explain", str(run), "--model", "pretrainedResnet_quant", "--op", "3")
    assert r.returncode == 0, r.stderr
    assert "rebuilt by replaying op 2 CONV_2D with ruy-x86, then this op with tflm" in r.stdout


def test_bit_exact_target_says_tflm_reproduced_for_every_op(tmp_path):
    """Our firmware on the emulated Cortex-M4 (DSP kernels)."""
    run, report = _bench(tmp_path, "--target", "qemu-m4", "--config", "digits")
    attr = json.loads((run / "layers" / "digits_int8.attribution.json").read_text())
    assert len(attr["ops"]) == 8 and all(r["verdict"] == "tflm" for r in attr["ops"])
    assert report.count("| TFLM arithmetic reproduced exactly |") == 8


def test_explain_errors_are_one_line(tmp_path):
    r = run_cli("explain", str(tmp_path))
    assert r.returncode == 2 and r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1


def _tflite_outputs(model: bytes, rows_list: list, kernels: str) -> list[np.ndarray]:
    """Runs in a child process: tflite-runtime 2.14 aborts on some valid models (a 5-D broadcast
    MUL, a depthwise convolution without bias). `optimized` is the built-in kernels without
    default delegates; a single-op model's output tensor is the graph output."""
    import tflite_runtime.interpreter as tfl

    resolver = {"optimized": tfl.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                "reference": tfl.OpResolverType.BUILTIN_REF}[kernels]
    it = tfl.Interpreter(model_content=model, num_threads=1, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    out = []
    for rows in rows_list:
        for d, x in zip(it.get_input_details(), rows):
            it.set_tensor(d["index"], x)
        it.invoke()
        out.append(it.get_tensor(it.get_output_details()[0]["index"]))
    return out


class Runtime:
    """tflite-runtime in a child process, restarted after a crash (which is reported as None)."""

    def __init__(self, kernels: str) -> None:
        self.kernels, self.pool = kernels, None

    def samples(self, model: bytes, n: int, rng) -> list[dict] | None:
        import concurrent.futures as cf
        import multiprocessing as mp

        rows_list = [random_rows(model, rng) for _ in range(n)]
        if self.pool is None:
            self.pool = cf.ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"))
        try:
            outs = self.pool.submit(_tflite_outputs, model, rows_list, self.kernels).result(timeout=120)
        except (cf.process.BrokenProcessPool, RuntimeError, ValueError):
            self.close()
            return None
        op, ins = read_ops(model, "m")[0], model_inputs(model, "m")
        return [{op.outputs[0].index: y, **dict(zip(ins, rows))} for y, rows in zip(outs, rows_list)]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


def test_optimised_mean_is_tflites_height_width_mean():
    model = (MODELS / "ops" / "mean.tflite").read_bytes()
    op = read_ops(model, "mean")[0]
    rt = Runtime("optimized")
    r = explain_op(op, [op], rt.samples(model, 20, np.random.default_rng(5)))
    rt.close()
    assert r["verdict"] == "attributed" and r["exact"][0] == ["tflite-hw", None], r


@pytest.mark.parametrize("kernels", ["optimized", "reference"])
def test_tflite_runtime_kernels_on_generated_models_are_never_unexplained(kernels):
    rt, crashed, named = Runtime(kernels), [], set()
    try:
        for name, build in sorted(_matrix_cases().items()):
            model = build(np.random.default_rng(sum(map(ord, name)))).build()
            samples = rt.samples(model, 8, np.random.default_rng(7))
            if samples is None:
                crashed.append(name)
                continue
            op = read_ops(model, name)[0]
            r = explain_op(op, [op], samples)
            assert r["verdict"] in ("tflm", "attributed"), (name, r)
            if kernels == "reference":
                assert r["verdict"] == "tflm", (name, r)
            named.add(r.get("best"))
    finally:
        rt.close()
    assert len(crashed) <= 4, crashed  # refused or crashed in tflite-runtime: nothing to attribute
    if kernels == "optimized":
        assert "ruy-x86" in named
