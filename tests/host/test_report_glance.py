"""#16: report.md / report.html lead with the answer — verdict, one paragraph, baseline outcome, linked
summary — use human labels and one number formatter, and their plots do not mislead.

One real bench (host target, the default config: the digits CNN with its float twin and labels,
plus one model per firmware operator) feeds the report checks; the rest are pure functions."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from harness.analysis import metrics
from harness.analysis.calibration import reliability, reliability_equal_mass
from harness.analysis.figures import byte_size, number
from harness.report import glossary
from harness.report.labels import ANCHORS, label
from harness.report.layers_section import claim, short_name
from tests.common import run_cli

MACHINE_KEY = re.compile(r"\b(vs_[a-z]+\.\w+|\w+_pct|\w+_dev_(?:mean|max)|top1_\w+|\w+_bytes)\b")
E_NOTATION = re.compile(r"\d(?:\.\d+)?e[+-]\d\d")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "metrics.md"


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    results = tmp_path_factory.mktemp("glance")
    r = run_cli("--quiet", "bench", "--target", "host", "--runs", "30", "--per-layer", "1", "--results", str(results))
    assert r.returncode == 0, r.stderr
    return next(results.glob("*/*/report.md")).parent


def _sections(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith(("# ", "## ", "> **"))]


def test_report_leads_with_verdict_answer_baseline_and_summary(run):
    md = (run / "report.md").read_text()
    heads = _sections(md)
    assert heads[0].startswith("# Bench report — host — ")
    assert re.match(r"> \*\*(PASS|DRIFT|UNCHECKED): ", heads[1]), heads[1]
    assert heads[2:4] == ["## Summary", "## Caveats"] or heads[2] == "## Summary", heads
    assert heads.index("## Target") < heads.index("## Model digits_int8")
    top = md.split("## Summary", 1)[0]
    assert "Does it drift?" in top and "How much against the float model?" in top and "Does it matter?" in top
    assert "Baseline: none given" in top
    assert re.search(r"digits_int8: error [\d.]+ % float → [\d.]+ % device", top), top  # labels: does it matter


def test_summary_rows_link_to_model_sections_and_facts_are_collapsed(run):
    html = (run / "report.html").read_text()
    ids = set(re.findall(r' id="([^"]+)"', html))
    summary = html.split('id="summary-table"', 1)[1].split("</table>", 1)[0]
    links = re.findall(r'<a href="#([^"]+)">', summary)
    assert len(links) == 18 and set(links) <= ids, (links, ids)
    assert 'id="verdict" class="verdict ' in html and '<nav id="contents">' in html
    details = html.split("<details>", 1)[1].split("</details>", 1)[0]
    assert "qemu_pid" not in html.split("<details>", 1)[0]  # no raw facts before the fold (none on host anyway)
    assert "<summary>Target facts" in "<details>" + details
    _valid_html(html)


def test_human_labels_and_one_number_format(run):
    md = (run / "report.md").read_text()
    tables = "\n".join(line for line in md.splitlines() if line.startswith("|"))
    assert not MACHINE_KEY.findall(tables), MACHINE_KEY.findall(tables)[:10]
    latency_rows = [line for line in md.splitlines() if line.startswith("| 30 |")]  # n = 30 inferences
    assert latency_rows and not any(E_NOTATION.search(r) for r in latency_rows), latency_rows[:3]

def test_definitions_links_stay_in_the_page(run):
    """Every "definitions" link goes to the report's own glossary (its last section), never to a path
    outside the results folder; the Markdown gets the same anchors."""
    md, html = (run / "report.md").read_text(), (run / "report.html").read_text()
    linked = set(re.findall(r"\[definitions\]\(#([\w-]+)\)", md))
    assert {"lsb-drift", "float-drift", "latency", "calibration", "per-layer", "sanity"} <= linked, linked
    ids = set(re.findall(r' id="([^"]+)"', html))
    assert linked <= ids and all(f'<a id="{a}"></a>' in md for a in linked)
    assert "metrics.md#" not in html and "metrics.md#" not in md
    assert _sections(md)[-1] == "## Glossary" and "<td>exact vs TFLM %</td>" in html.split('id="glossary"')[1]


def test_memory_on_host_and_bit_exact_plots_left_out(run):
    md = (run / "report.md").read_text()
    digits = md.split("## Model digits_int8", 1)[1].split("\n## ", 1)[0]
    rss = re.search(r"\| peak resident memory \(RSS\)[^|]*\| ([^|]+) \|", digits)
    assert rss and re.fullmatch(r"\d+(\.\d)? [kMG]?B", rss.group(1).strip()), digits[:2000]
    assert "| model (flatbuffer) | 14.9 kB |" in digits
    assert "No LSB histogram: output 0 is bit-exact with every reference" in digits
    html = (run / "report.html").read_text()
    assert 'alt="digits_int8 LSB drift histogram"' not in html and 'alt="digits_int8 reliability diagram"' in html


def test_formatter_never_uses_e_notation_for_ordinary_values():
    assert number(19250.3) == "19 250" and number(1.925e4) == "19 250" and number(18536) == "18 536"
    assert number(4288.232) == "4 288" and number(566.4) == "566.4" and number(0.000679) == "0.000679"
    assert number(0.0) == "0" and number(99.99996) == "99.99996" and number(0.99999) == "0.99999"
    assert number(None) == "–" and number(1.2e-5) == "0.000012" and number(999.97) == "1 000"
    assert byte_size(984) == "984 B" and byte_size(14936) == "14.9 kB" and byte_size(2_489_264) == "2.5 MB"


def test_std_of_equal_latencies_is_zero():
    lat = metrics.latency(np.full(200, 140_076_000, dtype=np.int64))
    assert lat["std_us"] == 0.0 and number(lat["std_us"]) == "0" and number(lat["p50_us"]) == "140 076"


def test_labels_never_show_machine_keys():
    assert label("vs_tflm.top1_agreement_pct") == "top-1 agreement vs TFLM oracle %"
    assert label("float_softmax_sum_dev_max") == "max |Σp − 1| per sample, float twin"
    assert not MACHINE_KEY.search(label("some_new_metric_pct"))


def test_docs_metrics_lists_the_glossarys_terms():
    """The report's glossary is the short form of docs/metrics.md: the same sections (anchors), and
    every metric key the glossary defines is named there."""
    text = DOCS.read_text()
    assert set(re.findall(r'<a id="([\w-]+)"></a>', text)) == set(ANCHORS) == set(glossary.entries())
    named = {w for span in re.findall(r"`([^`]+)`", text) for w in re.findall(r"\w+", span)}
    assert glossary.keys() - named == set()


def _row(i, op, max_abs, first=False):
    return {"index": i, "op": op, "name": f"t{i}", "exact_pct": None if max_abs is None else 100.0,
            "max_abs": max_abs, "first_diverging": first}


def test_first_diverging_claim_only_from_readable_tensors():
    assert claim([_row(0, "CONV_2D", 0), _row(1, "ADD", 2, True)]) == "First diverging op: op 1 ADD (t1)."
    text = claim([_row(0, "CONV_2D", 0), _row(2, "CONV_2D", None), _row(3, "ADD", 2, True)])
    assert text.startswith("Drift is first seen at op 3 ADD (t3); before it op 2 CONV_2D could not be read")
    assert "First diverging" not in text
    assert claim([_row(0, "CONV_2D", 0), _row(1, "ADD", None)]) == (
        "Every readable intermediate tensor is bit-exact with the oracle; op 1 ADD could not be read.")


def test_tensor_names_are_not_cut_mid_word():
    name = "model/conv2d_2/BiasAdd;model/conv2d_2/Conv2D;model/conv2d_5/BiasAdd/ReadVariableOp/resource1"
    short = short_name(name)
    assert len(short) <= 48 and short.startswith("…") and name.endswith(short[1:])
    assert name[len(name) - len(short) + 1 - 1] in "/;:, "  # the cut falls on a separator
    assert short_name("Identity") == "Identity"


def test_equal_mass_bins_hold_enough_samples():
    rng = np.random.default_rng(0)
    conf = np.concatenate([rng.uniform(0.2, 0.6, 6), np.full(194, 0.999)])
    pred, labels = np.zeros(200, int), np.zeros(200, int)
    width = reliability(conf, pred, labels)
    mass = reliability_equal_mass(conf, pred, labels)
    assert min(n for n in width["count"] if n) < 10  # the zig-zag the issue saw: bins of 1–3 samples
    assert min(mass["count"]) >= 20 and sum(mass["count"]) == 200 and mass["bins"] == 10
    assert mass["edges"] == sorted(mass["edges"])


class _Checker(HTMLParser):
    VOID = {"meta", "img", "br", "hr", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def _valid_html(html: str) -> None:
    """Every element closed in order (details, nav, tables): a broken nesting would hide the page."""
    c = _Checker()
    c.feed(html.split("<!doctype html>", 1)[1])
    assert c.stack == [], c.stack


def test_memory_not_recorded_reads_not_measured():
    from types import SimpleNamespace

    from harness.report.memory import memory_rows, summary_cell

    mv = SimpleNamespace(name="m", memory={"model_bytes": 14936})
    mcu = SimpleNamespace(summary=SimpleNamespace(models=[mv]), target={"kind": "qemu"})
    rows = dict(memory_rows(mcu, "m"))
    assert rows["model (flatbuffer)"] == "14.9 kB" and rows["peak tensor arena used"] == "not measured"
    assert rows["firmware code (.text)"] == "not measured" and summary_cell(mcu, "m") == "not measured"
    host = SimpleNamespace(summary=mcu.summary, target={"kind": "ssh"})
    assert [r[0] for r in memory_rows(host, "m")][0].startswith("peak resident memory")


def test_markdown_and_html_keep_one_order():
    from harness.report.document import Cell, Doc

    doc = Doc()
    doc.h(1, "T")
    doc.banner("DRIFT", "DRIFT: 1/2 models differ")
    anchor = doc.anchor("Model a")
    doc.table(["model", "verdict"], [[Cell("a", href=f"#{anchor}"), Cell("DRIFT", status="DRIFT")]], id="summary-table")
    doc.toc()
    doc.details("Target facts (1)")
    doc.table(["fact", "value"], [["nonce", "123"]])
    doc.end_details()
    doc.h(2, "Model a", anchor=anchor)
    doc.p("see [definitions](docs/metrics.md#lsb-drift) and `--baseline`")
    md, html = doc.markdown(), doc.html("T")
    assert md.index("> **DRIFT") < md.index("| [a](#model-a) |") < md.index("Contents: [Model a](#model-a)") \
        < md.index("<details><summary>Target facts") < md.index("## Model a")
    assert html.index('id="verdict" class="verdict drift"') < html.index('<a href="#model-a">a</a>') \
        < html.index('<nav id="contents">') < html.index("<details>") < html.index('<h2 id="model-a">')
    assert '<a href="docs/metrics.md#lsb-drift">definitions</a>' in html and "<code>--baseline</code>" in html
    _valid_html(html)
