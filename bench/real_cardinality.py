"""One large cluster at real exporter cardinality, on Prometheus with its default limits and on
VictoriaMetrics: what a first collect costs with costopt's recording rules, without them, and
against the same cluster written one series per topic.

The cluster: 2,800 topics, about 28,000 partitions at RF 3 on 12 brokers, the JMX exporter's
series (log size per partition × replica, counters per topic × leading broker) scraped every
30 s for one day: about 117,000 series and 337M samples. Its TSDB takes promtool over ten
minutes here, so it is built once and cached (with the recorded series, the one-series-per-
topic baseline and the VictoriaMetrics data) in ~/.cache/costopt-bench.
"""

from __future__ import annotations

import hashlib
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.figures import RUNS, figure, say
from bench.prometheus_fleet import cache_dir
from costopt.config import PrometheusSettings
from costopt.simulate.fleet import Fleet, generate_fleet
from costopt.simulate.openmetrics import Count, victoriametrics_import, write_openmetrics_file
from costopt.simulate.presets import FleetSpec
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import CollectWindow, PrometheusData, collect_prometheus
from costopt.sources.prometheus.recording_rules import RULES_PATH
from tests.stack.prometheus_server import MAX_BLOCK_DURATION, PrometheusServer
from tests.stack.victoriametrics_server import VictoriaMetricsServer

SPEC = FleetSpec("large-cluster", clusters=1, topics=2_800, partitions=28_000,
                 consumer_groups=560, days=1, seed=7)
END = datetime(2026, 11, 20, tzinfo=UTC)  # fixed: the cached data serve every day
BROKERS = 12
RF = 3
HOURS_PER_CHUNK = 2  # promtool reads one chunk while the next is written
WINDOW = CollectWindow(at=END, window_seconds=3600, lookback_seconds=600, history_days=1,
                       hourly_days=1)
ROOT = Path(__file__).resolve().parents[1]
VERSION = "1"  # of the data written; bump when the simulator's output changes


def large_cluster() -> Fleet:
    """The generated cluster, with 12 brokers and every topic at RF 3 as the bench states
    (the generator would size brokers by throughput and vary RF)."""
    fleet = generate_fleet(SPEC, end=END)
    fleet.brokers = fleet.brokers.iloc[:BROKERS].reset_index(drop=True)
    fleet.topics["replication_factor"] = RF
    return fleet


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, (VERSION, SPEC, END, *parts))).encode()
                          ).hexdigest()[:16]


def _cached(name: str, build: Callable[[Path], None]) -> Path:
    target = cache_dir() / name
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    cache_dir().mkdir(parents=True, exist_ok=True)
    partial = cache_dir() / f"{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    build(partial)
    partial.rename(target)
    (target / ".complete").touch()
    return target


def _promtool(text: Path, out: Path) -> None:
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                    f"--max-block-duration={MAX_BLOCK_DURATION}", str(text), str(out)],
                   check=True, capture_output=True)
    text.unlink()


def _tsdb(fleet: Fleet, partition_level: bool, target: Path) -> None:
    """The day in chunks of OpenMetrics text, each handed to promtool as the next is
    written; at most two chunks on disk at once (about 4 GB each at real cardinality)."""
    count = Count()
    with ThreadPoolExecutor(max_workers=1) as promtool, tempfile.TemporaryDirectory(
            dir=cache_dir()) as tmp:
        running: Future[None] | None = None
        for start in range(0, 24, HOURS_PER_CHUNK):
            text = Path(tmp) / f"chunk-{start}.om"
            count.samples += write_openmetrics_file(
                fleet, text, "jmx", days=HOURS_PER_CHUNK / 24,
                skip_days=(24 - start - HOURS_PER_CHUNK) / 24, partition_level=partition_level)
            if running is not None:
                running.result()
            running = promtool.submit(_promtool, text, target / f"blocks-{start}")
            say(f"    {start + HOURS_PER_CHUNK} of 24 hours written ({count.samples:,} samples)")
        if running is not None:
            running.result()
    for part in list(target.iterdir()):
        if part.is_dir() and part.name.startswith("blocks-"):
            for block in part.iterdir():
                shutil.move(str(block), target / block.name)
            part.rmdir()


def real_tsdb(fleet: Fleet) -> Path:
    return _cached(f"real-tsdb-{_key('real')}", lambda t: _tsdb(fleet, True, t))


def baseline_tsdb(fleet: Fleet) -> Path:
    return _cached(f"real-baseline-{_key('baseline')}", lambda t: _tsdb(fleet, False, t))


def recorded_blocks(tsdb: Path, work: Path) -> Path:
    """costopt's rules evaluated over the day by `promtool tsdb create-blocks-from rules`,
    as docs/collection.md tells users to backfill them."""
    def build(target: Path) -> None:
        server = _prometheus(work / "rules-backfill", [tsdb])
        try:
            subprocess.run(["promtool", "tsdb", "create-blocks-from", "rules",
                            f"--start={int((END - timedelta(days=1, hours=1)).timestamp())}",
                            f"--end={int(END.timestamp())}", f"--url={server.url}",
                            f"--output-dir={target}", str(ROOT / RULES_PATH)],
                           check=True, capture_output=True)
        finally:
            server.stop()
            shutil.rmtree(server.workdir, ignore_errors=True)
    return _cached(f"real-rules-{_key('rules')}", build)


def victoriametrics_data(fleet: Fleet, work: Path) -> Path:
    def build(target: Path) -> None:
        server = VictoriaMetricsServer(work / "vm-import")
        server.storage = target / "data"
        server.start()
        try:
            count = Count()
            started = time.perf_counter()
            server.import_lines(victoriametrics_import(fleet, "jmx", days=1, count=count))
            say(f"    imported {count.samples:,} samples in "
                f"{time.perf_counter() - started:.0f} s")
        finally:
            server.stop()
    return _cached(f"real-vm-{_key('vm')}", build)


def compacted(name: str, sources: list[Path], work: Path) -> Path:
    """The blocks as a running Prometheus keeps them: promtool writes one block per chunk and
    rule group (about a hundred here), which Prometheus compacts within its first minutes.
    Measuring before that would charge every query for a hundred index lookups."""
    def build(target: Path) -> None:
        server = _prometheus(work / f"compact-{name}", sources)
        try:
            before = _blocks(server.storage)
            deadline = time.monotonic() + 900
            stable_since, count = time.monotonic(), before
            while time.monotonic() < deadline:
                time.sleep(5)
                now = _blocks(server.storage)
                if now != count:
                    stable_since, count = time.monotonic(), now
                elif count < before and time.monotonic() - stable_since > 30:
                    break
        finally:
            server.stop()
        for block in server.storage.iterdir():
            if (block / "meta.json").exists():
                shutil.move(str(block), target / block.name)
        shutil.rmtree(server.workdir, ignore_errors=True)
    return _cached(f"{name}-compacted-{_key(name, *(s.name for s in sources))}", build)


def _blocks(storage: Path) -> int:
    return sum(1 for block in storage.iterdir() if (block / "meta.json").exists())


def _prometheus(workdir: Path, sources: list[Path], query_log: bool = False
                ) -> PrometheusServer:
    """A Prometheus with its default limits on a copy of the given blocks."""
    server = PrometheusServer(workdir, query_log=query_log)
    for source in sources:
        server.copy_blocks_from(source)
    server.start(timeout_s=600)
    return server


def _collect(url: str, cluster: str, rules: str) -> PrometheusData:
    """A first collect with costopt's default settings (client timeout, budgets)."""
    client = PrometheusClient(PrometheusSettings(url=url, dialect="jmx", recording_rules=rules),
                              cluster)
    return collect_prometheus(client, WINDOW, "jmx")


def _timed(action: Callable[[], PrometheusData]) -> tuple[float, PrometheusData]:
    times, data = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        data = action()
        times.append(time.perf_counter() - started)
    assert data is not None
    return statistics.median(times), data


def _samples(entries: list[dict[str, Any]]) -> tuple[int, int, float]:
    """(largest samples read, largest points held, samples/s over the queries that read
    over a million) from Prometheus's query log."""
    read = [e["stats"]["samples"]["totalQueryableSamples"] for e in entries]
    peak = [e["stats"]["samples"]["peakSamples"] for e in entries]
    big = [e for e in entries if e["stats"]["samples"]["totalQueryableSamples"] > 1_000_000]
    rate = (sum(e["stats"]["samples"]["totalQueryableSamples"] for e in big)
            / max(sum(e["stats"]["timings"]["evalTotalTime"] for e in big), 1e-9))
    return max(read, default=0), max(peak, default=0), rate


def _total(entries: list[dict[str, Any]]) -> int:
    return sum(int(e["stats"]["samples"]["totalQueryableSamples"]) for e in entries)


def bench_real_cardinality(work: Path) -> None:
    fleet = large_cluster()
    cluster = str(fleet.clusters["cluster"].iloc[0])
    say(f"real cardinality: one cluster of {len(fleet.topics):,} topics, "
        f"{int(fleet.topics['partitions'].sum()):,} partitions, RF {RF}, {BROKERS} brokers, "
        "30 s scrape, one day (cached TSDBs)")
    tsdb = real_tsdb(fleet)
    baseline = baseline_tsdb(fleet)
    recorded = recorded_blocks(tsdb, work)
    vm_data = victoriametrics_data(fleet, work)

    real = compacted("real", [tsdb, recorded], work)
    baseline = compacted("baseline", [baseline], work)
    server = _prometheus(work / "real", [real], query_log=True)
    try:
        _collect(server.url, cluster, "auto")  # warm the page cache, as the baseline will be
        mark = len(server.queries())
        ruled_seconds, ruled = _timed(lambda: _collect(server.url, cluster, "auto"))
        ruled_log = [e for e in server.queries()[mark:]
                     if f'"{cluster}"' in e["params"]["query"]]
        mark = len(server.queries())
        raw_seconds, raw = _timed(lambda: _collect(server.url, cluster, "off"))
        raw_log = [e for e in server.queries()[mark:] if f'"{cluster}"' in e["params"]["query"]]
        series = int(float(httpx.get(f"{server.url}/api/v1/query", timeout=600, params={
            "query": f'count({{cluster="{cluster}",__name__!~".*:.*"}})',
            "time": END.timestamp() - 60}).json()["data"]["result"][0]["value"][1]))
    finally:
        server.stop()
    base = _prometheus(work / "baseline", [baseline])
    try:
        _collect(base.url, cluster, "auto")
        base_seconds, _ = _timed(lambda: _collect(base.url, cluster, "auto"))
    finally:
        base.stop()
    victoria = VictoriaMetricsServer(work / "vm")
    shutil.copytree(vm_data / "data", victoria.storage)
    victoria.start()
    try:
        _collect(victoria.url, cluster, "off")
        vm_seconds, vm = _timed(lambda: _collect(victoria.url, cluster, "off"))
    finally:
        victoria.stop()

    failed = [e for e in raw_log if "error" in e]
    largest_read, largest_peak, rate = _samples([e for e in raw_log if "error" not in e])
    figure("collect_real_cardinality_rules_ratio", ruled_seconds, "s", baseline=base_seconds,
           baseline_name="the same cluster at one series per topic and metric, no rules",
           target="ratio <= 1.3", met=ruled_seconds <= 1.3 * base_seconds,
           preset_name="large-cluster",
           note=f"recorded figures: {len(ruled.recorded)}; {len(ruled.queries)} queries reading "
                f"{_total(ruled_log) // RUNS:,} samples per collect")
    figure("collect_real_cardinality_raw_seconds", raw_seconds, "s",
           target="0 refused or timed-out queries under default limits",
           met=not failed and raw.refused == 0, preset_name="large-cluster",
           note=f"{len(raw_log) // RUNS} queries per collect reading "
                f"{_total(raw_log) // RUNS:,} samples, {len(failed)} failed, "
                f"{raw.refused} refused; largest query read {largest_read:,} samples and held "
                f"{largest_peak:,} (series x steps); Prometheus read {rate / 1e6:.1f}M "
                f"samples/s per query; {series:,} raw series")
    figure("collect_victoriametrics_ratio", vm_seconds, "s", baseline=raw_seconds,
           baseline_name="the same raw collect from Prometheus", target="report it", met=True,
           preset_name="large-cluster",
           note=f"{len(vm.queries)} queries; topics {len(vm.topics)} vs {len(raw.topics)}")
