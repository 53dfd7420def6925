"""A real Prometheus holding the `wix` fleet's 30-day history (JMX dialect, one series per
topic and metric), built with promtool and cached per day under ~/.cache/costopt-bench."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from costopt.simulate.fleet import Fleet
from costopt.simulate.openmetrics import write_openmetrics_file
from tests.stack.prometheus_server import MAX_BLOCK_DURATION, PrometheusServer


def cache_dir() -> Path:
    return Path(os.environ.get("COSTOPT_BENCH_CACHE", Path.home() / ".cache" / "costopt-bench"))


def _chunk(fleet: Fleet, start_day: int, end_day: int, workdir: Path) -> Path:
    """Days [start_day, end_day) counted back from the fleet's end, as OpenMetrics, then as
    TSDB blocks (the text is deleted once promtool has read it)."""
    text = workdir / f"chunk-{start_day}.om"
    write_openmetrics_file(fleet, text, "jmx", days=end_day - start_day, skip_days=start_day,
                           step_seconds=3600, partition_level=False)
    blocks = workdir / f"blocks-{start_day}"
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics",
                    f"--max-block-duration={MAX_BLOCK_DURATION}", str(text), str(blocks)],
                   check=True, capture_output=True)
    text.unlink()
    return blocks


def fleet_tsdb(fleet: Fleet, days: int = 30, say: object = print) -> Path:
    key = hashlib.sha256(f"{fleet.spec}|{fleet.end.isoformat()}|{days}".encode()).hexdigest()
    target = cache_dir() / f"tsdb-{key[:16]}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    cache_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir()) as tmp:
        work = Path(tmp)
        half = days // 2
        if callable(say):
            say(f"  backfilling {days} days of the fleet into Prometheus (two promtool runs)")
        # Series may not cross chunk boundaries out of order: each chunk is its own blocks.
        with ThreadPoolExecutor(max_workers=2) as pool:
            parts = list(pool.map(lambda r: _chunk(fleet, r[0], r[1], work),
                                  [(half, days), (0, half)]))
        target.mkdir(parents=True)
        for part in parts:
            for block in part.iterdir():
                shutil.move(str(block), target / block.name)
    (target / ".complete").touch()
    return target


def start_fleet_prometheus(tsdb: Path, workdir: Path) -> PrometheusServer:
    server = PrometheusServer(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.copytree(tsdb, server.storage, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".complete"))
    server.start(timeout_s=300)
    return server


def fleet_end_for_bench(now: datetime) -> datetime:
    """Midnight three days ago: stable for a day, so the cached TSDB is reused."""
    from datetime import timedelta

    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
