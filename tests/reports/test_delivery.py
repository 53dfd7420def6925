"""Report delivery: retried on failure, never losing the report (a real local HTTP server
that fails on purpose stands in for Slack)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from costopt.config import ReportSettings, Settings
from costopt.simulate.load import load_fleet
from costopt.store import Store
from costopt.store.store import StatusStore
from reports.delivery import deliver
from reports.run import make_report
from tests.fleets import fleet


class Hook:
    """A webhook that fails its first `failures` requests with 503."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.bodies: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.bodies.append(body)
                self.send_response(503 if len(hook.bodies) <= hook.failures else 200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"


def test_webhook_is_retried_until_it_answers(tmp_path: Path) -> None:
    hook = Hook(failures=2)
    page = tmp_path / "r.html"
    page.write_text("<html></html>")
    result = deliver(ReportSettings(webhook_url=hook.url),
                     {"monthly_cost": "10.00", "savings_available": "1.00",
                      "recommendations": 3}, "abc", page)
    hook.server.shutdown()
    assert result == {"webhook": True}
    assert len(hook.bodies) == 3 and "costopt weekly report abc" in hook.bodies[-1]["text"]


def test_a_dead_webhook_never_loses_the_report(tmp_path: Path) -> None:
    hook = Hook(failures=100)
    store = Store.open(f"sqlite:///{tmp_path / 'c.db'}")
    load_fleet(store, fleet("tiny"), sampled_topics_per_cluster=3, records_per_topic=20)
    settings = Settings(report=ReportSettings(directory=str(tmp_path / "reports"),
                                              webhook_url=hook.url))
    result = make_report(settings, store)
    hook.server.shutdown()
    assert result["delivered"] == {"webhook": False}
    archived = StatusStore(store).report_html(result["report_id"])
    assert archived is not None and "costopt weekly report" in archived
    assert Path(result["html"]).exists()
    assert not list((tmp_path / "reports").glob("*.partial"))
