"""deploy/helm/costopt with the real helm CLI (built by .ci/install-helm into the stack cache):
`helm lint`, then `helm template` with and without the Prometheus Operator's CRDs, every
rendered manifest validated offline against the Kubernetes schemas (kubernetes-validate), the
operator's resources checked for what they must hold, and the alert rules by promtool.

Why: the chart is what platform teams install, and its two failure modes cost money or trust
silently: every API replica scraped (Grafana shows each cost once per replica under sum()), and
a database password that never reaches the pods.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from costopt.config import load_settings
from costopt.sources.prometheus.recording_rules import rules_document, rules_yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "helm" / "costopt"
HELM_VERSION = "v3.22.0"
KUBE_VERSION = "1.30"
OPERATOR = "monitoring.coreos.com/v1"
CRDS = {"ServiceMonitor", "PrometheusRule"}  # their schemas ship with the operator


def helm_binary() -> Path:
    cache = Path(os.environ.get("COSTOPT_STACK_CACHE", Path.home() / ".cache" / "costopt-stack"))
    helm = cache / f"helm-{HELM_VERSION}" / "helm"
    assert helm.is_file(), f"no helm at {helm}: run .ci/install-system-deps (make system-deps)"
    return helm


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(helm_binary()), *args], capture_output=True, text=True,
                            timeout=60, env={**os.environ, "HELM_CACHE_HOME": "/nonexistent"})
    if check:
        assert result.returncode == 0, result.stderr + result.stdout
    return result


def render(*sets: str, operator: bool = True) -> list[dict[str, Any]]:
    args = ["template", "costopt", str(CHART), "--kube-version", f"{KUBE_VERSION}.0"]
    if operator:
        args += ["--api-versions", OPERATOR]
    for value in sets:
        args += ["--set", value]
    return [d for d in yaml.safe_load_all(helm(*args).stdout) if d]


def by_kind(documents: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in documents if d["kind"] == kind]


def component(document: dict[str, Any]) -> str:
    return str(document["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"])


def validate(documents: list[dict[str, Any]]) -> None:
    for document in documents:
        if document["kind"] not in CRDS:
            kubernetes_validate.validate(document, KUBE_VERSION, strict=True)


def matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_the_chart_lints_strictly() -> None:
    out = helm("lint", "--strict", str(CHART), "--set", "database.existingSecret=costopt-db")
    assert "0 chart(s) failed" in out.stdout


ALERTS = Path(__file__).resolve().parents[1] / "deploy" / "prometheus" / "costopt-alerts.yml"


def test_the_chart_ships_the_spend_alerts_file_as_is() -> None:
    chart = ALERTS.parents[1] / "helm" / "costopt" / "files" / "costopt-alerts.yml"
    assert chart.read_text() == ALERTS.read_text()


def test_promtool_checks_and_unit_tests_the_spend_alerts() -> None:
    """Every alert of costopt-alerts.yml fires in costopt-alerts.test.yml, after its `for`."""
    checked = subprocess.run(["promtool", "check", "rules", str(ALERTS)], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run(["promtool", "test", "rules", "costopt-alerts.test.yml"],
                            cwd=ALERTS.parent, capture_output=True, text=True, timeout=60)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
    alerts = {r["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"]
              for r in g["rules"]}
    tests = (ALERTS.parent / "costopt-alerts.test.yml").read_text()
    assert {a for a in alerts if f"alertname: {a}\n" in tests} == alerts


def test_with_the_operator_one_servicemonitor_scrapes_one_pod_and_rules_are_installed(
        tmp_path: Path) -> None:
    documents = render("database.existingSecret=costopt-db")
    validate(documents)
    deployments = {component(d): d for d in by_kind(documents, "Deployment")}
    assert set(deployments) == {"api", "scheduler", "metrics"}
    assert deployments["api"]["spec"]["replicas"] == 2
    assert deployments["scheduler"]["spec"]["replicas"] == 1
    assert deployments["scheduler"]["spec"]["strategy"]["type"] == "Recreate"
    assert deployments["metrics"]["spec"]["replicas"] == 1
    # The ServiceMonitor selects one Service, whose pods are the metrics Deployment's only.
    (monitor,) = by_kind(documents, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True
    services = [s for s in by_kind(documents, "Service")
                if matches(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])]
    assert len(services) == 1
    scraped = [name for name, d in deployments.items()
               if matches(services[0]["spec"]["selector"], d["spec"]["template"]["metadata"]
                          ["labels"])]
    assert scraped == ["metrics"]
    # ... and no pod is also annotated for scraping, which would scrape it a second time.
    for d in deployments.values():
        assert "prometheus.io/scrape" not in d["spec"]["template"]["metadata"]["annotations"]
    (rule,) = by_kind(documents, "PrometheusRule")
    groups = rule["spec"]["groups"]
    recording = [g for g in groups if g["name"] not in ("costopt-alerts", "costopt-spend")]
    assert recording == rules_document()["groups"]
    alerts = next(g for g in groups if g["name"] == "costopt-alerts")
    assert {r["alert"] for r in alerts["rules"]} == {
        "CostoptSnapshotStale", "CostoptMetricsAbsent", "CostoptCapacityRunwayShort"}
    # The spend alerts are deploy/prometheus/costopt-alerts.yml's, which promtool tests.
    spend = next(g for g in groups if g["name"] == "costopt-spend")
    assert [spend] == yaml.safe_load(ALERTS.read_text())["groups"]
    # promtool (the real Prometheus's) parses every expression and template of the rules.
    rules_file = tmp_path / "rules.yml"
    rules_file.write_text(yaml.safe_dump(rule["spec"]))
    checked = subprocess.run(["promtool", "check", "rules", str(rules_file)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {sum(len(g['rules']) for g in groups)} rules found" in checked.stdout


def test_without_the_operator_only_the_metrics_pod_is_annotated_for_scraping() -> None:
    documents = render("database.existingSecret=costopt-db", operator=False)
    validate(documents)
    assert not {d["kind"] for d in documents} & CRDS
    annotated = [component(d) for d in by_kind(documents, "Deployment")
                 if d["spec"]["template"]["metadata"]["annotations"]
                 .get("prometheus.io/scrape") == "true"]
    assert annotated == ["metrics"]
    # The operator present but the ServiceMonitor turned off: annotations again, never both.
    documents = render("database.existingSecret=costopt-db",
                       "metrics.serviceMonitor.enabled=false")
    assert not by_kind(documents, "ServiceMonitor")
    assert [component(d) for d in by_kind(documents, "Deployment")
            if "prometheus.io/scrape" in d["spec"]["template"]["metadata"]["annotations"]
            ] == ["metrics"]


def env_of(deployment: dict[str, Any]) -> dict[str, Any]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in container["env"]}


def test_every_pod_reads_the_database_url_and_tokens_from_secrets() -> None:
    documents = render("database.existingSecret=costopt-db", "apiTokens.existingSecret=tokens")
    assert not by_kind(documents, "Secret")  # the user's own Secret, not one of the chart's
    for deployment in by_kind(documents, "Deployment"):
        env = env_of(deployment)
        assert env["COSTOPT_STORE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": "costopt-db", "key": "url"}
        assert env["COSTOPT_API__TOKENS"]["valueFrom"]["secretKeyRef"] == {
            "name": "tokens", "key": "tokens"}
    # A URL in the values becomes a chart-made Secret, which the pods then read.
    url = "postgresql+psycopg://costopt:s3cret@postgres:5432/costopt"
    documents = render(f"database.url={url}")
    validate(documents)
    (secret,) = by_kind(documents, "Secret")
    assert secret["stringData"] == {"url": url}
    for deployment in by_kind(documents, "Deployment"):
        assert env_of(deployment)["COSTOPT_STORE_URL"]["valueFrom"]["secretKeyRef"][
            "name"] == secret["metadata"]["name"]
        assert "s3cret" not in yaml.safe_dump(deployment)
    # The pods run as the image's user, on a read-only root with writable /tmp and /data.
    for deployment in by_kind(documents, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsUser"] == 10001
        (container,) = pod["containers"]
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/tmp", "/data"}


def test_the_values_schema_and_the_template_refuse_what_cannot_work() -> None:
    base = ["template", "costopt", str(CHART), "--kube-version", f"{KUBE_VERSION}.0"]
    missing = helm(*base, check=False)
    assert missing.returncode != 0 and "database.existingSecret" in missing.stderr
    for bad, said in [("database.url=sqlite:////data/costopt.db", "/database/url"),
                      ("config.store_url=sqlite:///x", "/config"),
                      ("api.replicas=0", "/api/replicas"),
                      ("api.replica=3", "replica")]:
        result = helm(*base, "--set", "database.existingSecret=db", "--set", bad, check=False)
        assert result.returncode != 0 and said in result.stderr, (bad, result.stderr)


def test_the_rendered_config_loads_with_costopts_loader(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (configmap,) = by_kind(render("database.existingSecret=db"), "ConfigMap")
    path = tmp_path / "costopt.yaml"
    path.write_text(configmap["data"]["costopt.yaml"])
    monkeypatch.setenv("COSTOPT_STORE_URL", "postgresql+psycopg://costopt@postgres/costopt")
    settings = load_settings(path)
    assert settings.store_url.startswith("postgresql+psycopg://")
    assert settings.clusters[0].name == "prod" and settings.api.open_metrics is True


def test_the_charts_recording_rules_are_the_rendered_rules_file() -> None:
    """Helm reads files inside the chart only, so the chart carries a copy: kept identical."""
    assert (CHART / "files" / "costopt-rules.yml").read_text() == rules_yaml()
    assert (ROOT / "deploy" / "prometheus" / "costopt-rules.yml").read_text() == rules_yaml()
