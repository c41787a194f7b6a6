"""What run.json records so that --resume repeats a run exactly — the request, the settings as loaded,
the sha256 of every file read — and the checks that refuse to resume when any of it changed."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..core.config import MAX_RUNS, BenchConfig, TargetConfig, bench_from_record

from ..core.schema import load_dataclass, opt
from ..errors import ConfigError, HarnessError, ResultsError
from .jobs import ModelJob, file_sha256

SETTINGS_ONLY = ("config", "target")  # files whose content is recorded as settings: a missing one is fine


@dataclass(frozen=True)
class Request:
    """What the user asked for; stored in run.json so --resume repeats it exactly."""

    target: str = "host"
    config: str = "default"
    models: tuple[str, ...] = ()  # absolute paths (MODELS=), so a resume from elsewhere finds them
    runs: int | None = opt(None, min=1, max=MAX_RUNS)
    results: str = "results"
    baseline: str | None = None
    per_layer: int = opt(0, min=0, max=100_000)  # samples for per-layer localisation (0: off)
    allow_other_target: bool = False  # --baseline of another kind of target: compare outputs only
    float: str | None = None  # --float: the twin of the one model of `models` (else found by name: run/twins.py)


def check_request(req: Request) -> Request:
    """The request's values in range (the CLI checks its own options; this guards every other caller)."""
    return load_dataclass(Request, dataclasses.asdict(req), "request")


def _file(role: str, path: str) -> dict:
    return {"role": role, "path": path, "sha256": file_sha256(Path(path)) if path else None}


def record(target: TargetConfig, cfg: BenchConfig, jobs: Sequence[ModelJob]) -> dict:
    """run.json `plan`: the files the settings came from and, per model, its files, runs and inputs."""
    return {"files": [_file("config", cfg.path), _file("target", target.path)], "jobs": [j.plan() for j in jobs]}


def _damaged(where: Path, why: str) -> ResultsError:
    return ResultsError(f"{where}: {why}; it cannot be resumed — start a new run")


def recorded(meta: Any, where: Path) -> tuple[Request, TargetConfig, BenchConfig]:
    """The request and the settings a run started with, as recorded in its run.json."""
    if not isinstance(meta, dict):
        raise _damaged(where, "damaged (not a JSON object)")
    for key in ("request", "config", "target_config"):
        if not isinstance(meta.get(key), dict):
            raise _damaged(where, f"damaged or not written by this harness (no {key!r})")
    if not isinstance(meta.get("plan"), dict):
        raise _damaged(where, "written by an older harness (no file hashes to check a resume against)")
    try:
        req = load_dataclass(Request, meta["request"], f"{where}: request")
        target = load_dataclass(TargetConfig, meta["target_config"], f"{where}: target_config")
        cfg = bench_from_record(meta["config"], f"{where}: config")
    except ConfigError as e:
        raise _damaged(where, f"damaged ({e})") from None
    return req, target, cfg


def _entries(meta: dict) -> list[dict]:
    plan = meta["plan"]
    jobs = plan.get("jobs") if isinstance(plan.get("jobs"), list) else []
    entries = list(plan.get("files") or []) + [f for j in jobs if isinstance(j, dict) for f in j.get("files") or []]
    return [e for e in entries if isinstance(e, dict) and isinstance(e.get("path"), str)]


def check_files(meta: dict, where: Path) -> None:
    """Every file the run read still has the content it had: otherwise refuse, naming the file."""
    for e in _entries(meta):
        role, path, then = str(e.get("role")), e["path"], e.get("sha256")
        if not path:
            continue
        now = file_sha256(Path(path))
        if now == then:
            continue
        if now is None and role in SETTINGS_ONLY:
            continue  # the recorded settings are used, the file itself is not needed
        if now is None:
            raise ResultsError(f"{path}: {role} file not found or unreadable; --resume needs the files the run "
                               f"started with ({where})")
        raise ResultsError(f"{path}: {role} file changed since the run started (sha256 {str(then)[:12]}… then, "
                           f"{now[:12]}… now); --resume repeats the recorded run exactly — restore the file or "
                           "start a new run")


def check_plan(meta: dict, jobs: Sequence[ModelJob], where: Path) -> None:
    """The jobs rebuilt from the recorded settings are the recorded ones (names, runs, inputs)."""
    then = [(j.get("name"), j.get("runs"), j.get("inputs")) for j in meta["plan"].get("jobs") or []
            if isinstance(j, dict)]
    now = [(j.name, len(j.inputs), j.inputs.source) for j in jobs]
    if then != now:
        diff = next(((a, b) for a, b in zip(then, now) if a != b), (then[len(now):] or None, now[len(then):] or None))
        raise ResultsError(f"{where}: the recorded run had {diff[0]}, these settings give {diff[1]}; "
                           "it cannot be resumed exactly — start a new run")


def failure_reason(e: BaseException) -> str:
    """One line for run.json `status: failed: …`."""
    if isinstance(e, HarnessError):
        text = str(e)
    elif isinstance(e, KeyboardInterrupt):
        text = "interrupted; finished batches are kept — continue with `harness bench --resume RUN_DIR`"
    elif isinstance(e, MemoryError):
        text = "out of memory; finished batches are kept"
    else:
        text = f"internal error {type(e).__name__}: {e}"
    return " ".join(text.split())[:500]
