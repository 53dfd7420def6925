"""`make bench`: costopt at fleet scale beside its baselines, in one command.

Writes bench/results/latest.json ({"figures": [...]}) and prints a table. Every comparison
runs its baseline in the same process, on the same data; timings are medians of 3 runs.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bench.admin_groups import bench_admin_groups
from bench.figures import FIGURES, RUNS, figure, median_seconds, say
from bench.prometheus_fleet import fleet_end_for_bench, fleet_tsdb, start_fleet_prometheus
from bench.real_cardinality import bench_real_cardinality
from costopt.config import ClusterSettings, PrometheusSettings
from costopt.simulate.fleet import generate_fleet
from costopt.simulate.presets import preset
from costopt.sources.collect import build_snapshot
from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.collector import CollectWindow, collect_prometheus
from costopt.sources.prometheus.query_plan import Census

RESULTS = Path(__file__).resolve().parent / "results"
NAIVE_SAMPLE = 200


# Collect -----------------------------------------------------------------------------------

def bench_collect(work: Path) -> None:
    say("collect: the wix fleet (50,000 topics, 30 days, one series per topic and metric) "
        "in a real Prometheus")
    end = fleet_end_for_bench(datetime.now(UTC))
    fleet = generate_fleet(preset("wix"), end=end)
    tsdb = fleet_tsdb(fleet, 30, say)
    server = start_fleet_prometheus(tsdb, work / "prometheus")
    try:
        at = end - timedelta(minutes=30)
        clusters = list(fleet.clusters["cluster"])

        def client(cluster: str) -> PrometheusClient:
            return PrometheusClient(PrometheusSettings(url=server.url, timeout_seconds=300),
                                    cluster)

        # Each cluster's last census, as `costopt collect` keeps it in the collect's job run
        # for the next (an incremental collect may reuse its series counts).
        censuses: dict[str, Census | None] = {}

        def collect_one(cluster: str, since: datetime | None) -> PrometheusClient:
            c = client(cluster)
            data = collect_prometheus(c, CollectWindow(
                at=at, window_seconds=86_400, lookback_seconds=7_200, history_days=30,
                hourly_days=7, since=since), dialect="jmx", census=censuses.get(cluster))
            censuses[cluster] = data.census
            build_snapshot(ClusterSettings(name=cluster, instance_type="m5.2xlarge",
                                           broker_count=3), at, data, None, {})
            return c

        def collect_all(since: datetime | None) -> list[PrometheusClient]:
            # As `costopt collect` does: schedule.collect_concurrency (2) clusters at a time.
            with ThreadPoolExecutor(max_workers=2) as pool:
                return list(pool.map(lambda cluster: collect_one(cluster, since), clusters))

        recorded = collect_all(None)
        initial = median_seconds(lambda: collect_all(None))
        requests = [r for c in recorded for r in c.sent]

        def floor() -> None:
            # The same concurrency as costopt: 2 clusters × 4 queries in flight.
            with httpx.Client(base_url=server.url, timeout=600) as http, \
                    ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(lambda r: http.get(r[0], params=r[1]).content, requests))

        floor_seconds = median_seconds(floor)
        figure("collect_initial_30d_seconds", initial, "s", baseline=floor_seconds,
               baseline_name="the same queries by plain HTTP, unparsed",
               target="<= 30 s and <= 1.5x floor",
               met=initial <= 30 and initial <= 1.5 * floor_seconds, preset_name="wix",
               note=f"{len(requests)} HTTP requests for {len(clusters)} clusters")
        incremental = median_seconds(lambda: collect_all(at - timedelta(minutes=15)))
        figure("collect_incremental_15m_seconds", incremental, "s", target="<= 5 s",
               met=incremental <= 5, preset_name="wix")

        topics = list(fleet.topics["topic"].iloc[:NAIVE_SAMPLE])
        topic_cluster = dict(zip(fleet.topics["topic"], fleet.topics["cluster"], strict=True))
        per_topic_queries = [
            "sum(increase(kafka_server_brokertopicmetrics_{m}_total{{topic={t},"
            "cluster={c}}}[{w}])) / {s}".format(m=m, t=json.dumps(t), c=json.dumps(
                topic_cluster[t]), w=w, s=s)
            for t in topics for m in ("bytesin", "bytesout", "messagesin")
            for w, s in (("1d", 86400), ("1h", 3600))]
        naive = client(clusters[0])

        def custom_loop() -> None:
            for query in per_topic_queries:
                step = 86400 if "[1d]" in query else 3600
                days = 30 if step == 86400 else 7
                naive.connection.custom_query_range(query, start_time=at - timedelta(days=days),
                                                    end_time=at, step=str(step))

        custom = median_seconds(custom_loop, runs=1) * len(fleet.topics) / NAIVE_SAMPLE
        figure("collect_vs_custom_query_range_loop", initial, "s", baseline=custom,
               baseline_name=f"one custom_query_range per topic and metric ({NAIVE_SAMPLE} "
               f"topics timed, scaled to {len(fleet.topics):,})", target="ratio <= 1/3",
               met=initial * 3 <= custom, preset_name="wix")

        def metric_range_loop() -> None:
            for t in topics:
                for metric in ("kafka_server_brokertopicmetrics_bytesin_total",
                               "kafka_server_brokertopicmetrics_bytesout_total",
                               "kafka_server_brokertopicmetrics_messagesin_total",
                               "kafka_log_log_size"):
                    naive.connection.get_metric_range_data(
                        metric, label_config={"topic": t}, start_time=at - timedelta(days=30),
                        end_time=at, chunk_size=timedelta(days=1))

        ranged = median_seconds(metric_range_loop, runs=1) * len(fleet.topics) / NAIVE_SAMPLE
        figure("collect_vs_get_metric_range_data_loop", initial, "s", baseline=ranged,
               baseline_name=f"one get_metric_range_data per topic and metric, 1-day chunks "
               f"({NAIVE_SAMPLE} topics timed, scaled)", target="ratio <= 1/20",
               met=initial * 20 <= ranged, preset_name="wix")
    finally:
        server.stop()


# Analyze -----------------------------------------------------------------------------------

ANALYZE_CHILD = """
import resource, sys, time
from costopt.analyze.analysis import analyze_store
from costopt.config import Settings
from costopt.store import Store
store = Store.open(sys.argv[1])
started = time.perf_counter()
analysis = analyze_store(store, Settings(store_url=sys.argv[1]))
# The peak of this process's own memory: /proc's VmHWM (ru_maxrss keeps, across exec, the peak
# of the process that started this one: the bench itself, gigabytes after its collect part).
try:
    peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(time.perf_counter() - started, peak,
      len(analysis.recommendations))
"""

CACHE_CHILD = """
import sys
from costopt.analyze.analysis import cached_analysis
from costopt.config import Settings
from costopt.store import Store
cached_analysis(Store.open(sys.argv[1]), Settings(store_url=sys.argv[1]))
"""

INPROCESS_CHILD = """
import random, statistics, sys, time
from costopt.analyze.analysis import cached_analysis
from costopt.config import Settings
from costopt.store import Store
from costopt.whatif import Change, Selector, run_whatif
analysis = cached_analysis(Store.open(sys.argv[1]), Settings(store_url=sys.argv[1]))
models = analysis.models
names = [(c, str(t)) for c, m in models.items() for t in m.columns["topic"]]
rng = random.Random(7)
changes = [[Change(selector=Selector(cluster=c, topic=t), retention_ms=86_400_000,
                   compression="zstd")] for c, t in rng.sample(names, 500)]
for one in changes[:50]:
    run_whatif(models, one)
times = []
for one in changes:
    started = time.perf_counter()
    run_whatif(models, one)
    times.append((time.perf_counter() - started) * 1000)
print(statistics.median(times), sorted(times)[int(0.99 * len(times))], len(names))
"""

SCALING_CHILD = """
import sys, time
from tests.fleets import FIXED_END
from costopt.analyze.analysis import analyze_cluster
from costopt.config import Settings
from costopt.cost.owners import OwnerAttribution
from costopt.prices import load_builtin_catalog
from costopt.rules import History
from costopt.simulate.fleet import generate_fleet
from costopt.simulate.presets import preset
from costopt.simulate.snapshots import history_frame, simulate_clusters
from costopt.store.store import StoredSnapshot
inputs = []
for item in simulate_clusters(generate_fleet(preset(sys.argv[1]), end=FIXED_END)):
    history = History.from_series(history_frame(item.series))
    inputs.append((StoredSnapshot(0, item.snapshot, item.catalog, "sim"),
                   load_builtin_catalog(item.catalog), history))
started = time.perf_counter()
for stored, catalog, history in inputs:
    analyze_cluster(stored, catalog, history, {}, Settings(), OwnerAttribution())
print(time.perf_counter() - started)
"""


ONE_CLUSTER_CHILD = """
import sys, time
from dataclasses import replace
from datetime import timedelta
from costopt.config import Settings
from costopt.runs import analyze_run
from costopt.store import Store
store = Store.open(sys.argv[1])
name = store.clusters()[int(sys.argv[2])]
stored = store.latest_snapshot(name)
later = replace(stored.snapshot, taken_at=stored.snapshot.taken_at + timedelta(minutes=15))
store.save_snapshot(later, catalog=stored.catalog, source="bench")  # one cluster's collect
started = time.perf_counter()
detail = analyze_run(Settings(store_url=sys.argv[1]), store)
print(time.perf_counter() - started, ",".join(detail["analyzed"]))
"""


def bench_analyze_one_cluster(store_url: str, full_seconds: float) -> None:
    """The analyze run after one cluster's collect, on a copy of the store whose analysis
    cache is current (as the scheduler leaves it); each run collects another cluster."""
    import shutil

    with tempfile.TemporaryDirectory(prefix="costopt-bench-one-") as tmp:
        copy = Path(tmp) / "wix.db"
        shutil.copyfile(store_url.removeprefix("sqlite:///"), copy)
        url = f"sqlite:///{copy}"
        child(CACHE_CHILD, url)
        runs = [child(ONE_CLUSTER_CHILD, url, str(i)) for i in range(RUNS)]
    seconds = statistics.median(float(r[0]) for r in runs)
    analyzed = [r[1] for r in runs]
    figure("analyze_one_cluster_wix_seconds", seconds, "s", baseline=full_seconds,
           baseline_name="analyze_wix_seconds: every cluster, in the same run",
           target="<= 1.5 s", met=seconds <= 1.5, preset_name="wix",
           note=f"the analyze run after one cluster's collect; analyzed {analyzed}")


def child(code: str, *args: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                            text=True, timeout=1800, cwd=Path(__file__).resolve().parents[1])
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout.split()


def store_fingerprint() -> str:
    """What a cached store was made by: the simulator and the store's schema. A store cached
    by other code would measure the other code's fleet."""
    import hashlib

    root = Path(__file__).resolve().parents[1] / "costopt"
    files = sorted([*(root / "simulate").glob("*.py"), *(root / "store").rglob("*.py")])
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def wix_store() -> str:
    from costopt.simulate.load import load_fleet
    from costopt.store import Store

    end = fleet_end_for_bench(datetime.now(UTC))
    path = Path(os.environ.get("COSTOPT_BENCH_CACHE", Path.home() / ".cache" / "costopt-bench")
                ) / f"wix-{end:%Y%m%d}-{store_fingerprint()}.db"
    if not path.exists():
        say("  loading the wix fleet into a SQLite store (cached for the day)")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        store = Store.open(f"sqlite:///{partial}")
        load_fleet(store, generate_fleet(preset("wix"), end=end))
        store.close()  # the last connection folds the WAL into the file
        partial.rename(path)
    return f"sqlite:///{path}"


def day_store(store_url: str) -> str:
    """The `wix` store with a day of 15-minute snapshots per cluster (`bench/snapshot_history`),
    cached beside it, built once."""
    from bench.snapshot_history import build_day_store, fingerprint

    base = Path(store_url.removeprefix("sqlite:///"))
    path = base.parent / f"wix-day-{fingerprint(base)}.db"
    if not path.exists():
        say("  adding a day of 15-minute snapshots to a copy of the wix store (cached)")
        end = fleet_end_for_bench(datetime.now(UTC))
        build_day_store(base, path, generate_fleet(preset("wix"), end=end), say)
    return f"sqlite:///{path}"


def bench_analyze_day_of_snapshots(store_url: str, one_snapshot_seconds: float) -> None:
    """The same analysis of `wix` as a deployment that collects every 15 minutes has it a
    day in: 96 snapshots per cluster, each with every topic and consumer group."""
    say("analyze: wix with a day of 15-minute snapshots per cluster")
    url = day_store(store_url)
    runs = [child(ANALYZE_CHILD, url) for _ in range(RUNS)]
    seconds = statistics.median(float(r[0]) for r in runs)
    reads, history = group_rows_read(url)
    figure("analyze_wix_day_of_snapshots_seconds", seconds, "s", baseline=one_snapshot_seconds,
           baseline_name="analyze_wix_seconds: one snapshot per cluster, in the same run",
           target="report it", met=True, preset_name="wix",
           note=f"{runs[0][2]} recommendations; group rows read: {reads:,} for the measured "
                f"reads (24 h of committed offsets), {history:,} for the groups' 30-day history")


def group_rows_read(url: str) -> tuple[int, int]:
    """Consumer-group rows in the windows the analysis reads, summed over the clusters: the
    measured reads' (`allocation.reads_window_hours` before each cluster's latest snapshot)
    and the group history's (30 days)."""
    import sqlite3

    from costopt.config import Settings

    windows = (timedelta(hours=Settings().allocation.reads_window_hours), timedelta(days=30))
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        latest = connection.execute(
            "SELECT cluster, max(taken_at) FROM snapshots GROUP BY cluster").fetchall()
        reads, history = (sum(connection.execute(
            "SELECT count(*) FROM snapshot_groups g JOIN snapshots s "
            "ON s.id = g.snapshot_id WHERE s.cluster = ? AND s.taken_at >= ?",
            (cluster, (datetime.fromisoformat(taken) - window).strftime(
                "%Y-%m-%d %H:%M:%S.%f"))).fetchone()[0] for cluster, taken in latest)
            for window in windows)
    return reads, history


def bench_analyze(store_url: str) -> None:
    say("analyze: cost, every rule and forecasts")
    runs = [child(ANALYZE_CHILD, store_url) for _ in range(RUNS)]
    seconds = statistics.median(float(r[0]) for r in runs)
    rss = max(int(r[1]) for r in runs)
    figure("analyze_wix_seconds", seconds, "s", target="<= 5 s", met=seconds <= 5,
           preset_name="wix", note=f"{runs[0][2]} recommendations, from the SQLite store")
    bench_analyze_one_cluster(store_url, seconds)
    bench_analyze_day_of_snapshots(store_url, seconds)
    figure("analyze_wix_peak_rss_bytes", rss, "bytes", target="< 2 GiB", met=rss < 2 * 2**30,
           preset_name="wix")
    median_ms, p99_ms, topics = child(INPROCESS_CHILD, store_url)
    figure("whatif_one_topic_inprocess_ms", float(median_ms), "ms", target="<= 1.5 ms",
           met=float(median_ms) <= 1.5, preset_name="wix",
           note=f"median of 500 one-topic what-ifs (retention and codec) over {topics} topics, "
                f"p99 {float(p99_ms):.2f} ms; run_whatif on the cached analysis, no HTTP")
    wix = statistics.median(float(child(SCALING_CHILD, "wix")[0]) for _ in range(RUNS))
    huge = statistics.median(float(child(SCALING_CHILD, "huge")[0]) for _ in range(RUNS))
    figure("analyze_huge_vs_wix_time_ratio", huge, "s", baseline=wix,
           baseline_name="the same analysis of the wix fleet (in memory, both)",
           target="ratio <= 5.5 (5x the topics)", met=huge / wix <= 5.5, preset_name="huge")


# What-if API -------------------------------------------------------------------------------

def load(url: str, method: str, path: str, body: dict[str, object] | None, seconds: float,
         workers: int = 4) -> tuple[list[float], float]:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    errors = []

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=60,
                          headers={"Authorization": "Bearer bench"}) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = http.request(method, path, json=body)
                elapsed = time.perf_counter() - started
                if response.status_code != 200:
                    errors.append(response.status_code)
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} errors, e.g. HTTP {errors[0]}")
    return latencies, len(latencies) / (time.perf_counter() - started)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_api(work: Path, store_url: str) -> None:
    import hashlib

    import yaml

    from tests.stack.processes import ManagedProcess, free_port

    say("what-if API: a load generator on loopback against `costopt serve`")
    config = work / "serve.yaml"
    config.write_text(yaml.safe_dump({"store_url": store_url, "api": {"tokens": [
        {"name": "bench", "sha256": hashlib.sha256(b"bench").hexdigest(),
         "scopes": ["read"]}]}}))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Two workers, one per core, as docs/deployment.md advises; the baseline endpoint is
    # served by the same processes.
    server = ManagedProcess("serve", [sys.executable, "-m", "jobs", "serve", "--config",
                                      str(config), "--port", str(port), "--workers", "2"],
                            work / "serve.log")
    # As in production, the scheduler's analyze has left the analysis in the store's cache;
    # a new worker loads it rather than computing it.
    child(CACHE_CHILD, store_url)
    spawned = time.perf_counter()
    server.start(lambda: httpx.get(f"{url}/readyz", timeout=1).status_code == 200, 300)
    ready = time.perf_counter() - spawned
    figure("serve_ready_seconds", ready, "s", target="report it", met=True, preset_name="wix",
           note="costopt serve --workers 2 until /readyz answers 200, the analysis loaded from "
                "the store's cache")
    try:
        first = httpx.get(f"{url}/v1/topics", params={"limit": 1}, timeout=300,
                          headers={"Authorization": "Bearer bench"}).json()["items"][0]
        for _ in range(6):  # both workers analyze the fleet once before timing
            httpx.get(f"{url}/v1/clusters", timeout=300, headers={"Authorization": "Bearer bench"})
        one = {"changes": [{"selector": {"cluster": first["cluster"], "topic": first["topic"]},
                            "retention_ms": 3 * 86_400_000, "compression": "zstd"}],
               "horizon_days": 90}
        fleet_wide = {"changes": [{"selector": {"all": True}, "growth_pct": 10}],
                      "horizon_days": 90}
        trivial, trivial_rate = load(url, "GET", "/healthz", None, 10)
        single, single_rate = load(url, "POST", "/v1/whatif", one, 10)
        wide, wide_rate = load(url, "POST", "/v1/whatif", fleet_wide, 15, workers=2)
        p99 = percentile(single, 0.99)
        figure("whatif_one_topic_p99_ms", p99 * 1000, "ms", target="< 25 ms", met=p99 < 0.025,
               preset_name="wix", note=f"p50 {percentile(single, 0.5) * 1000:.1f} ms")
        figure("whatif_one_topic_throughput_rps", single_rate, "req/s", baseline=trivial_rate,
               baseline_name="GET /healthz on the same server (4 clients)",
               target="ratio >= 0.5", met=single_rate >= 0.5 * trivial_rate,
               preset_name="wix", note=f"trivial p50 {percentile(trivial, 0.5) * 1000:.1f} ms")
        p99_wide = percentile(wide, 0.99)
        figure("whatif_fleet_wide_p99_ms", p99_wide * 1000, "ms", target="< 300 ms",
               met=p99_wide < 0.3, preset_name="wix",
               note=f"p50 {percentile(wide, 0.5) * 1000:.1f} ms, {wide_rate:.1f} req/s")
    finally:
        server.stop()


# Report ------------------------------------------------------------------------------------

REPORT_CHILD = """
import sys, time, tempfile
from pathlib import Path
from costopt.analyze.analysis import cached_analysis
from costopt.config import Settings
from costopt.store import Store
from reports.weekly import write_report
analysis = cached_analysis(Store.open(sys.argv[1]), Settings(store_url=sys.argv[1]))
started = time.perf_counter()
files = write_report(analysis, Path(tempfile.mkdtemp()), "report", "https://grafana.example.com")
print(time.perf_counter() - started, files.html.stat().st_size)
"""


EXPORT_CHILD = """
import sys, time
from costopt.analyze.analysis import analyze_store
from costopt.changes.export import FORMATS, export_plan
from costopt.config import Settings
from costopt.store import Store
analysis = analyze_store(Store.open(sys.argv[1]), Settings(store_url=sys.argv[1]))
started = time.perf_counter()
plan = analysis.plan()
planned = time.perf_counter() - started
started = time.perf_counter()
files = sum(len(export_plan(plan, plan.steps, analysis.models, f, {})) for f in FORMATS)
print(time.perf_counter() - started, planned, len(plan.steps), files)
"""


def bench_export(store_url: str) -> None:
    say("export: the wix plan in every change-set format")
    runs = [child(EXPORT_CHILD, store_url) for _ in range(RUNS)]
    seconds = statistics.median(float(r[0]) for r in runs)
    figure("plan_export_wix_seconds", seconds, "s", target="< 10 s", met=seconds < 10,
           preset_name="wix", note=f"all four formats ({runs[0][3]} files) of the "
           f"{runs[0][2]}-step plan; building the plan first took "
           f"{statistics.median(float(r[1]) for r in runs):.1f} s (not counted)")


def bench_report(store_url: str) -> None:
    """The report as the report run renders it: from the analysis (and plans) the analyze
    run left in the store's cache, on a copy of the store."""
    import shutil

    say("report: the weekly report of the wix fleet")
    with tempfile.TemporaryDirectory(prefix="costopt-bench-report-") as tmp:
        copy = Path(tmp) / "wix.db"
        shutil.copyfile(store_url.removeprefix("sqlite:///"), copy)
        url = f"sqlite:///{copy}"
        child(CACHE_CHILD, url)
        runs = [child(REPORT_CHILD, url) for _ in range(RUNS)]
    seconds = statistics.median(float(r[0]) for r in runs)
    size = int(runs[0][1])
    figure("report_wix_seconds", seconds, "s", target="<= 3 s", met=seconds <= 3,
           preset_name="wix")
    figure("report_wix_bytes", size, "bytes", target="< 8 MB", met=size < 8 * 10**6,
           preset_name="wix")


def main() -> int:
    """Every part, or those named in BENCH_ONLY (collect, admin, real, analyze, api, report,
    export); the figures of parts not run are kept from the last results, each with its own
    date."""
    started = time.perf_counter()
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    with tempfile.TemporaryDirectory(prefix="costopt-bench-") as tmp:
        work = Path(tmp)
        if not only or "collect" in only:
            bench_collect(work)
        if not only or "admin" in only:
            bench_admin_groups(work)
        if not only or "real" in only:
            bench_real_cardinality(work)
        if not only or only & {"analyze", "api", "report", "export"}:
            store_url = wix_store()
            if not only or "analyze" in only:
                bench_analyze(store_url)
            if not only or "api" in only:
                bench_api(work, store_url)
            if not only or "report" in only:
                bench_report(store_url)
            if not only or "export" in only:
                bench_export(store_url)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(),
               "platform": platform.platform(),
               "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
               "note": "2-core machine; timings are medians of 3 runs; baselines in the same "
                       "command on the same data", "total_seconds": round(
                           time.perf_counter() - started, 1),
               "when": datetime.now(UTC).isoformat()}
    for item in FIGURES:
        item["machine"] = machine
    RESULTS.mkdir(exist_ok=True)
    latest = RESULTS / "latest.json"
    measured = {item["name"] for item in FIGURES}
    kept = ([item for item in json.loads(latest.read_text())["figures"]
             if item["name"] not in measured] if only and latest.exists() else [])
    latest.write_text(json.dumps({"figures": kept + FIGURES, "machine": machine}, indent=1))
    say("\n| figure | value | unit | baseline | ratio | target | met |")
    say("|---|---|---|---|---|---|---|")
    for f in FIGURES:
        baseline = "" if f["baseline"] is None else f"{f['baseline']:g}"
        say(f"| {f['name']} | {f['value']:g} | {f['unit']} | {baseline} | "
            f"{'' if f['ratio'] is None else f['ratio']} | {f['target']} | "
            f"{'yes' if f['met'] else 'NO'} |")
    say(f"\ntotal {machine['total_seconds']} s; results in {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    sys.exit(main())
