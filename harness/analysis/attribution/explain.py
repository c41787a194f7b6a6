"""Per-op attribution over the samples of a per-layer run: TFLM's arithmetic first; when it does
not reproduce the device's tensor, every variant (and, for an input the device overwrote, every
variant of its producer), ranked by the share of elements reproduced."""

from __future__ import annotations

from typing import Sequence

from .arith import Undefined
from .graph import Op, read_ops
from .replay import KERNELS, Sample, Score, candidates, gather_inputs, pairs_for, producers

TOP = 6  # variants listed per op besides TFLM


def explain_op(op: Op, ops: Sequence[Op], samples: Sequence[Sample]) -> dict:
    """One op: verdict tflm | attributed | unexplained | not-replayed, with the variant table."""
    row = {"index": op.index, "op": op.name, "tensor": op.outputs[0].index, "verdict": "not-replayed"}
    try:
        return _explain(op, ops, samples)
    except Undefined as e:
        return {**row, "why": str(e)}
    except (ValueError, IndexError, TypeError, AttributeError, ArithmeticError) as e:  # a model our replay
        return {**row, "why": f"the replay failed ({type(e).__name__}: {e})"}  # does not cover


def _explain(op: Op, ops: Sequence[Op], samples: Sequence[Sample]) -> dict:
    out_t = op.outputs[0].index
    row = {"index": op.index, "op": op.name, "tensor": out_t}
    if op.name not in KERNELS:
        return {**row, "verdict": "not-replayed", "why": f"{op.name} has no host replay"}
    prod = producers(ops)
    usable = [s for s in samples if out_t in s]
    if not usable:
        return {**row, "verdict": "not-replayed", "why": "its output is not readable on the target "
                "(overwritten in place, or not kept)"}
    _, via, why = gather_inputs(op, usable[0], prod)
    if why:
        return {**row, "verdict": "not-replayed", "why": why}
    scores = _score(op, ops, usable, prod, pairs_for(op, via, everything=False))
    tflm = next(iter(scores.values()))
    row.update(samples=len(usable), elements=tflm.total // len(usable), tflm_match_pct=tflm.pct,
               tflm_max_abs=tflm.max_abs)
    if via is not None:
        row["via"] = {"index": via.index, "op": via.name, "tensor": via.outputs[0].index}
    if tflm.exact:
        return {**row, "verdict": "tflm", "best": "tflm"}
    scores = _score(op, ops, usable, prod, pairs_for(op, via, everything=True))
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1].equal, kv[1].max_abs))
    best_key, best = ranked[0]
    row["variants"] = [_entry(k, s) for k, s in ranked[:TOP]]
    row["exact"] = [list(k) for k, s in ranked if s.exact]
    row.update(best=best_key[0], best_via=best_key[1], best_match_pct=best.pct, best_max_abs=best.max_abs,
               verdict="attributed" if best.exact else "unexplained")
    return row


def _score(op, ops, samples, prod, pairs) -> dict:
    scores: dict[tuple, Score] = {}
    for s in samples:
        for v, pv, got in candidates(op, s, prod, pairs):
            scores.setdefault((v.name, pv.name if pv else None), Score()).add(got, s[op.outputs[0].index])
    return scores


def _entry(key: tuple, s: Score) -> dict:
    return {"name": key[0], "via": key[1], "match_pct": s.pct, "max_abs": s.max_abs}


def explain_model(model: bytes, samples: Sequence[Sample], where: str, only: Sequence[int] | None = None) -> list[dict]:
    """Every op (or the ops in `only`) of the model, in execution order."""
    ops = read_ops(model, where)
    return [explain_op(op, ops, samples) for op in ops if only is None or op.index in only]
