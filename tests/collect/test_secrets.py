"""No secret leaves costopt: a Prometheus auth header, basic-auth password or extra header
value (a tenant id), a SASL password, a client key's password, a webhook URL (a Slack webhook's
URL is its credential) and an API token never appear in logs (any level), error messages, job
records, reports, API answers, `/metrics` or `config check`. The same holds for refusals by the
real secured cluster, with the key file's content too: tests/zones/test_secured_collect.py."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from costopt.config import load_settings
from costopt.simulate.fleet import Fleet
from costopt.simulate.load import load_fleet
from costopt.sources.collect import collect_cluster
from costopt.sources.source_errors import SourceError
from costopt.store import Store, sqlite_url
from costopt.store.store import StatusStore
from jobs.cli import app as cli
from reports.run import make_report
from tests.reports.test_delivery import Hook
from tests.stack.processes import LOOPBACK, free_port
from tests.stack.prometheus_server import PrometheusServer
from tests.stack.tls import make_pki

SECRETS = ("prom-SECRET-7f3a", "sasl-SECRET-91bc", "hook-SECRET-55de", "api-SECRET-0c2e",
           "basic-SECRET-3e77", "tenant-SECRET-d40b", "keypass-SECRET-8a1f", "scram-SECRET-e2c9")


def _config(path: Path, prometheus_url: str, tiny_cluster: str, hook_url: str) -> Path:
    dead = f"{LOOPBACK}:{free_port()}"
    pki = make_pki(path.parent / "pki")
    path.write_text(yaml.safe_dump({
        "store_url": sqlite_url(path.parent / "costopt.db"),
        "clusters": [
            {"name": tiny_cluster, "bootstrap_servers": dead, "admin_timeout_seconds": 3,
             "security": {"protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                          "sasl_username": "costopt", "sasl_password": SECRETS[1]},
             "prometheus": {"url": prometheus_url, "dialect": "jmx",
                            "cluster_label": "cluster_jmx",
                            "auth_header": f"Bearer {SECRETS[0]}"}},
            {"name": "unreachable", "prometheus": {"url": f"http://{dead}",
                                                   "auth_header": f"Bearer {SECRETS[0]}"}},
            # SCRAM over TLS with an encrypted client key, and a Prometheus with basic auth, a
            # tenant header and its own CA: each refused or unreachable in its own way.
            {"name": "secured", "bootstrap_servers": dead, "admin_timeout_seconds": 3,
             "security": {"protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512",
                          "sasl_username": "costopt", "sasl_password": SECRETS[7],
                          "ssl_ca_location": str(pki.ca_path),
                          "ssl_key_password": SECRETS[6]},
             "prometheus": {"url": f"https://{dead}", "ca_file": str(pki.ca_path),
                            "basic_auth": {"username": "costopt", "password": SECRETS[4]},
                            "headers": {"X-Scope-OrgID": SECRETS[5]}}}],
        "api": {"open_metrics": True, "tokens": []},
        "report": {"directory": str(path.parent / "reports"),
                   "webhook_url": f"{hook_url}/services/T0/B0/{SECRETS[2]}"},
    }))
    return path


def test_no_secret_in_logs_errors_reports_or_api(fleet_prometheus: PrometheusServer,
                                                tiny_fleet: Fleet, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture,
                                                capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)
    tiny_cluster = str(tiny_fleet.clusters["cluster"].iloc[0])
    hook = Hook(failures=100)  # a webhook that answers, with errors: the request is logged
    path = _config(tmp_path / "costopt.yaml", fleet_prometheus.url, tiny_cluster, hook.url)
    settings = load_settings(path)
    store = Store.open(settings.store_url)
    seen: list[str] = []
    for cluster in settings.clusters:  # the Kafka of one, the Prometheus of the other is down
        with pytest.raises(SourceError) as failure:
            collect_cluster(cluster, store, settings, at=tiny_fleet.end - timedelta(hours=1))
        seen.append(str(failure.value))
    assert "Kafka cluster" in seen[0] and "unreachable" in seen[1] and "unreachable" in seen[2]
    load_fleet(store, tiny_fleet, sampled_topics_per_cluster=3, records_per_topic=10)
    result = make_report(settings, store)
    hook.server.shutdown()
    assert result["delivered"] == {"webhook": False} and len(hook.bodies) == 3
    seen += [p.read_text() for p in (tmp_path / "reports").glob("*.*")]
    seen += [StatusStore(store).report_html(r["id"]) or "" for r in StatusStore(store).reports()]
    seen += [repr(job) for job in store.jobs(limit=100)]
    with TestClient(create_app(settings, store)) as client:
        for path_ in ("/metrics", "/readyz", "/healthz"):
            seen.append(client.get(path_).text)
        refused = client.get("/v1/clusters", headers={"Authorization": f"Bearer {SECRETS[3]}"})
        assert refused.status_code == 401
        seen.append(refused.text)
    checked = CliRunner().invoke(cli, ["config", "check", "--config", str(path)])
    seen.append(checked.output)
    seen.append(repr(settings) + str(settings.model_dump()))
    out, err = capfd.readouterr()
    text = "\n".join([*seen, caplog.text, out, err])
    assert "webhook delivery failed" in caplog.text  # the logs were captured
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked"
