"""The weekly report for the `wix` fleet: its size, and what headless Chromium makes of it."""

from __future__ import annotations

import html
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
    assert "50,108" in html  # the fleet's topics: 50,000 and its platforms' 108


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


def test_the_risks_section_renders_apart_sorted_by_severity_with_the_min_insync_findings(
        wix_report: ReportFiles) -> None:
    dom = chromium("--dump-dom", wix_report.html.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    risks = dom.stdout.split('<section id="risks">', 1)[1].split("</section>", 1)[0]
    severities = re.findall(r'<td class="severity-(\w+)">', risks)
    assert severities and "min_insync_replicas" in risks
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    assert [order[s] for s in severities] == sorted(order[s] for s in severities)
    plan = dom.stdout.split("Savings plan: first steps", 1)[1].split("</section>", 1)[0]
    assert "min_insync_replicas" not in plan  # risks are not savings
    skipped = dom.stdout.split('<section id="skipped">', 1)[1].split("</section>", 1)[0]
    assert "connect-configs" in skipped and "protected (kafka-connect)" in skipped


LAYOUT_PROBE = """<script>
window.addEventListener("load", () => setTimeout(() => {
  const box = (el) => {
    const r = el.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
            height: r.height};
  };
  const charts = [];
  const viewport = document.documentElement.getBoundingClientRect().width;
  document.querySelectorAll(".js-plotly-plot").forEach((plot, index) => {
    const cell = box(plot.closest(".grid > div") || plot.parentElement);
    const svg = plot.querySelector(".main-svg");
    const title = plot.querySelector(".gtitle");
    const modebar = plot.querySelector(".modebar");
    charts.push({
      index, viewport, cell, svg: svg ? box(svg) : null,
      title: title ? {...box(title), text: title.textContent} : null,
      modebar: modebar ? box(modebar) : null,
      ticks: [...plot.querySelectorAll(".xtick text, .ytick text")]
        .map((t) => ({...box(t), text: t.textContent})),
      bars: [...plot.querySelectorAll(".barlayer .point path")].map(box),
      horizontal: plot.querySelectorAll(".barlayer .point").length > 0
        && plot.data.some((trace) => trace.orientation === "h"),
    });
  });
  const out = document.createElement("pre");
  out.id = "layout-probe";
  out.textContent = JSON.stringify(charts);
  document.body.appendChild(out);
}, 2000));
</script>"""


def _overlap(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    return (a["left"] < b["right"] - 1 and b["left"] < a["right"] - 1
            and a["top"] < b["bottom"] - 1 and b["top"] < a["bottom"] - 1)


def _inside(inner: dict, outer: dict) -> bool:  # type: ignore[type-arg]
    return (inner["left"] >= outer["left"] - 1 and inner["right"] <= outer["right"] + 1
            and inner["top"] >= outer["top"] - 1 and inner["bottom"] <= outer["bottom"] + 1)


def probe_layout(report: ReportFiles, tmp_path: Path, width: int) -> list[dict]:  # type: ignore[type-arg]
    """Every chart's drawn boxes (the DOM's getBoundingClientRect) at a window `width` wide."""
    import json

    probed = tmp_path / "probed.html"
    # Headless Chromium opens no window narrower than 500 px: a narrower page is the report
    # laid out in a `width` px wide root (the report has no media queries; its grid and the
    # charts size from their containers).
    narrow = f"<style>html {{ width: {width}px; }}</style>" if width < 500 else ""
    probed.write_text(report.html.read_text().replace("</head>", narrow + "</head>", 1)
                      .replace("</body>", LAYOUT_PROBE + "</body>"))
    dom = chromium("--dump-dom", f"--window-size={max(width, 500)},4000", probed.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'<pre id="layout-probe">(.*?)</pre>', dom.stdout, re.S)
    assert found, "the probe did not run"
    return list(json.loads(html.unescape(found.group(1))))


@pytest.mark.parametrize("width", [1280, 768, 420])
def test_every_chart_reads_at_desktop_tablet_and_phone_widths(wix_report: ReportFiles,
                                                              tmp_path: Path,
                                                              width: int) -> None:
    """Measured in headless Chromium from the drawn elements' boxes, at each width: every
    chart inside its cell and the viewport; its title whole and clear of the toolbar (which
    shows on hover only); every axis label whole; and a horizontal bar chart's labels leave
    the bars room (the widest bar at least a quarter of the chart, the labels at most half)."""
    charts = probe_layout(wix_report, tmp_path, width)
    assert len(charts) == wix_report.html.read_text().count("Plotly.newPlot")
    assert charts[0]["viewport"] <= width + 1
    for chart in charts:
        svg, title = chart["svg"], chart["title"]
        where = (width, chart["title"] and chart["title"]["text"])
        assert svg is not None and svg["width"] > 100, where  # drawn, not collapsed
        assert svg["left"] >= chart["cell"]["left"] - 1, where
        assert svg["right"] <= chart["cell"]["right"] + 1, where
        assert svg["right"] <= chart["viewport"] + 1, where
        assert title is not None and _inside(title, svg), (where, title, svg)
        if chart["modebar"] is not None and chart["modebar"]["width"] > 0:
            assert not _overlap(chart["modebar"], title), (where, chart["modebar"], title)
        assert chart["ticks"], where
        for tick in chart["ticks"]:
            if tick["width"] > 0:
                assert _inside(tick, svg), (where, tick, svg)
        if chart["horizontal"]:
            widest = max(bar["width"] for bar in chart["bars"])
            labels = max(t["width"] for t in chart["ticks"] if t["width"] > 0
                         and not re.fullmatch(r"[\d.,−-]+[kM]?", t["text"]))
            assert widest >= 0.25 * svg["width"], (where, widest, svg["width"])
            assert labels <= 0.5 * svg["width"], (where, labels, svg["width"])


def test_forecast_charts_are_the_clusters_closest_to_a_limit(wix_report: ReportFiles) -> None:
    import json

    data = json.loads(wix_report.json.read_text())
    html = wix_report.html.read_text()
    shown = re.findall(r"([\w-]+): disk used \(TiB\)", html)
    order = [f["cluster"] for f in data["forecasts"]]
    assert shown and shown == order[:len(shown)]
    soonest = [min((r["days"] for r in f["runways"] if r["days"] is not None), default=None)
               for f in data["forecasts"]]
    known = [d for d in soonest if d is not None]
    assert known == sorted(known) and soonest[:len(known)] == known  # no limit in sight: last
