"""One measured model as a typed result, with tolerance and baseline checks (the pytest plugin's).

BenchResult.from_run() reads a run directory's run.json and metrics.json; nothing is measured
here. require() and check_baseline() raise AssertionError with every broken limit named, so a
pytest failure says what moved and by how much.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..analysis.figures import number
from ..results.files import read_json, write_atomic

BASELINE_KEYS = ("exact_pct", "max_lsb", "p50_us", "swapped_pct")


@dataclass(frozen=True)
class BenchResult:
    """The figures of one model on one target, as the report shows them."""

    model: str
    target: str
    board: str
    samples: int
    exact_pct: float | None  # % of output elements equal to the TFLM oracle's (outputs_0)
    max_lsb: int | None  # max |q_device − q_tflm| over every output tensor
    mean_abs_lsb: float | None
    p50_us: float | None
    p90_us: float | None
    mean_ticks: float | None  # in time_unit (cycles, instructions) on MCUs
    time_unit: str
    swapped_pct: float | None  # predictions that differ from the float twin's (classifiers with a twin)
    top1_vs_tflm_pct: float | None
    verdict: str
    run_dir: str
    place: str | None = None
    update_baselines: bool = False  # --harness-update-baselines: check_baseline() writes instead
    baselines: str = ""  # folder that relative baseline paths are in (--harness-baselines)

    @classmethod
    def from_run(cls, run_dir: Path, model: str | None = None) -> "BenchResult":
        meta = read_json(Path(run_dir) / "run.json")
        mets = read_json(Path(run_dir) / "metrics.json")
        name = model or next(iter(mets))
        m = mets[name]
        vs = [t["vs"]["tflm"] for t in m["tensors"].values() if "tflm" in t["vs"]]
        t = meta.get("target", {})
        cls_ = m.get("classification", {})
        return cls(model=name, target=t.get("name", ""), board=t.get("board", ""), samples=m["samples"],
                   exact_pct=vs[0]["exact_pct"] if vs else None,
                   max_lsb=max(v["max_abs"] for v in vs) if vs else None,
                   mean_abs_lsb=vs[0]["mean_abs"] if vs else None,
                   p50_us=m["latency"].get("p50_us"), p90_us=m["latency"].get("p90_us"),
                   mean_ticks=m.get("ticks", {}).get("mean"), time_unit=t.get("time_unit", ""),
                   swapped_pct=m.get("calibration", {}).get("swapped_pct"),
                   top1_vs_tflm_pct=cls_.get("vs_tflm", {}).get("top1_agreement_pct"),
                   verdict=m.get("verdict", ""), run_dir=str(run_dir), place=t.get("facts", {}).get("place"))

    def where(self) -> str:
        return f"{self.model} on {self.target}" + (f" (place {self.place})" if self.place else "")

    def properties(self) -> dict[str, object]:
        """The measured values, for junit properties (None left out)."""
        skip = ("model", "verdict", "update_baselines", "baselines")
        return {k: v for k, v in asdict(self).items() if v is not None and k not in skip}

    def require(self, max_lsb: int | None = None, min_exact_pct: float | None = None,
                max_swapped_pct: float | None = None, max_p50_us: float | None = None) -> "BenchResult":
        """Absolute limits; AssertionError naming every one that is broken."""
        broken = []
        if max_lsb is not None and (self.max_lsb is None or self.max_lsb > max_lsb):
            broken.append(f"max |Δ| vs TFLM {self.max_lsb} LSB > {max_lsb}")
        if min_exact_pct is not None and (self.exact_pct is None or self.exact_pct < min_exact_pct):
            broken.append(f"exact vs TFLM {self.exact_pct} % < {min_exact_pct} %")
        if max_swapped_pct is not None and (self.swapped_pct or 0.0) > max_swapped_pct:
            broken.append(f"swapped predictions {self.swapped_pct} % > {max_swapped_pct} %")
        if max_p50_us is not None and (self.p50_us is None or self.p50_us > max_p50_us):
            broken.append(f"p50 {self.p50_us} µs > {max_p50_us} µs")
        if broken:
            raise AssertionError(f"{self.where()}: " + "; ".join(broken) + f" (run {self.run_dir})")
        return self

    def check_baseline(self, path: str | Path, update: bool | None = None, max_lsb_increase: int = 0,
                       max_exact_drop_pct: float = 0.0, max_latency_increase_pct: float = 10.0,
                       max_swapped_increase_pct: float = 0.0) -> "BenchResult":
        """Against a baseline JSON (written with update=True); AssertionError naming what regressed."""
        path = Path(self.baselines or ".") / path
        if self.update_baselines if update is None else update:
            write_atomic(path, (json.dumps({k: getattr(self, k) for k in BASELINE_KEYS}, indent=2) + "\n").encode())
            return self
        if not path.exists():
            raise AssertionError(f"{self.where()}: no baseline {path}; record one with --harness-update-baselines")
        base = json.loads(path.read_text())
        broken = []
        if (self.max_lsb or 0) > (base.get("max_lsb") or 0) + max_lsb_increase:
            broken.append(f"max |Δ| {base.get('max_lsb')} → {self.max_lsb} LSB")
        if base.get("exact_pct") is not None and (self.exact_pct or 0) < base["exact_pct"] - max_exact_drop_pct:
            broken.append(f"exact {base['exact_pct']} → {self.exact_pct} %")
        if base.get("p50_us") and self.p50_us is not None:
            change = (self.p50_us / base["p50_us"] - 1) * 100
            if change > max_latency_increase_pct:
                broken.append(f"p50 {number(base['p50_us'])} → {number(self.p50_us)} µs ({change:+.2f} % > "
                              f"{max_latency_increase_pct} %)")
        if (self.swapped_pct or 0) > (base.get("swapped_pct") or 0) + max_swapped_increase_pct:
            broken.append(f"swapped {base.get('swapped_pct')} → {self.swapped_pct} %")
        if broken:
            raise AssertionError(f"{self.where()} regressed against {path}: " + "; ".join(broken))
        return self
