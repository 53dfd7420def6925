"""A real Prometheus server (Debian's package) on a free loopback port, with backfill.

Backfill goes through `promtool tsdb create-blocks-from openmetrics` straight into the server's
own storage while it is stopped, then the server is started again: Prometheus would otherwise
only notice new blocks at its next compaction cycle (a minute or more).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path

from tests.stack.processes import LOOPBACK, ManagedProcess, free_port

# promtool writes one block per 2 h by default, which is many times slower for long histories.
MAX_BLOCK_DURATION = "720h"


def prometheus_binary(name: str = "prometheus") -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(
            f"`{name}` not found: install Debian's package (`apt-get install -y prometheus`); "
            "`make test` does this for you"
        )
    return path


class PrometheusServer:
    def __init__(self, workdir: Path, scrape_targets: list[str] | None = None,
                 scrape_interval_s: int = 5) -> None:
        self.workdir = workdir
        self.storage = workdir / "tsdb"
        self.config_path = workdir / "prometheus.yml"
        self.log_path = workdir / "prometheus.log"
        self.port = free_port()
        self.scrape_targets = scrape_targets or []
        self.extra_jobs: list[tuple[str, str]] = []  # (job name, target), honoring labels
        self.scrape_interval_s = scrape_interval_s
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _write_config(self) -> None:
        if not self.scrape_targets:
            scrape = "scrape_configs: []\n"
        else:
            targets = ", ".join(f"'{target}'" for target in self.scrape_targets)
            scrape = (
                "scrape_configs:\n"
                "  - job_name: kafka\n"
                "    static_configs:\n"
                f"      - targets: [{targets}]\n"
                "        labels:\n"
                "          cluster: stack\n"
            )
        for job, target in self.extra_jobs:
            if scrape.startswith("scrape_configs: []"):
                scrape = "scrape_configs:\n"
            scrape += (f"  - job_name: {job}\n    honor_labels: true\n"
                       f"    static_configs:\n      - targets: ['{target}']\n")
        self.config_path.write_text(
            "global:\n"
            f"  scrape_interval: {self.scrape_interval_s}s\n"
            f"  evaluation_interval: {self.scrape_interval_s}s\n" + scrape
        )

    def add_scrape_job(self, job: str, target: str) -> None:
        """Scrape one more target (keeping its own labels) and reload the running server."""
        self.extra_jobs.append((job, target))
        self._write_config()
        response = urllib.request.urlopen(urllib.request.Request(
            f"{self.url}/-/reload", method="POST"), timeout=10)
        if response.status != 200:
            raise RuntimeError(f"Prometheus refused to reload: {response.status}")

    def _ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as response:
            return bool(response.status == 200)

    def start(self, timeout_s: float = 90.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.storage.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._process = ManagedProcess(
            "prometheus",
            [
                prometheus_binary(),
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.storage}",
                "--storage.tsdb.retention.time=10y",
                f"--web.listen-address={LOOPBACK}:{self.port}",
                "--web.enable-admin-api",
                "--web.enable-lifecycle",
            ],
            self.log_path,
        )
        self._process.start(self._ready, timeout_s=timeout_s)

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running

    def backfill(self, openmetrics_text: str | Path) -> None:
        """Write history from OpenMetrics text (or a file of it) into storage; restarts the server.

        Rules promtool enforces: timestamps in Unix seconds on every sample, families kept
        together, samples of a series in time order, a final `# EOF` line.
        """
        was_running = self.running
        self.stop()
        self.storage.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            if isinstance(openmetrics_text, Path):
                source = openmetrics_text
            else:
                source = Path(tmp) / "input.om"
                source.write_text(openmetrics_text)
            result = subprocess.run(
                [prometheus_binary("promtool"), "tsdb", "create-blocks-from", "openmetrics",
                 f"--max-block-duration={MAX_BLOCK_DURATION}", str(source), str(self.storage)],
                capture_output=True, text=True, check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"promtool backfill failed: {result.stderr.strip()[-2000:]}")
        if was_running:
            self.start()
