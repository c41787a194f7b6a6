"""A person reads report.html: render it in headless Chromium and check the plots show."""

import shutil
import subprocess

import numpy as np
import pytest

from tests.common import run_cli

pytestmark = pytest.mark.long

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_html_report_renders_with_plots(tmp_path):
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("chromium not installed (make test-long installs it)")
    r = run_cli("--quiet", "bench", "--runs", "200", "--per-layer", "2", "--results", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr
    html = next((tmp_path / "r").glob("*/*/report.html"))
    shot = tmp_path / "shot.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=1200,4000", f"--screenshot={shot}", f"file://{html}"],
                   capture_output=True, timeout=120, check=True)
    from matplotlib.image import imread

    img = imread(shot)
    assert img.shape[0] >= 2000 and img.shape[1] >= 1000
    gray = img[..., :3].mean(axis=2)
    assert gray.std() > 0.05, "the page looks blank"
    # plots are drawn in colour: some pixels are far from gray
    colour = np.abs(img[..., 0] - img[..., 2]) > 0.3
    assert colour.mean() > 0.001, "no coloured plot pixels found"


FOLD = (1400, 900)
# Test-side only: after layout, write the boxes the check needs into the DOM (read back with --dump-dom).
BOXES_JS = """<script>addEventListener("load", () => {
  const box = s => { const e = document.querySelector(s); if (!e) return null;
                     const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  document.body.setAttribute("data-boxes", JSON.stringify({verdict: box("#verdict"),
    summary: box("#summary-table"), last: box("#summary-table tr:last-child td.st"), height: innerHeight}));
});</script>"""


def _chromium(chromium: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
                           f"--window-size={FOLD[0]},{FOLD[1]}", *args], capture_output=True, text=True,
                          timeout=120, check=True)


def test_verdict_and_summary_above_the_fold(tmp_path):
    """`make bench`'s run (qemu-m4, the default config: 18 models) at 1400×900 in real headless
    Chromium: the coloured verdict and the whole summary table are visible without scrolling —
    positions from the laid-out DOM, colours from the screenshot at those positions."""
    import json
    import re

    from matplotlib.image import imread

    chromium = shutil.which("chromium")
    if not chromium:
        pytest.skip("chromium not installed (make test-long installs it)")
    r = run_cli("--quiet", "bench", "--target", "qemu-m4", "--results", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr
    html = next((tmp_path / "r").glob("*/*/report.html"))
    shot = tmp_path / "fold.png"
    _chromium(chromium, tmp_path, f"--screenshot={shot}", f"file://{html}")
    probe = tmp_path / "probe.html"
    probe.write_text(html.read_text().replace("</body>", BOXES_JS + "</body>"))
    dom = _chromium(chromium, tmp_path, "--dump-dom", f"file://{probe}").stdout
    boxes = json.loads(re.search(r'data-boxes="([^"]+)"', dom).group(1).replace("&quot;", '"'))
    fold = min(FOLD[1], boxes["height"])
    print(f"screenshot {shot}; boxes {boxes}")
    assert boxes["verdict"][3] <= fold and boxes["summary"][3] <= fold, (boxes, fold)
    assert boxes["summary"][2] <= FOLD[0], boxes  # no horizontal scrolling either
    img = imread(shot)[..., :3]
    assert img.shape[:2] == (FOLD[1], FOLD[0])
    for key in ("verdict", "last"):  # PASS and the last row's BIT-EXACT cell, in the verdict's green
        x, y = int(boxes[key][0]) + 4, int((boxes[key][1] + boxes[key][3]) / 2)
        assert np.allclose(img[y, x], np.array([0xE3, 0xF6, 0xE8]) / 255, atol=0.02), (key, img[y, x])
    md = html.with_name("report.md").read_text()
    summary = md.split("## Summary", 1)[1].split("\n## ", 1)[0]
    assert "PASS: bit-exact on 18/18 models" in md and summary.count("BIT-EXACT") == 18
    assert "not measured" not in summary  # peak arena of every model
    digits = md.split("## Model digits_int8", 1)[1].split("\n## ", 1)[0]
    for row in ("peak tensor arena used", "model (flatbuffer)", "firmware code (.text)", "firmware zeroed data (.bss)"):
        assert re.search(rf"\| {re.escape(row)} \| \d+(\.\d)? [kM]?B", digits), (row, digits[:1500])
    assert "std µs" in digits and "No LSB histogram" in digits
