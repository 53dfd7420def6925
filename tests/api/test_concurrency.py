"""The API under concurrent writes, and scaled out: reads during snapshot writes on SQLite
(WAL) and PostgreSQL see whole snapshots and never fail; two `costopt serve` processes on one
PostgreSQL store give the same answers, and a write through one is seen by the other."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from costopt.simulate.load import load_fleet
from costopt.store import Store, sqlite_url
from tests.api.conftest import ADMIN_TOKEN, Server, start_server, write_config
from tests.fleets import fleet
from tests.stack.postgres_server import PostgresServer

WRITES = 12


def _store_url(backend: str, request: pytest.FixtureRequest, directory: Path) -> str:
    if backend == "sqlite":
        return sqlite_url(directory / "costopt.db")
    postgres: PostgresServer = request.getfixturevalue("postgres")
    return postgres.new_database()


def _serve(url: str, directory: Path, name: str) -> Server:
    return start_server(write_config(directory / f"{name}.yaml", url),
                        directory / f"{name}.log")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_reads_during_writes_see_whole_snapshots(backend: str, request: pytest.FixtureRequest,
                                                 tmp_path: Path) -> None:
    url = _store_url(backend, request, tmp_path)
    store = Store.open(url)
    load_fleet(store, fleet("tiny"), sampled_topics_per_cluster=5, records_per_topic=20)
    [name] = store.clusters()
    latest = store.latest_snapshot(name)
    server = _serve(url, tmp_path, "serve")
    written: dict[str, int] = {}  # taken_at → topic count of each snapshot written
    done = threading.Event()

    def write() -> None:
        """New windows, each with every topic's traffic up 5%: figures move with each one."""
        try:
            snapshot = latest.snapshot
            for _ in range(WRITES):
                snapshot = replace(snapshot, taken_at=snapshot.taken_at + timedelta(minutes=15),
                                   topics=tuple(replace(t, bytes_in_per_second=(
                                       t.bytes_in_per_second * 1.05)) for t in snapshot.topics))
                store.save_snapshot(snapshot, catalog=latest.catalog, source="test")
                written[snapshot.taken_at.isoformat()] = len(snapshot.topics)
                store.start_job("collect", name, {"window": snapshot.taken_at.isoformat()})
                time.sleep(0.3)
        finally:
            done.set()

    seen: list[list[tuple[int, str, int, str]]] = [[], []]

    def read(into: list[tuple[int, str, int, str]]) -> None:
        with server.client() as client:
            while not done.is_set():
                response = client.get(f"/v1/clusters/{name}")
                body = response.json()
                into.append((response.status_code, body.get("taken_at", ""),
                             body.get("topics", -1), body.get("monthly_cost", "")))
                client.get("/v1/topics", params={"limit": 5}).raise_for_status()

    threads = [threading.Thread(target=write)] + [
        threading.Thread(target=read, args=(into,)) for into in seen]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        server.process.stop()
    reads = [item for into in seen for item in into]
    assert len(written) == WRITES and len(reads) > WRITES
    assert {status for status, *_ in reads} == {200}
    assert {topics for _, _, topics, _ in reads} == {len(latest.snapshot.topics)}
    costs: dict[str, set[str]] = {}
    for _, taken_at, _, cost in reads:
        costs.setdefault(taken_at, set()).add(cost)
    assert all(len(values) == 1 for values in costs.values()), costs  # one answer per window
    for into in seen:  # each reader only moves forward
        windows = [taken_at for _, taken_at, _, _ in into]
        assert windows == sorted(windows)
    assert len(costs) >= 3  # the readers saw the writes land
    print(f"\n{backend}: {WRITES} snapshots written while 2 readers made {len(reads)} reads: "
          f"0 errors, {len(costs)} windows seen, each whole")


def test_two_replicas_on_one_postgres_answer_alike(postgres: PostgresServer,
                                                   tmp_path: Path) -> None:
    url = postgres.new_database()
    load_fleet(Store.open(url), fleet("tiny"), sampled_topics_per_cluster=5, records_per_topic=20)
    one, two = _serve(url, tmp_path, "one"), _serve(url, tmp_path, "two")
    try:
        with one.client() as a, two.client() as b:
            name = a.get("/v1/clusters").json()["items"][0]["name"]
            top = a.get("/v1/recommendations", params={"limit": 1}).json()["items"][0]
            reads = [("GET", "/v1/clusters", None), ("GET", f"/v1/clusters/{name}", None),
                     ("GET", "/v1/topics?limit=50&sort=-monthly_cost", None),
                     ("GET", "/v1/costs?group_by=owner", None),
                     ("GET", "/v1/recommendations?limit=100", None),
                     ("GET", f"/v1/forecasts/{name}", None),
                     ("POST", "/v1/whatif", {"changes": top["whatif"], "horizon_days": 90})]
            for method, path, body in reads:
                first = a.request(method, path, json=body)
                assert first.status_code == 200, (path, first.text)
                assert first.json() == b.request(method, path, json=body).json(), path
            # State written through one replica is served by the other.
            admin = httpx.Client(base_url=one.url, timeout=60,
                                 headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            with admin:
                assert admin.post(f"/v1/recommendations/{top['id']}/dismiss",
                                  json={"reason": "not now"}).status_code == 200
            ids = {r["id"] for r in b.get("/v1/recommendations?limit=1000").json()["items"]}
            assert top["id"] not in ids
    finally:
        one.process.stop()
        two.process.stop()
