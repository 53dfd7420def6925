"""A real VictoriaMetrics (Debian's `victoria-metrics` package), single-node, on a free
loopback port: costopt's second backend with Prometheus's HTTP query API.

History is loaded through its import API (`/api/v1/import`, JSON lines), streamed, which is
also a much faster backfill than promtool for large histories. The result cache is off: it
would otherwise keep answers computed before an import.
"""

from __future__ import annotations

import shutil
import urllib.request
from collections.abc import Iterable
from pathlib import Path

import httpx

from tests.stack.processes import LOOPBACK, ManagedProcess, ServerLifecycle, free_port


def victoriametrics_binary() -> str:
    path = shutil.which("victoria-metrics")
    if path is None:
        raise FileNotFoundError(
            "`victoria-metrics` not found: install Debian's package "
            "(`apt-get install -y victoria-metrics`); `make test` does this for you")
    return path


class VictoriaMetricsServer(ServerLifecycle):
    def __init__(self, workdir: Path, flags: list[str] | None = None) -> None:
        self.workdir = workdir
        self.storage = workdir / "data"
        self.log_path = workdir / "victoria-metrics.log"
        self.port = free_port()
        self.flags = list(flags or [])
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
            return bool(response.status == 200)

    def start(self, timeout_s: float = 90.0) -> None:
        self.storage.mkdir(parents=True, exist_ok=True)
        self._process = ManagedProcess(
            "victoria-metrics",
            [victoriametrics_binary(), f"-storageDataPath={self.storage}",
             f"-httpListenAddr={LOOPBACK}:{self.port}", "-retentionPeriod=100y",
             "-search.disableCache", "-loggerLevel=WARN", *self.flags],
            self.log_path)
        self._process.start(self._ready, timeout_s=timeout_s)


    def import_lines(self, body: Iterable[bytes], timeout_s: float = 3600) -> None:
        """Stream JSON lines (`costopt.simulate.openmetrics.victoriametrics_import`) into
        storage, then flush so that every imported sample is searchable."""
        response = httpx.post(f"{self.url}/api/v1/import", content=body, timeout=timeout_s)
        if response.status_code != 204:
            raise RuntimeError(f"VictoriaMetrics refused the import: HTTP "
                               f"{response.status_code}: {response.text[:2000]}")
        flushed = httpx.get(f"{self.url}/internal/force_flush", timeout=600)
        flushed.raise_for_status()
