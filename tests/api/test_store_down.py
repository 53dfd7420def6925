"""A server on PostgreSQL: the database stopped answers 503, and recovers when it is back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from costopt.simulate.load import load_fleet
from costopt.store import Store
from tests.api.conftest import READ_TOKEN, start_server, write_config
from tests.fleets import fleet
from tests.stack.postgres_server import PostgresServer


def test_store_unreachable_is_503_and_readyz_says_so(postgres: PostgresServer,
                                                     tmp_path: Path) -> None:
    url = postgres.new_database()
    load_fleet(Store.open(url), fleet("tiny"), sampled_topics_per_cluster=5,
               records_per_topic=20)
    server = start_server(write_config(tmp_path / "pg.yaml", url), tmp_path / "serve.log")
    headers = {"Authorization": f"Bearer {READ_TOKEN}"}
    try:
        assert httpx.get(f"{server.url}/v1/clusters", headers=headers,
                         timeout=60).status_code == 200
        postgres.stop()
        # A worker asks the store for new snapshots at most every api.store_check_seconds
        # (1 s): past that, the next request finds the store gone.
        time.sleep(1.5)
        response = httpx.get(f"{server.url}/v1/clusters", headers=headers, timeout=60)
        assert response.status_code == 503
        assert response.json() == {"detail": "the store is unreachable"}
        ready = httpx.get(f"{server.url}/readyz", timeout=60)
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
        postgres.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if httpx.get(f"{server.url}/v1/clusters", headers=headers,
                         timeout=60).status_code == 200:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the API did not recover after the store came back")
    finally:
        server.process.stop()
