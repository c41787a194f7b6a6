"""The MLPerf Tiny runner's performance mode over an eembc driver: windows of one uploaded sample
and `infer N W`, throughput N / (t1 − t0) per window from the device's two m-lap-us stamps,
the median over the windows (the runner's figure) and the latency (t1 − t0) / N beside it.

The runner uses fixed counts (tests_performance.yaml: kws01 70/10, ic01 and vww01 20/5, ad01
1500/10), five windows, and requires at least 10 s per window for a submission; here N is
raised until a window lasts `perf_window_s` of device time, and shorter windows (tests, QEMU)
are recorded as not valid for a submission.
"""

from __future__ import annotations

import math

import numpy as np

from . import values as ev

SUBMISSION_WINDOWS = 5
SUBMISSION_WINDOW_S = 10.0


def _counts(driver, latency_us: float) -> tuple[int, int]:
    """(N, W): the runner's counts for the model, N raised to fill perf_window_s."""
    o = driver.opts
    facts = ev.MODELS.get(driver.device["model"])
    n, w = tuple(o.perf_counts) if o.perf_counts else (facts.perf if facts else ev.DEFAULT_PERF)
    need = math.ceil(o.perf_window_s * 1e6 / max(latency_us, 1.0))
    return max(n, need, 1), w


def _single_latency_us(driver, x: np.ndarray) -> float:
    """Device µs of one inference: from run() when it ran, else one `infer 1 0` now."""
    if driver.single_us:
        return float(np.median(driver.single_us))
    reply = driver.infer(driver.encode(x[0]), 1, 0)
    return float(reply.elapsed_us)


def performance(driver, x: np.ndarray) -> dict:
    """Run the windows on samples 0, 1, … of x (cycling); every figure of the mode."""
    o = driver.opts
    n, w = _counts(driver, _single_latency_us(driver, x))
    windows = []
    for i in range(o.perf_windows):
        data = driver.encode(x[i % len(x)])
        single = driver.printed.get(data)
        reply = driver.infer(data, n, w)
        dt = max(reply.elapsed_us, 1)
        windows.append({"sample": i % len(x), "n": n, "warmup": w, "elapsed_us": reply.elapsed_us,
                        "throughput_inf_s": n * 1e6 / dt, "latency_us": dt / n,
                        "per_inference": dt * driver.tick_scale() / n,
                        "results_match_single": None if single is None else reply.values == single})
    thr = [x["throughput_inf_s"] for x in windows]
    lat = [x["latency_us"] for x in windows]
    short = [x for x in windows if x["elapsed_us"] < SUBMISSION_WINDOW_S * 1e6]
    why = []
    if len(windows) != SUBMISSION_WINDOWS:
        why.append(f"{len(windows)} windows, the runner requires {SUBMISSION_WINDOWS}")
    if short:
        why.append(f"{len(short)} windows shorter than {SUBMISSION_WINDOW_S:g} s of device time")
    return {"model_id": driver.device["model"], "n": n, "warmup": w, "windows": windows,
            "median_throughput_inf_s": float(np.median(thr)), "median_latency_us": float(np.median(lat)),
            "median_per_inference": float(np.median([x["per_inference"] for x in windows])),
            "unit": driver.time_unit(), "valid_for_submission": not why, "not_valid_because": "; ".join(why),
            "time_note": driver.time_note()}
