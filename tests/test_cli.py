"""The command line: config check, collect --once against the real stack, whatif, help."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.stack.__main__ import write_config
from tests.stack.stack import Stack

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "costopt.yaml"


def costopt(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "jobs", *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def test_every_command_has_help() -> None:
    for command in ("serve", "collect", "analyze", "report", "budgets", "whatif", "demo",
                    "config"):
        result = costopt(command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout, command


def test_config_check_accepts_the_example_and_names_a_bad_field(tmp_path: Path) -> None:
    assert costopt("config", "check", "--config", str(EXAMPLE)).returncode == 0
    config = yaml.safe_load(EXAMPLE.read_text())
    config["clusters"][0]["prometheus"]["url"] = "ftp://nope"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = costopt("config", "check", "--config", str(bad))
    assert result.returncode == 2
    assert "clusters.0.prometheus.url" in result.stderr and "ftp://nope" in result.stderr
    config = yaml.safe_load(EXAMPLE.read_text())
    config["clusters"][0]["instance_type"] = "m9.enormous"
    bad.write_text(yaml.safe_dump(config))
    result = costopt("config", "check", "--config", str(bad))
    assert result.returncode == 2 and "m9.enormous" in result.stderr
    config = yaml.safe_load(EXAMPLE.read_text())
    config["clusters"][0]["region"] = "mars-north-1"
    bad.write_text(yaml.safe_dump(config))
    result = costopt("config", "check", "--config", str(bad))
    assert result.returncode == 2 and "no prices for region 'mars-north-1'" in result.stderr


def test_env_overrides_the_file_and_secrets_are_not_echoed() -> None:
    result = costopt("config", "check", "--config", str(EXAMPLE),
                     env={"COSTOPT_STORE_URL": "postgresql+psycopg://u:s3cret@db:5432/c"})
    assert result.returncode == 0
    assert "db:5432/c" in result.stdout and "s3cret" not in result.stdout


@pytest.mark.stack
def test_collect_once_then_analyze_and_whatif_on_the_real_stack(stack: Stack,
                                                                tmp_path: Path) -> None:
    topic = f"cli.orders.{int(time.time())}"
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": stack.kafka.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 2, 1)])[topic].result(30)
    producer = Producer({"bootstrap.servers": stack.kafka.bootstrap_servers})
    for _ in range(500):
        producer.produce(topic, b"x" * 200)
    producer.flush(30)
    config = write_config(stack, tmp_path / "costopt.yaml")
    # A collect reads the last completed one-minute window: let one hold scraped data.
    while (time.time() // 60) * 60 < stack.started_at + 15:
        time.sleep(1)
    collected = costopt("collect", "--once", "--config", str(config))
    assert collected.returncode == 0, collected.stderr
    assert "stack:" in collected.stdout and "topics" in collected.stdout
    analyzed = costopt("analyze", "--config", str(config))
    assert analyzed.returncode == 0, analyzed.stderr
    assert "fleet cost:" in analyzed.stdout
    whatif = costopt("whatif", "--config", str(config), "--topic", topic, "--retention", "3d",
                     "--codec", "zstd")
    assert whatif.returncode == 0, whatif.stderr
    assert topic in whatif.stdout and "fleet:" in whatif.stdout
    bad = costopt("whatif", "--config", str(config), "--topic", topic, "--retention", "3 days")
    assert bad.returncode == 2 and "not a duration" in bad.stderr


def _run_in(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "jobs", *args], capture_output=True,
                          text=True, timeout=300, cwd=directory,
                          env={**os.environ, "PYTHONPATH": str(EXAMPLE.parents[1])})


def test_commands_that_read_the_store_say_there_is_none_rather_than_make_one(
        tmp_path: Path) -> None:
    for args in (("whatif", "--topic", "payments.orders", "--retention", "3d"),
                 ("analyze",), ("report",)):
        result = _run_in(tmp_path, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert "no store at costopt.db" in result.stderr and "costopt demo" in result.stderr
        assert not (tmp_path / "costopt.db").exists(), args


def tiny_store_config(directory: Path) -> Path:
    """A config naming a store of the simulated `tiny` fleet (one self-managed cluster)."""
    from costopt.simulate.load import load_fleet
    from costopt.store import Store
    from tests.fleets import fleet

    store_url = f"sqlite:///{directory / 'costopt.db'}"
    load_fleet(Store.open(store_url), fleet("tiny"), sampled_topics_per_cluster=5,
               records_per_topic=20)
    config = directory / "costopt.yaml"
    config.write_text(yaml.safe_dump({"store_url": store_url}))
    return config


def test_whatif_takes_all_and_analyze_prints_its_list_once(tmp_path: Path) -> None:
    config = tiny_store_config(tmp_path)
    everything = costopt("whatif", "--config", str(config), "--all", "--growth-pct", "10")
    assert everything.returncode == 0, everything.stderr
    assert "fleet:" in everything.stdout
    empty = costopt("whatif", "--config", str(config), "--retention", "3d")
    assert empty.returncode == 2 and "pass --all" in empty.stderr
    assert "set all: true" not in empty.stderr
    analyzed = costopt("analyze", "--config", str(config), "--top", "3")
    assert analyzed.returncode == 0, analyzed.stderr
    assert analyzed.stdout.count("savings available:") == 1
    steps = [line for line in analyzed.stdout.splitlines() if "USD/month  " in line]
    assert len(steps) == len(set(steps)) <= 3


def test_help_is_plain_text_without_type_placeholders() -> None:
    for command in ((), ("whatif",), ("collect",), ("serve",)):
        result = costopt(*command, "--help", env={"COLUMNS": "80"})
        assert result.returncode == 0
        assert "<bool>" not in result.stdout and "╭" not in result.stdout, command
    whatif = costopt("whatif", "--help", env={"COLUMNS": "80"}).stdout
    assert "--tiered / --no-tiered" in whatif and "--all" in whatif


def test_collect_from_an_unreachable_prometheus_says_so_without_retry_noise(
        tmp_path: Path) -> None:
    from tests.stack.processes import free_port

    config = tmp_path / "costopt.yaml"
    config.write_text(yaml.safe_dump({
        "store_url": f"sqlite:///{tmp_path / 'costopt.db'}",
        "clusters": [{"name": "east", "prometheus": {
            "url": f"http://127.0.0.1:{free_port()}", "timeout_seconds": 2}}]}))
    result = costopt("collect", "--once", "--config", str(config))
    assert result.returncode != 0
    assert "unreachable" in result.stderr
    assert "Retrying" not in result.stderr and "urllib3" not in result.stderr


def test_the_package_metadata_builds_without_license_warnings() -> None:
    """setuptools warned for a page about the old `license = {text = ...}` table."""
    import tomllib

    project = tomllib.loads((EXAMPLE.parents[1] / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"  # an SPDX expression
    assert any(r.startswith("setuptools>=77") for r in project["build-system"]["requires"])
