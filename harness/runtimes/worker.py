"""The worker process side of harness.isolate: one interpreter, one model, requests over a pipe.

Requests (a JSON header + numpy arrays, see isolate.send):
  load     {kernels, runtime, threads, where, preserve_all} + [model bytes as uint8]
           → {specs: [...], num_outputs}
  run      + one [n, ...] array per input → one array per output, then ns per invoke()
  tensors  {wanted: [tensor indices] | null} + one row per input → {indices, names} + arrays
End of file on the pipe ends the worker.
"""

from __future__ import annotations

import dataclasses
import os
import resource

import numpy as np

from ..errors import HarnessError
from .interpreters import open_adapter, run_rows
from .isolate import recv, send

MAX_WORKER_BYTES = 16 << 30


def serve(conn, out) -> None:
    """The worker's main loop (a multiprocessing target). Interpreters' prints go to `out`."""
    os.dup2(out.fileno(), 1)
    os.dup2(out.fileno(), 2)
    out.close()
    _limit_memory()
    state: dict = {}
    while True:
        try:
            head, arrays = recv(conn)
        except (EOFError, OSError):
            return
        try:
            reply, result = _HANDLERS[head["op"]](state, head, arrays)
        except HarnessError as e:
            reply, result = {"error": str(e), "kind": type(e).__name__}, []
        except Exception as e:  # a runtime's own exception type while running: named, as one line
            reply, result = {"error": f"{type(e).__name__}: {_first_line(e)}", "kind": "UnsupportedModel"}, []
        send(conn, reply, result)


def _limit_memory() -> None:
    """A damaged shape can make an interpreter allocate gigabytes: cap this process's address space
    (half the machine's memory, at most MAX_WORKER_BYTES) so that it fails alone instead."""
    try:
        phys = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        cap = min(MAX_WORKER_BYTES, phys // 2)
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        if soft == resource.RLIM_INFINITY or soft > cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ValueError, OSError):
        pass  # no limit where the platform has none


def _first_line(e: BaseException) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[-1][:300]


def _load(state: dict, head: dict, arrays: list[np.ndarray]) -> tuple[dict, list]:
    it = open_adapter(arrays[0].tobytes(), head["kernels"], head["runtime"], head["threads"], head["where"],
                      head.get("preserve_all", False))
    state["it"] = it
    specs = [dataclasses.asdict(s) for s in it.output_specs()]
    return {"specs": specs, "num_outputs": it.num_outputs}, []


def _run(state: dict, head: dict, arrays: list[np.ndarray]) -> tuple[dict, list]:
    outs, times = run_rows(state["it"], arrays)
    return {}, [*outs, times]


def _tensors(state: dict, head: dict, arrays: list[np.ndarray]) -> tuple[dict, list]:
    found = state["it"].tensors(arrays, head.get("wanted"))
    return {"indices": [k for k, _, _ in found], "names": [n for _, n, _ in found]}, [a for _, _, a in found]


_HANDLERS = {"load": _load, "run": _run, "tensors": _tensors}


def warm_up() -> None:
    """Run the project's smallest model once on the third-party runtimes, in the forkserver
    (harness.preload). Best effort: a runtime that fails here fails again, with its message, in a worker."""
    from ..core.model import inspect
    from ..core.paths import ROOT

    model = ROOT / "models" / "ops" / "add.tflite"
    if not model.exists():
        return
    data = model.read_bytes()
    rows = [np.zeros((1, *s.shape[1:]), np.int8) for s in inspect(data, str(model)).inputs]
    for kernels in ("optimized", "tflm"):  # not our engine: a later `make native` must not meet a stale copy
        try:
            run_rows(open_adapter(data, kernels, "auto", 1, str(model), False), rows)
        except Exception:  # noqa: BLE001 - see the docstring
            continue
