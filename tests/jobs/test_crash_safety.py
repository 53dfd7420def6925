"""The scheduler and the report SIGKILLed at random points, then restarted: no window
duplicated or lost (missed windows are backfilled), no half-written report, no job run left
`running`, and the persistent job store holds each schedule once.

`COSTOPT_KILL_POINTS` kill points of each kind (3 in `make test`, 20 in `make soak`). The
cluster reads a real Prometheus holding the `tiny` fleet's history up to the next hour.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from costopt.config import load_settings
from costopt.simulate.fleet import Fleet, generate_fleet
from costopt.simulate.openmetrics import write_openmetrics
from costopt.simulate.presets import preset
from costopt.sources.collect import collect_cluster, window_end
from costopt.store import Store, sqlite_url
from costopt.store.store import StatusStore
from tests.fleets import fleet
from tests.stack.processes import ManagedProcess, log_tail
from tests.stack.prometheus_server import PrometheusServer

KILL_POINTS = int(os.environ.get("COSTOPT_KILL_POINTS", "3"))
KILL_SEED = int(os.environ.get("COSTOPT_KILL_SEED", "11"))  # make soak draws a new one
# Each restart finds the windows missed since the last kill: enough for its backfill to be
# running (one collect after another) when the next kill lands.
SEEDED_MINUTES_AGO = 10 + 8 * KILL_POINTS
LABEL = "cluster_live"


@dataclass
class Scene:
    config: Path
    store: Store
    cluster: str
    reports: Path
    logs: Path
    seeded: datetime


@pytest.fixture(scope="module")
def live_fleet(empty_prometheus: PrometheusServer) -> Fleet:
    """History up to the next whole hour, so every window up to now has current samples."""
    now = datetime.now(UTC)
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2)
    fleet = generate_fleet(preset("tiny"), end=end)
    out = io.StringIO()
    write_openmetrics(fleet, out, "jmx", days=1.2, step_seconds=300, cluster_label=LABEL)
    empty_prometheus.backfill(out.getvalue())
    return fleet


@pytest.fixture
def scene(tmp_path: Path, empty_prometheus: PrometheusServer, live_fleet: Fleet
          ) -> Iterator[Scene]:
    cluster = str(live_fleet.clusters["cluster"].iloc[0])
    database = tmp_path / "costopt.db"
    config = {
        "store_url": sqlite_url(database),
        "clusters": [{"name": cluster, "instance_type": "m5.2xlarge", "broker_count": 3,
                      "window_seconds": 3_600, "lookback_seconds": 1_800, "hourly_days": 1,
                      "prometheus": {"url": empty_prometheus.url, "dialect": "jmx",
                                     "cluster_label": LABEL}}],
        "schedule": {"collect_every_minutes": 1, "history_days": 1,
                     "analyze_every_minutes": 1_440, "report_cron": "0 6 1 1 *"},
        "report": {"directory": str(tmp_path / "reports")},
    }
    path = tmp_path / "costopt.yaml"
    path.write_text(yaml.safe_dump(config))
    settings = load_settings(path)
    store = Store.open(settings.store_url)
    seeded = window_end(datetime.now(UTC) - timedelta(minutes=SEEDED_MINUTES_AGO), 1)
    collect_cluster(settings.clusters[0], store, settings, at=seeded)
    (tmp_path / "logs").mkdir()
    yield Scene(path, store, cluster, tmp_path / "reports", tmp_path / "logs", seeded)


def _command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "jobs", "-v", *args, "--config", str(config)]


def _kill_at_random(name: str, command: list[str], log: Path, rng: random.Random,
                    window_s: tuple[float, float], begun: str | None = None) -> float:
    """Start, wait for `begun` in the log (if given), SIGKILL after a random delay in
    `window_s`; returns the delay."""
    process = ManagedProcess(name, command, log)
    process.start(lambda: begun is None or begun in log_tail(log, 400), timeout_s=60)
    delay = rng.uniform(*window_s)
    time.sleep(delay)
    process.kill()
    return delay


def _windows(store: Store, cluster: str) -> dict[datetime, int]:
    """Each stored window of the cluster with its snapshot's topic count."""
    with store.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT s.taken_at, count(t.name) FROM snapshots s LEFT JOIN snapshot_topics t "
            "ON t.snapshot_id = s.id WHERE s.cluster = :c GROUP BY s.id, s.taken_at"),
            {"c": cluster})
        out: dict[datetime, int] = {}
        for taken_at, topics in rows:
            assert _utc(taken_at) not in out, "a window was stored twice"
            out[_utc(taken_at)] = topics
        return out


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def test_scheduler_killed_mid_collect_loses_and_duplicates_no_window(scene: Scene) -> None:
    rng = random.Random(KILL_SEED)
    delays = [_kill_at_random(f"scheduler-{point}", _command(scene.config, "collect"),
                              scene.logs / f"scheduler-{point}.log", rng, (0.0, 1.5),
                              begun="this scheduler is the leader")
              for point in range(KILL_POINTS)]
    # The last start runs to the end of its backfill, then is stopped cleanly.
    started = datetime.now(UTC)
    final = ManagedProcess("scheduler-final", _command(scene.config, "collect"),
                           scene.logs / "scheduler-final.log")
    final.start(lambda: "scheduled collect:" in log_tail(final.log_path, 400), timeout_s=120)
    final.stop()
    windows = _windows(scene.store, scene.cluster)
    expected = []
    moment = scene.seeded
    while moment < window_end(started, 1):
        expected.append(moment)
        moment += timedelta(minutes=1)
    missing = sorted(set(expected) - set(windows))
    assert not missing, f"windows lost: {missing}"
    assert all(w <= datetime.now(UTC) for w in windows)
    assert set(windows.values()) == {len(fleet("tiny").topics)}, "a snapshot was stored in part"
    runs = scene.store.jobs(limit=1_000, kind="collect")
    assert not [r for r in runs if r["status"] in ("running", "queued")]
    with scene.store.engine.connect() as connection:
        job_ids = sorted(row[0] for row in connection.execute(text(
            "SELECT id FROM apscheduler_jobs")))
    assert job_ids == sorted(["analyze", "anomalies", "report", f"collect:{scene.cluster}"])
    interrupted = sum(1 for r in runs if "interrupted" in (r["error"] or ""))
    after = ", ".join(f"{d:.1f}" for d in delays)
    print(f"\nkill points mid-collect: {KILL_POINTS} (seed {KILL_SEED}; after {after} s); windows "
          f"{len(expected)} expected, {len(windows)} stored, 0 lost, 0 duplicated; "
          f"interrupted runs closed: {interrupted}")


def test_report_killed_mid_write_leaves_no_half_written_report(scene: Scene) -> None:
    rng = random.Random(KILL_SEED + 1)
    started = time.monotonic()
    _report(scene, "report-first")
    whole_s = time.monotonic() - started
    for point in range(KILL_POINTS):
        _kill_at_random(f"report-{point}", _command(scene.config, "report"),
                        scene.logs / f"report-{point}.log", rng, (0.4 * whole_s, 0.9 * whole_s))
        _check_reports(scene)
    staged = len(list(scene.reports.glob(".*.partial")))  # kills that landed mid-write
    _report(scene, "report-final")
    complete = _check_reports(scene)
    assert complete >= 2
    print(f"\nkill points mid-report: {KILL_POINTS} (a run takes {whole_s:.1f} s; "
          f"{staged} landed while files were staged); complete reports on disk {complete}, "
          f"archived {len(StatusStore(scene.store).reports())}, half-written 0")


def _report(scene: Scene, name: str) -> None:
    run = ManagedProcess(name, _command(scene.config, "report"), scene.logs / f"{name}.log")
    run.start(lambda: True, timeout_s=5)
    assert run.proc is not None and run.proc.wait(120) == 0, log_tail(run.log_path)


def _check_reports(scene: Scene) -> int:
    """Every report on disk is whole with its tables; every archived report is whole."""
    html_files = sorted(scene.reports.glob("costopt-report-*.html")) if scene.reports.exists() \
        else []
    for html in html_files:
        assert html.read_text().rstrip().endswith("</html>"), html
        json.loads(html.with_suffix(".json").read_text())
        assert len(list(scene.reports.glob(html.stem + "-*.csv"))) == 4
    for stray in scene.reports.glob("*") if scene.reports.exists() else []:
        assert stray.name.startswith("costopt-report-") or stray.name.endswith(".partial"), stray
    status = StatusStore(scene.store)
    for report in status.reports():
        assert (status.report_html(report["id"]) or "").rstrip().endswith("</html>")
    return len(html_files)
