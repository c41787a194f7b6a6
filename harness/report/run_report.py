"""report.md and report.html (plots inline) from a run directory; junit.xml with a baseline."""

from __future__ import annotations

from pathlib import Path

from ..analysis.figures import differing, exact_share, percent
from ..errors import RegressionFailed
from ..results.files import read_json, read_npz, write_text
from ..results.rundir import RunDir
from . import plots
from .attribution import report_section as attribution_section
from .document import Doc
from .eembc import section as eembc_section


def build(rd: RunDir, with_plots: bool = True) -> Doc:
    meta = read_json(rd.file("run.json"))
    mets = read_json(rd.file("metrics.json"))
    t = meta.get("target", {})
    doc = Doc()
    doc.h(1, f"Bench report — {t.get('name', '?')} — {meta['run_id']}")
    _target_section(doc, t)
    _summary(doc, mets, t.get("time_unit"))
    for name, m in mets.items():
        _model_section(doc, rd, name, meta["models"][name], m, t, with_plots)
    return doc


def _target_section(doc: Doc, t: dict) -> None:
    doc.p(f"Target {t.get('name')} ({t.get('kind')}): board {t.get('board')}, CPU {t.get('cpu')}, "
          f"time unit {t.get('time_unit')}" + (f", clock {t['clock_hz']} Hz" if t.get("clock_hz") else ""))
    if t.get("time_unit") == "instructions":
        doc.p("Emulated under QEMU with -icount: counts are deterministic instruction counts, not real cycles; "
              "µs assume one instruction per clock.")
    facts = t.get("facts", {})
    for warning in _board_warnings(facts):
        doc.p(f"Warning: {warning}")
    if facts:
        doc.table(["fact", "value"], [[k, v] for k, v in facts.items()])


def _board_warnings(facts: dict) -> list[str]:
    """Linux boards: timings are only comparable at a fixed clock and without throttling."""
    out = []
    gov = facts.get("governor")
    if gov and gov != "performance":
        out.append(f"cpufreq governor is {gov!r}, not 'performance': latency varies with the clock "
                   "(echo performance | sudo tee /sys/devices/system/cpu/cpu*/cpufreq/scaling_governor)")
    thr = str(facts.get("throttled") or "").strip()
    if thr and thr not in ("0", "0x0", "throttled=0x0"):
        out.append(f"the board reports throttling ({thr}): check power supply and cooling")
    if facts.get("emulated"):
        out.append(f"the board is emulated ({facts['emulated']}): latencies are not those of the real board")
    return out


def _summary(doc: Doc, mets: dict, unit: str) -> None:
    """One row per model; exactness over every output tensor, with counts (never a rounded 100)."""
    ticks = unit not in ("ns", None)
    rows = []
    for name, m in mets.items():
        fl = m["tensors"]["outputs_0"].get("float", {})
        cls = m.get("classification", {})
        rows.append([name, m["samples"], m["latency"].get("p50_us")] + ([m["ticks"]["mean"]] if ticks else [])
                    + _vs_tflm(m) + [fl.get("mae"), percent(cls.get("vs_float", {}).get("top1_agreement_pct"))])
    doc.h(2, "Summary")
    doc.table(["model", "samples", "p50 µs"] + ([f"mean {unit}"] if ticks else [])
              + ["exact vs TFLM %", "differing vs TFLM", "max |Δ| LSB", "MAE vs float", "top-1 agree vs float %"], rows)


def _vs_tflm(m: dict) -> list:
    """exact %, what differs (counts) and max LSB against the oracle — or why there is no oracle."""
    ex = m.get("exactness", {}).get("tflm")
    if ex is None:
        return ["unavailable" if "tflm" in m.get("unavailable_references", {}) else None, None, None]
    return [exact_share(ex), differing(ex), ex["max_lsb"]]


def _model_section(doc: Doc, rd: RunDir, name: str, mm: dict, m: dict, t: dict, with_plots: bool) -> None:
    doc.h(2, f"Model {name}")
    if m.get("verdict"):
        doc.p(f"Verdict: {m['verdict']}.")
    doc.p(f"{mm['path']} — sha256 {mm['sha256'][:16]}…, {mm['size']} bytes, ops: {', '.join(sorted(set(mm['ops'])))}; "
          f"inputs: {mm['input_source']}; float twin: {(mm.get('float') or {}).get('path', 'none')}")
    for note in mm["load"].get("notes", []):
        doc.p(f"Note: {note}")
    for ref, why in m.get("unavailable_references", {}).items():
        doc.p(f"Reference {ref} unavailable: {why}.")
    lat = m["latency"]
    doc.h(3, "Latency (on the device, warm-up excluded)")
    doc.table(["n", "min µs", "p50 µs", "mean µs", "p90 µs", "p99 µs", "max µs", "std µs", "load s"],
              [[lat.get(k) for k in ("n", "min_us", "p50_us", "mean_us", "p90_us", "p99_us", "max_us", "std_us")]
               + [m["load_time_s"]]])
    if "ticks" in m:
        tk = m["ticks"]
        doc.p(f"Per inference: mean {tk['mean']:.0f} {tk['unit']} (min {tk['min']}, max {tk['max']}).")
    eembc_section(doc, rd, name, mm)
    if m.get("profile"):
        unit = t.get("time_unit", "ticks")
        doc.h(3, f"Per-op profile (mean {unit} per inference)")
        doc.table(["op", "type", unit, "share %", "µs"],
                  [[r["index"], r["op"], r["ticks"], r["share_pct"], r["us"]] for r in m["profile"]])
    _drift_tables(doc, m)
    if "classification" in m:
        doc.h(3, "Classification")
        doc.table(["metric", "value"], _flatten(m["classification"]))
    if "calibration" in m:
        _calibration(doc, name, m["calibration"], with_plots)
    if m.get("per_layer"):
        _per_layer(doc, name, m["per_layer"], with_plots)
    elif m.get("per_layer_unavailable"):
        doc.h(3, "Per-layer drift")
        doc.p(f"Unavailable: {m['per_layer_unavailable']}.")
    attribution_section(doc, rd, name)
    doc.h(3, "Sanity")
    doc.table(["tensor", "check", "value"],
              [[k, c, v] for k, tm in m["tensors"].items() for c, v in tm["sanity"].items()])
    for note in m.get("explanations", []):
        doc.p(f"Why: {note}.")
    if with_plots:
        _plots(doc, rd, name, m)


def _drift_tables(doc: Doc, m: dict) -> None:
    doc.h(3, "LSB drift (d = q_device − q_ref)")
    rows = [[k, ref, exact_share(v), differing(v), v["mean_abs"], v["max_abs"], percent(v["samples_differing_pct"])]
            for k, tm in m["tensors"].items() for ref, v in tm["vs"].items()]
    doc.table(["tensor", "reference", "exact %", "differing", "mean |d|", "max |d|", "samples differing %"], rows)
    rows = [[k, who, f["mae"], f["rmse"], f["max_abs"], f["cosine"], f["l2_rel"], f["snr_db"]]
            for k, tm in m["tensors"].items()
            for who, f in (("device", tm.get("float")), ("TFLM oracle", tm.get("float_oracle"))) if f]
    if rows:
        doc.h(3, "Float drift vs the float twin (dequantised)")
        doc.table(["tensor", "int8 from", "MAE", "RMSE", "max |Δ|", "cosine", "L2 rel", "SNR dB"], rows)


CAL_ROWS = (("samples", "samples"), ("swapped_pct", "swapped predictions vs float %"),
            ("error_float_pct", "error float %"), ("error_device_pct", "error device %"),
            ("delta_error_pct", "Δ error (device − float) %"), ("swaps_per_abs_delta_error", "swaps / |Δ error|"),
            ("ece_float", "ECE float (15 bins)"), ("ece_device", "ECE device (15 bins)"),
            ("confidence_shift_mean", "top-1 confidence shift (device − float)"),
            ("median_float_confidence_swapped", "median float confidence of swapped"),
            ("median_float_confidence_all", "median float confidence of all"))


def _calibration(doc: Doc, name: str, cal: dict, with_plots: bool) -> None:
    doc.h(3, "Calibration and swapped predictions (float twin vs device)")
    doc.table(["metric", "value"], [[label, cal[k]] for k, label in CAL_ROWS if k in cal])
    h = cal["swaps_by_float_confidence"]
    doc.table(["float confidence bin"] + [f"{a:.1f}–{b:.1f}" for a, b in zip(h["edges"], h["edges"][1:])],
              [["swapped"] + h["swapped"], ["all"] + h["total"]])
    if not with_plots:
        return
    if "reliability_float" in cal:
        doc.img(plots.reliability_diagram(cal["reliability_float"], cal["reliability_device"],
                                          f"{name}: reliability"), f"{name} reliability diagram")
    doc.img(plots.swap_histogram(h, f"{name}: swapped predictions by float confidence"),
            f"{name} swapped predictions histogram")


def _per_layer(doc: Doc, name: str, rows: list[dict], with_plots: bool) -> None:
    doc.h(3, "Per-layer drift (device vs TFLM oracle, same inputs)")
    first = next((r for r in rows if r["first_diverging"]), None)
    doc.p(f"First diverging op: {first['index']} {first['op']} ({first['name']})." if first
          else "Every intermediate tensor is bit-exact with the oracle.")
    doc.table(["op", "type", "tensor", "exact %", "max |Δ| LSB", "float MAE vs twin", ""],
              [[r["index"], r["op"], r["name"][:40], r["exact_pct"], r["max_abs"], r.get("float_mae"),
                "← first" if r["first_diverging"] else r.get("note", "")] for r in rows])
    if with_plots:
        doc.img(plots.layer_growth(rows, f"{name}: drift through depth"), f"{name} per-layer drift")


def _flatten(d: dict, prefix: str = "") -> list[list]:
    rows = []
    for k, v in d.items():
        if isinstance(v, dict):
            rows += _flatten(v, f"{prefix}{k}.")
        else:
            rows.append([prefix + k, v])
    return rows


def _plots(doc: Doc, rd: RunDir, name: str, m: dict) -> None:
    hists = {ref: v["hist"] for ref, v in m["tensors"]["outputs_0"]["vs"].items()}
    if hists:
        doc.img(plots.lsb_histogram(hists, f"{name}: LSB drift, outputs_0"), f"{name} LSB drift histogram")
    times = read_npz(rd.file("outputs", f"{name}.npz"))["times_ns"] / 1e3
    doc.img(plots.latency_distribution(times, f"{name}: latency"), f"{name} latency distribution")


def write_all(rd: RunDir, baseline: str | None = None) -> Path:
    """Write report.md and report.html (and junit.xml against a baseline); returns report.html."""
    doc = build(rd)
    failures: list[str] = []
    if baseline:
        from ..analysis.regression import check_baseline

        failures = check_baseline(rd, Path(baseline), doc)
    title = doc.blocks[0][2]
    write_text(rd.file("report.md"), doc.markdown())
    write_text(rd.file("report.html"), doc.html(title))
    if failures:
        from ..analysis.regression import failure_message

        raise RegressionFailed(failure_message(failures, baseline, rd.file("junit.xml")))
    return rd.file("report.html")
