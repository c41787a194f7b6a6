"""What `harness recipes` made: the recipes, their names in tables, and the converter's models
(recipes.json) — the data the recipes run (run/recipes.py) and its report (report/recipes.py) share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

RECIPES = ("fp32", "fp16", "dynamic_range", "int8", "int16x8", "int8_qat")
LABELS = {"fp32": "fp32", "fp16": "fp16", "dynamic_range": "dynamic range", "int8": "int8 PTQ",
          "int16x8": "16x8 PTQ", "int8_qat": "int8 QAT"}


@dataclass
class Made:
    """The recipes' models and what is known about each (recipes.json of the converter)."""

    folder: Path | None
    models: dict[str, Path]
    info: dict
    eval: Path | None = None  # the evaluation set the converter wrote (--digits)
    errors: dict[str, str] = field(default_factory=dict)  # recipe -> why it was not made
