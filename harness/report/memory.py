"""Memory figures in the report: peak arena, model and firmware sizes on MCUs; peak RSS and model
size on host/SSH targets. The figures are collected by the bench (analysis.verdict.memory_of
names them); a figure that was not recorded reads "not measured", never a dash."""

from __future__ import annotations

from ..analysis.figures import share
from .labels import size

HOST_KINDS = ("host", "ssh")
MCU_ROWS = (("arena_used_bytes", "peak tensor arena used"), ("arena_bytes", "tensor arena available"),
            ("model_bytes", "model (flatbuffer)"), ("firmware_text_bytes", "firmware code (.text)"),
            ("firmware_data_bytes", "firmware initialised data (.data)"),
            ("firmware_bss_bytes", "firmware zeroed data (.bss)"))
HOST_ROWS = (("peak_rss_bytes", "peak resident memory (RSS) of the process that ran the model"),
             ("model_bytes", "model (flatbuffer)"))


def is_host(target: dict) -> bool:
    return str(target.get("kind")) in HOST_KINDS


def figures(ctx, name: str) -> dict:
    """The model's memory figures from the run summary (keys of analysis.verdict.MEMORY_KEYS)."""
    for mv in getattr(ctx.summary, "models", ()):
        if mv.name == name:
            return dict(mv.memory)
    return {}


def memory_rows(ctx, name: str) -> list[list]:
    got = figures(ctx, name)
    rows = [[text, size(got.get(key))] for key, text in (HOST_ROWS if is_host(ctx.target) else MCU_ROWS)]
    if "arena_used_bytes" in got and got.get("arena_bytes"):
        rows[0][1] += f" ({share(got['arena_used_bytes'], got['arena_bytes'])} % of the arena)"
    return rows


def summary_cell(ctx, name: str) -> str:
    """The summary table's memory column: peak arena on an MCU, peak RSS on a host."""
    got = figures(ctx, name)
    return size(got.get("peak_rss_bytes" if is_host(ctx.target) else "arena_used_bytes"))


def summary_header(target: dict) -> str:
    return "peak RSS" if is_host(target) else "peak arena"
