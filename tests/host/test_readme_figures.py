"""#16: the README's report excerpts are what a run gives (tools/readme_figures.py writes them).

The quick check reruns the KWS row of the QEMU block — deterministic instruction counts, so every
column must match; the long one reruns every quoted bench (the host block's wall-clock latency
excepted) exactly as `make readme-figures` does."""

from __future__ import annotations

import pytest
import yaml

from tests.common import ROOT, SHARED
from tools import readme_figures as rf

KWS = "kws_ref_model"


def _skip_without_shared_models():
    if not (SHARED / "mlperf_tiny" / f"{KWS}.tflite").is_file():
        pytest.skip(f"{SHARED}/mlperf_tiny not present (third-party models are never copied into the project)")


def test_readme_kws_row_matches_a_fresh_qemu_run(tmp_path):
    _skip_without_shared_models()
    block = rf.BLOCKS["qemu-mlperf"]
    cfg = yaml.safe_load((ROOT / "configs" / f"{block.config}.yaml").read_text())
    base = ROOT / "configs"
    cfg["models"] = [{k: str((base / v).resolve()) for k, v in m.items()} for m in cfg["models"]
                     if m["path"].endswith(f"/{KWS}.tflite")]
    one = tmp_path / "kws.yaml"
    one.write_text(yaml.safe_dump(cfg))
    fresh = rf.table_rows(rf.excerpt(block, rf.run_bench(block, tmp_path / "r", one)), block.deterministic)
    quoted = rf.table_rows(rf.quoted(rf.README.read_text(), "qemu-mlperf"), block.deterministic)
    row = next((r for r in quoted if r["model"] == KWS), None)
    assert row == fresh[0], f"README.md's {KWS} row is stale: run `make readme-figures`\nREADME: {row}\nrun:    {fresh[0]}"


@pytest.mark.long
def test_readme_excerpts_match_fresh_runs(capsys):
    _skip_without_shared_models()
    assert rf.main(["--check"]) == 0, capsys.readouterr().out
