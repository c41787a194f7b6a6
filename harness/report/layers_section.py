"""The per-layer drift part of a model's section: where drift starts, claimed from readable tensors only."""

from __future__ import annotations

import re

from ..analysis.per_layer import first_divergence
from . import plots
from .document import Doc
from .labels import LAYER_COLUMNS

NAME_WIDTH = 48


def short_name(name: str, width: int = NAME_WIDTH) -> str:
    """A tensor name that fits `width`: cut at a separator (/ ; : , space), never mid-word, with the
    end kept (the op's own part of a name like "model/conv2d_3/BiasAdd;model/conv2d_3/Conv2D")."""
    if len(name) <= width:
        return name
    parts = re.split(r"(?<=[/;:, ])", name)
    kept = ""
    for part in reversed(parts):
        if len(kept) + len(part) > width - 1:
            break
        kept = part + kept
    return "…" + kept if kept else name[: width - 1].rsplit("_", 1)[0] + "…"


def _where(r: dict) -> str:
    return f"op {r['index']} {r['op']} ({short_name(r['name'])})"


def claim(rows: list[dict]) -> str:
    """The sentence about where drift starts, honest about unreadable tensors before it."""
    first, blind = first_divergence(rows)
    unread = ", ".join(f"op {r['index']} {r['op']}" for r in blind)
    if first is None:
        return ("Every intermediate tensor is bit-exact with the oracle." if not blind else
                f"Every readable intermediate tensor is bit-exact with the oracle; {unread} could not be read.")
    if not blind:
        return f"First diverging op: {_where(first)}."
    return (f"Drift is first seen at {_where(first)}; before it {unread} could not be read on the target, "
            "so the drift may start there (the attribution below replays such ops).")


def section(doc: Doc, ctx, name: str, rows: list[dict]) -> None:
    doc.h(3, "Per-layer drift (device vs TFLM oracle, same inputs)")
    doc.p(f"{claim(rows)} ({ctx.gloss('per-layer')})")
    first, _ = first_divergence(rows)
    doc.table(["op", "type", "tensor"] + [h for _, h in LAYER_COLUMNS] + [""],
              [[r["index"], r["op"], short_name(r["name"]), *(r.get(k) for k, _ in LAYER_COLUMNS),
                "← first seen" if r is first else r.get("note", "")] for r in rows])
    if ctx.with_plots and _worth_a_plot(rows):
        doc.img(plots.layer_growth(rows, f"{name}: drift through depth"), f"{name} per-layer drift")


def _worth_a_plot(rows: list[dict]) -> bool:
    """A plot through depth needs depth, and something that is not a flat line at 0."""
    return len(rows) > 1 and any(r.get("max_abs") or r.get("float_mae") is not None for r in rows)
