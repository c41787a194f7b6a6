"""Helpers for tests/eembc: drivers of the three eembc kinds, the TFLM oracle, datasets in the
MLPerf Tiny runner's layout."""

from __future__ import annotations

import contextlib
import dataclasses
from pathlib import Path

import numpy as np

from harness.core.config import TargetConfig, load_target
from harness.drivers import driver_class
from harness.runtimes.runner import Runner


def fake(**options):
    """An unopened eembc-fake driver (error paths only)."""
    t = TargetConfig(kind="eembc-fake", options=options, name="fake", path="fake.yaml")
    return driver_class("eembc-fake")(t)


def qemu_eembc(**options):
    """An unopened qemu-eembc driver: targets/qemu-m4-eembc.yaml with `options` on top."""
    t = load_target("qemu-m4-eembc")
    return driver_class(t.kind)(dataclasses.replace(t, options={**t.options, **options}))


@contextlib.contextmanager
def loaded(driver, model: bytes, name: str):
    """The driver opened, `model` loaded; closed on the way out."""
    with driver:
        driver.open()
        driver.load(model, name)
        yield driver


def qemu_m4():
    t = load_target("qemu-m4")
    return driver_class(t.kind)(t)


def oracle(model: bytes, x: np.ndarray) -> np.ndarray:
    """The TFLM interpreter's int8 outputs for rows x (one input, one output)."""
    r = Runner("tflm")
    r.load(model, "model")
    outs, _ = r.run([x])
    return outs[0]


def random_rows(shape: tuple[int, ...], n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, size=(n, *shape[1:])).astype(np.int8)


def write_runner_dataset(folder: Path, rows: list[bytes], labels: list[int], classes: int) -> Path:
    """One .bin per sample and y_labels.csv (file,num_classes,label), as the runner reads them."""
    folder.mkdir(parents=True)
    lines = []
    for i, (raw, y) in enumerate(zip(rows, labels)):
        (folder / f"sample_{i:03d}.bin").write_bytes(raw)
        lines.append(f"sample_{i:03d}.bin,{classes},{y}")
    (folder / "y_labels.csv").write_text("\n".join(lines) + "\n")
    return folder
