"""Two scheduler processes on one PostgreSQL store: one leads, the other stands by, and takes
over within 60 s when the leader is SIGKILLed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import yaml

from tests.stack.postgres_server import PostgresServer
from tests.stack.processes import ManagedProcess


def wait_for(path: Path, text: str, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if path.exists() and text in path.read_text():
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {path} after {timeout_s}s:\n"
                         f"{path.read_text() if path.exists() else ''}")


def test_one_leader_and_a_standby_that_takes_over(postgres: PostgresServer,
                                                   tmp_path: Path) -> None:
    config = tmp_path / "costopt.yaml"
    config.write_text(yaml.safe_dump({"store_url": postgres.new_database(),
                                      "schedule": {"analyze_every_minutes": 60}}))
    command = [sys.executable, "-m", "jobs", "-v", "collect", "--config", str(config)]
    first = ManagedProcess("scheduler-a", command, tmp_path / "a.log")
    second = ManagedProcess("scheduler-b", command, tmp_path / "b.log")
    first.start(lambda: "this scheduler is the leader" in (tmp_path / "a.log").read_text(), 60)
    try:
        second.start(lambda: "standing by" in (tmp_path / "b.log").read_text(), 60)
        time.sleep(3)
        assert "this scheduler is the leader" not in (tmp_path / "b.log").read_text()
        assert "scheduled analyze" in (tmp_path / "a.log").read_text()
        assert "scheduled analyze" not in (tmp_path / "b.log").read_text()
        first.kill()
        took = wait_for(tmp_path / "b.log", "this scheduler is the leader", 60)
        wait_for(tmp_path / "b.log", "scheduled analyze", 30)
        assert took < 60
    finally:
        first.stop()
        second.stop()
