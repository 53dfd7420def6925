"""A real `costopt serve` process (uvicorn) over a store holding a simulated fleet."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from costopt.simulate.load import load_fleet
from costopt.store import Store
from tests.fleets import fleet
from tests.stack.processes import LOOPBACK, ManagedProcess, free_port

READ_TOKEN = "read-token-for-tests"
ADMIN_TOKEN = "admin-token-for-tests"


@dataclass
class Server:
    url: str
    config: Path
    store_url: str
    process: ManagedProcess

    def client(self, token: str | None = READ_TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def write_config(path: Path, store_url: str, **api: object) -> Path:
    config = {
        "store_url": store_url,
        "api": {"tokens": [
            {"name": "reader", "sha256": hashlib.sha256(READ_TOKEN.encode()).hexdigest(),
             "scopes": ["read"]},
            {"name": "ops", "sha256": hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest(),
             "scopes": ["read", "admin"]}], **api},
        "report": {"directory": str(path.parent / "reports")},
    }
    path.write_text(yaml.safe_dump(config))
    return path


def start_server(config: Path, log: Path, workers: int = 1) -> Server:
    port = free_port()
    process = ManagedProcess("costopt-serve", [sys.executable, "-m", "jobs", "serve",
                                               "--config", str(config), "--port", str(port),
                                               "--workers", str(workers)], log)

    def ready() -> bool:
        return httpx.get(f"http://{LOOPBACK}:{port}/healthz", timeout=1).status_code == 200

    process.start(ready, timeout_s=60)
    store_url = yaml.safe_load(config.read_text())["store_url"]
    return Server(f"http://{LOOPBACK}:{port}", config, store_url, process)


def serve_tiny_fleet(directory: Path, workers: int = 1, **api: object) -> Server:
    """`costopt serve` over a SQLite store holding the `tiny` simulated fleet."""
    store_url = f"sqlite:///{directory / 'costopt.db'}"
    load_fleet(Store.open(store_url), fleet("tiny"), sampled_topics_per_cluster=10,
               records_per_topic=40)
    return start_server(write_config(directory / "costopt.yaml", store_url, **api),
                        directory / "serve.log", workers=workers)


@pytest.fixture(scope="session")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = serve_tiny_fleet(Path(tmp_path_factory.mktemp("api")), open_metrics=True)
    with server.client() as client:  # warm the analysis once
        assert client.get("/v1/clusters").status_code == 200
    yield server
    server.process.stop()


def wait_for_job(client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["status"] in ("succeeded", "failed"):
            return dict(job)
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s}s")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "jobs", *args], capture_output=True,
                          text=True, timeout=300)
