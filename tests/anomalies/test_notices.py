"""Webhook notices: one message per new anomaly and one when it resolves, with two scheduler
replicas running the anomalies job on one store at once, and a restart after them; received
by a real local HTTP server. On the embedded default and on a real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from costopt.analyze.analysis import cached_analysis
from costopt.anomalies.service import refresh
from costopt.config import load_settings
from costopt.simulate.load import load_fleet
from costopt.store import Store, sqlite_url
from costopt.store.anomalies import AnomalyStore
from jobs.scheduler import task_job
from reports.anomaly_notices import send_notices
from tests.fleets import fleet

# What a scheduler replica runs when the anomalies job fires.
REPLICA = "import sys; from jobs.scheduler import task_job; task_job(sys.argv[1], 'anomalies')"


class Receiver:
    """A webhook endpoint on 127.0.0.1 that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        lock = threading.Lock()
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                with lock:
                    bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "costopt.db")
    return str(request.getfixturevalue("postgres").new_database())


def events(receiver: Receiver) -> list[tuple[str, str]]:
    return sorted((body["anomaly"]["id"], body["anomaly"]["event"]) for body in receiver.bodies)


def test_one_message_per_anomaly_across_replicas_and_a_restart(
        store_url: str, receiver: Receiver, tmp_path: Path) -> None:
    store = Store.open(store_url)
    load_fleet(store, fleet("small"), sampled_topics_per_cluster=20, records_per_topic=60)
    config = tmp_path / "costopt.yaml"
    config.write_text(yaml.safe_dump({"store_url": store_url,
                                      "report": {"webhook_url": receiver.url}}))
    # Two scheduler replicas (two processes) run the job at the same moment.
    replicas = [subprocess.Popen([sys.executable, "-c", REPLICA, str(config)])
                for _ in range(2)]
    assert [replica.wait(timeout=600) for replica in replicas] == [0, 0]
    stored = AnomalyStore(store).list()
    assert len(stored) == 3
    assert events(receiver) == sorted((a["id"], "opened") for a in stored)
    assert all("+" in body["text"] and body["anomaly"]["driver"]["figure"]
               for body in receiver.bodies)
    # A restart: the job runs again in a new process; nothing is sent twice.
    assert subprocess.run([sys.executable, "-c", REPLICA, str(config)],
                          timeout=600).returncode == 0
    assert len(receiver.bodies) == 3

    # The changes are undone: detection now finds them resolved, and says so once.
    settings = load_settings(config)
    found, notices = refresh(store, settings, cached_analysis(store, settings))
    assert notices == []  # nothing new: the same anomalies, still open
    resolved = [replace(a, resolved_on=a.last_day) for a in found]
    assert {n.event for n in AnomalyStore(store).sync(resolved)} == {"resolved"}
    replicas_stores = [Store.open(store_url) for _ in range(2)]  # opened (migrated) first
    sends = [threading.Thread(target=send_notices, args=(replica, settings))
             for replica in replicas_stores]
    for send in sends:
        send.start()
    for send in sends:
        send.join(timeout=60)
    send_notices(Store.open(store_url), settings)
    assert events(receiver) == sorted([(a["id"], "opened") for a in stored]
                                      + [(a["id"], "resolved") for a in stored])
    assert {a["state"] for a in AnomalyStore(store).list()} == {"resolved"}


def test_a_failed_delivery_is_sent_on_the_next_run(tmp_path: Path,
                                                   receiver: Receiver) -> None:
    url = sqlite_url(tmp_path / "costopt.db")
    store = Store.open(url)
    load_fleet(store, fleet("small"), sampled_topics_per_cluster=20, records_per_topic=60)
    config = tmp_path / "costopt.yaml"
    # Nothing listens on the port the receiver is not on: every post fails.
    receiver.close()
    config.write_text(yaml.safe_dump({"store_url": url,
                                      "report": {"webhook_url": receiver.url}}))
    task_job(str(config), "anomalies")
    assert len(AnomalyStore(store).unsent()) == 3
    again = Receiver()
    try:
        config.write_text(yaml.safe_dump({"store_url": url,
                                          "report": {"webhook_url": again.url}}))
        assert send_notices(store, load_settings(config))["sent"] == 3
        assert len(again.bodies) == 3 and AnomalyStore(store).unsent() == []
    finally:
        again.close()
