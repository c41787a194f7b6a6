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
