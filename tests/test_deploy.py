"""The deployment examples: what docker-compose mounts exists and parses; the Kubernetes
manifests validate offline against the Kubernetes schemas."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import yaml

from costopt.config import load_settings
from costopt.sources.prometheus.recording_rules import rules_document

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_compose_mounts_exist_and_its_config_parses_with_costopts_loader() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source
    settings = load_settings(DEPLOY / "costopt.yaml")
    assert settings.clusters[0].prometheus is not None
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    target = prometheus["scrape_configs"][0]["static_configs"][0]["targets"][0]
    assert target.split(":")[0] in compose["services"]
    # Prometheus loads costopt's recording rules from where compose mounts them.
    mounts = dict(volume.split(":")[:2] for volume in compose["services"]["prometheus"]["volumes"])
    assert mounts["./prometheus/costopt-rules.yml"] in prometheus["rule_files"]


def test_kubernetes_manifests_validate_against_the_schemas() -> None:
    documents = [d for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
                 for d in yaml.safe_load_all(path.read_text()) if d]
    kinds = {d["kind"] for d in documents}
    assert {"Deployment", "Service", "ConfigMap", "ServiceMonitor", "PrometheusRule"} <= kinds
    for document in documents:
        if document["kind"] == "ServiceMonitor":
            # A CRD: its schema ships with the Prometheus Operator, not with Kubernetes.
            endpoint = document["spec"]["endpoints"][0]
            assert endpoint["path"] == "/metrics" and endpoint["honorLabels"] is True
            continue
        if document["kind"] == "PrometheusRule":
            # The same rules as deploy/prometheus/costopt-rules.yml, which promtool checks.
            assert document["spec"] == rules_document()
            continue
        kubernetes_validate.validate(document, "1.30", strict=True)
    configmap = next(d for d in documents if d["kind"] == "ConfigMap")
    config = yaml.safe_load(configmap["data"]["costopt.yaml"])
    assert config["clusters"][0]["name"] == "prod"
    assert "store_url" not in config  # the password-bearing URL is in a Secret
    scheduler = next(d for d in documents if d["metadata"]["name"] == "costopt-scheduler")
    assert scheduler["spec"]["replicas"] == 1
    assert scheduler["spec"]["strategy"]["type"] == "Recreate"
    deployments = [d for d in documents if d["kind"] == "Deployment"]
    for deployment in deployments:
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container.get("env", [])}
        assert env["COSTOPT_STORE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "costopt-database", "key": "url"}, deployment["metadata"]["name"]


def test_kubernetes_manifests_scrape_one_pod_so_sums_count_each_cost_once() -> None:
    """Every API replica serves the same figures: the ServiceMonitor selects the Service of the
    single-replica metrics Deployment, and no other."""
    documents = [d for path in sorted((DEPLOY / "kubernetes").glob("*.yaml"))
                 for d in yaml.safe_load_all(path.read_text()) if d]
    monitor = next(d for d in documents if d["kind"] == "ServiceMonitor")
    wanted = monitor["spec"]["selector"]["matchLabels"]
    services = [d for d in documents if d["kind"] == "Service"
                and wanted.items() <= d["metadata"]["labels"].items()]
    assert len(services) == 1
    scraped = [d for d in documents if d["kind"] == "Deployment" and
               services[0]["spec"]["selector"].items()
               <= d["spec"]["template"]["metadata"]["labels"].items()]
    assert [d["metadata"]["name"] for d in scraped] == ["costopt-metrics"]
    assert scraped[0]["spec"]["replicas"] == 1
