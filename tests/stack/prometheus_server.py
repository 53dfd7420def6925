"""A real Prometheus server (Debian's package) on a free loopback port, with backfill.

Backfill goes through `promtool tsdb create-blocks-from openmetrics` straight into the server's
own storage while it is stopped, then the server is started again: Prometheus would otherwise
only notice new blocks at its next compaction cycle (a minute or more). Recorded series are
backfilled the same way, with `promtool tsdb create-blocks-from rules` evaluating the rules
against the running server. Optional: extra flags (e.g. low `--query.max-samples` and
`--query.timeout`), rule files, and a query log (one JSON line per query, with the samples it
read) that tests read to see what a collect asked. With `web=WebSecurity(...)` the server
serves its API over TLS behind basic auth (`--web.config.file`, users' passwords bcrypt-hashed),
as a company's Prometheus often does.
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.stack.processes import LOOPBACK, ManagedProcess, ServerLifecycle, free_port

# promtool writes one block per 2 h by default, which is many times slower for long histories.
MAX_BLOCK_DURATION = "720h"


@dataclass(frozen=True)
class WebSecurity:
    """TLS (a certificate signed by `ca_path`) and basic-auth users (name -> password) for the
    server's HTTP API."""

    cert_path: Path
    key_path: Path
    ca_path: Path
    users: dict[str, str] = field(default_factory=dict)


def prometheus_binary(name: str = "prometheus") -> str:
    path = shutil.which(name)
    if path is None:
        raise FileNotFoundError(
            f"`{name}` not found: install Debian's package (`apt-get install -y prometheus`); "
            "`make test` does this for you"
        )
    return path


class PrometheusServer(ServerLifecycle):
    def __init__(self, workdir: Path, scrape_targets: list[str] | None = None,
                 scrape_interval_s: int = 5, flags: list[str] | None = None,
                 rule_files: list[Path] | None = None, query_log: bool = False,
                 web: WebSecurity | None = None, cluster_label: str = "stack") -> None:
        self.workdir = workdir
        self.web = web
        self.cluster_label = cluster_label
        self.web_config_path = workdir / "web.yml"
        self.flags = list(flags or [])
        self.rule_files = list(rule_files or [])
        self.query_log_path = workdir / "query.log" if query_log else None
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
        scheme = "https" if self.web is not None else "http"
        return f"{scheme}://{LOOPBACK}:{self.port}"

    def _write_web_config(self) -> None:
        """`--web.config.file`: TLS and bcrypt-hashed basic-auth users, checked by promtool
        so a mistake fails here with promtool's words, not as a server that never gets ready."""
        import bcrypt

        assert self.web is not None
        users = "".join(
            f"  {name}: {bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=6)).decode()}\n"
            for name, password in self.web.users.items())
        self.web_config_path.write_text(
            "tls_server_config:\n"
            f"  cert_file: {self.web.cert_path}\n"
            f"  key_file: {self.web.key_path}\n"
            + ("basic_auth_users:\n" + users if users else ""))
        result = subprocess.run(
            [prometheus_binary("promtool"), "check", "web-config", str(self.web_config_path)],
            capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"promtool check web-config: {result.stdout}{result.stderr}")

    def request(self, path: str, method: str = "GET", body: bytes | None = None,
                content_type: str | None = None) -> bytes:
        """One call to the server's own API, with its CA and first user when secured."""
        request = urllib.request.Request(f"{self.url}{path}", method=method, data=body)
        if content_type is not None:
            request.add_header("Content-Type", content_type)
        context = None
        if self.web is not None:
            context = ssl.create_default_context(cafile=str(self.web.ca_path))
            if self.web.users:
                user, password = next(iter(self.web.users.items()))
                token = base64.b64encode(f"{user}:{password}".encode()).decode()
                request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return bytes(response.read())

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
                f"          cluster: {self.cluster_label}\n"
            )
        for job, target in self.extra_jobs:
            if scrape.startswith("scrape_configs: []"):
                scrape = "scrape_configs:\n"
            scrape += (f"  - job_name: {job}\n    honor_labels: true\n"
                       f"    static_configs:\n      - targets: ['{target}']\n")
        query_log = (f"  query_log_file: {self.query_log_path}\n"
                     if self.query_log_path is not None else "")
        rules = ("rule_files:\n" + "".join(f"  - {path}\n" for path in self.rule_files)
                 if self.rule_files else "")
        self.config_path.write_text(
            "global:\n"
            f"  scrape_interval: {self.scrape_interval_s}s\n"
            f"  evaluation_interval: {self.scrape_interval_s}s\n" + query_log + rules + scrape
        )

    def add_scrape_job(self, job: str, target: str) -> None:
        """Scrape one more target (keeping its own labels) and reload the running server."""
        self.extra_jobs.append((job, target))
        self._write_config()
        self.request("/-/reload", method="POST")  # urllib raises on a refusal

    def _ready(self) -> bool:
        self.request("/-/ready")  # raises until ready
        return True

    def start(self, timeout_s: float = 90.0) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.storage.mkdir(parents=True, exist_ok=True)
        self._write_config()
        web_flags = []
        if self.web is not None:
            self._write_web_config()
            web_flags = [f"--web.config.file={self.web_config_path}"]
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
                *web_flags,
                *self.flags,
            ],
            self.log_path,
        )
        self._process.start(self._ready, timeout_s=timeout_s)


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

    def backfill_rules(self, rules: Path, start: datetime, end: datetime) -> None:
        """Evaluate `rules` over [start, end] against this (running) server's data and load
        the recorded series; restarts the server."""
        with tempfile.TemporaryDirectory(dir=self.workdir) as tmp:
            result = subprocess.run(
                [prometheus_binary("promtool"), "tsdb", "create-blocks-from", "rules",
                 f"--start={int(start.timestamp())}", f"--end={int(end.timestamp())}",
                 f"--url={self.url}", f"--output-dir={tmp}", str(rules)],
                capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise RuntimeError("promtool rules backfill failed: "
                                   f"{result.stderr.strip()[-2000:]}")
            self.stop()
            for block in Path(tmp).iterdir():
                if block.is_dir():
                    shutil.move(str(block), self.storage / block.name)
        self.start()

    def copy_blocks_from(self, storage: Path) -> None:
        """Another server's persisted blocks (not its head or WAL) into this one's storage,
        while this one is stopped: one promtool backfill serving several servers."""
        self.storage.mkdir(parents=True, exist_ok=True)
        for block in storage.iterdir():
            if (block / "meta.json").exists():
                shutil.copytree(block, self.storage / block.name, dirs_exist_ok=True)

    def queries(self) -> list[dict[str, Any]]:
        """The query log so far: one entry per query, with `params` and `stats`. Prometheus
        writes an entry as the query closes, which can be just after its answer was sent:
        this waits until the log has stopped growing."""
        if self.query_log_path is None or not self.query_log_path.exists():
            return []
        size = -1
        while size != self.query_log_path.stat().st_size:
            size = self.query_log_path.stat().st_size
            time.sleep(0.5)
        return [json.loads(line) for line in self.query_log_path.read_text().splitlines()
                if line.strip()]
