"""The weekly report for the `wix` fleet: its size, and what headless Chromium makes of it."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from reports.weekly import ReportFiles, write_report
from tests.fleets import analyzed

CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--virtual-time-budget=15000", "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def wix_report(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return write_report(analyzed("wix"), Path(tmp_path_factory.mktemp("report")), "report",
                        grafana_url="https://grafana.example.com")


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("chromium")
    assert binary, "Debian's chromium is missing: `make test` installs it"
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=180)


def test_report_is_self_contained_and_under_8_mb(wix_report: ReportFiles) -> None:
    html = wix_report.html.read_text()
    assert wix_report.html.stat().st_size < 8 * 1024 * 1024
    assert html.count("plotly.js v") == 1  # embedded once
    assert not re.search(r'<script[^>]+src="https?://', html)  # nothing fetched online
    assert wix_report.json.exists() and all(path.exists() for path in wix_report.csv)
    assert "50,000" in html  # the fleet's topics


def test_report_renders_in_chromium_with_charts_and_no_console_errors(
        wix_report: ReportFiles, tmp_path: Path) -> None:
    url = wix_report.html.as_uri()
    dom = chromium("--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    charts = wix_report.html.read_text().count("Plotly.newPlot")
    assert charts >= 5
    assert dom.stdout.count('class="main-svg"') >= charts  # every chart drew its SVG
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if re.search(r"Uncaught|Error", line)], console

    screenshot = tmp_path / "report.png"
    shot = chromium(f"--screenshot={screenshot}", "--window-size=1400,2400", url)
    assert shot.returncode == 0 and screenshot.exists(), shot.stderr[-2000:]
    image = Image.open(screenshot).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    white = sum(count for count, rgb in colours if min(rgb) > 245)
    assert white / (image.width * image.height) < 0.9  # not blank
    assert len(colours) > 200  # charts, not just text on white
