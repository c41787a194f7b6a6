"""N runs side by side (`harness compare A B C …`, the lab report's cross-board section).

For every model the runs share (same name and sha256): which runs computed identical bytes
(pairwise compare.compare_model, grouped), the exact-match matrix, and the spread of p50
latency. Identical means every output element of every common sample is equal; anything less
is shown as its exact-match %, never rounded up to 100.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ResultsError
from ..results.files import read_json
from ..results.rundir import RunDir
from .compare import compare_model


def _groups(n: int, same: list[tuple[int, int]]) -> list[list[int]]:
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in same:
        parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def common_models(runs: list[Path]) -> list[str]:
    metas = [read_json(RunDir(r).file("run.json")).get("models", {}) for r in runs]
    first = metas[0]
    return [m for m in first if all(m in o and o[m]["sha256"] == first[m]["sha256"] for o in metas[1:])]


def compare_many(runs: list[Path], labels: list[str] | None = None) -> dict[str, dict]:
    """Per shared model: samples, exact-% matrix, identical-byte groups, p50 per run and spread."""
    if len(runs) < 2:
        raise ResultsError("compare needs at least two run directories")
    labels = labels or [str(r) for r in runs]
    models = common_models(runs)
    if not models:
        raise ResultsError(f"the runs share no model (same name and sha256): {', '.join(map(str, runs))}")
    out = {}
    for name in models:
        n = len(runs)
        matrix: list[list[float | None]] = [[100.0 if i == j else None for j in range(n)] for i in range(n)]
        same, p50 = [], [None] * n
        for i in range(n):
            for j in range(i + 1, n):
                r = compare_model(RunDir(runs[i]), RunDir(runs[j]), name)
                exact = min(t["exact_pct"] for t in r["tensors"].values())
                matrix[i][j] = matrix[j][i] = exact
                if all(t["max_abs"] == 0 for t in r["tensors"].values()):
                    same.append((i, j))
                p50[i], p50[j] = r["p50_us_a"], r["p50_us_b"]
        lo, hi = min(p50), max(p50)
        out[name] = {"labels": labels, "samples": r["samples"], "exact_pct": matrix,
                     "identical_groups": [[labels[i] for i in g] for g in _groups(n, same)],
                     "p50_us": p50, "p50_spread_pct": (hi - lo) / lo * 100 if lo else None}
    return out
