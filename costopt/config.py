"""costopt's configuration: one YAML file plus environment overrides (pydantic-settings).

Environment variables start with `COSTOPT_` and use `__` for nesting, e.g.
`COSTOPT_STORE_URL=postgresql+psycopg://...` or `COSTOPT_API__AUTH_ENABLED=false`.
Validation fails fast and names the field, because a wrong setting found at 3 a.m. by a
scheduled job is worse than one refused at start.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from costopt.base.errors import InvalidInput
from costopt.base.patterns import checked_regex
from costopt.cost.allocation import AllocationSettings
from costopt.cost.owners import DEFAULT_GROUP_RULES, DEFAULT_RULES, OwnerRule
from costopt.cost.strimzi import DEFAULT_OWNER_KEYS
from costopt.prices.catalog import catalog_ref
from costopt.records.anomaly import AnomalySettings
from costopt.records.budget_spec import ConfiguredBudget

Dialect = Literal["auto", "jmx", "strimzi", "kafka_exporter", "kminion", "confluent_cloud"]
CONFIG_ENV = "COSTOPT_CONFIG"


class ConfigError(InvalidInput):
    """A configuration that cannot be used; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KafkaSecurity(_Strict):
    """How costopt's Kafka clients (admin, offsets, the sampler) authenticate, the way the
    cluster's own clients do: SASL_SSL with SCRAM or PLAIN (e.g. a Confluent Cloud API key and
    secret), mutual TLS (SSL with a client certificate), or OAUTHBEARER with a token from
    `oauthbearer_token_provider` (e.g. MSK IAM). Paths are PEM files."""

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_ca_location: str | None = Field(
        None, description="CA certificate(s) to trust; default: the system's")
    ssl_certificate_location: str | None = Field(
        None, description="client certificate, for mutual TLS")
    ssl_key_location: str | None = Field(None, description="client key, for mutual TLS")
    ssl_key_password: SecretStr | None = Field(None, description="if the client key is "
                                               "encrypted")
    oauthbearer_token_provider: str | None = Field(
        None, pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="`module:function` returning (token, expiry as Unix seconds) for "
                    "OAUTHBEARER; it is called with `oauthbearer_config`")
    oauthbearer_config: str | None = Field(
        None, description="handed to the token provider as is (e.g. the AWS region)")

    @model_validator(mode="after")
    def _complete(self) -> KafkaSecurity:
        if self.protocol.startswith("SASL") and self.sasl_mechanism is None:
            raise ValueError("sasl_mechanism is required when protocol is SASL_*")
        if not self.protocol.startswith("SASL") and self.sasl_mechanism is not None:
            raise ValueError(f"sasl_mechanism is set but protocol {self.protocol} uses no SASL")
        if self.sasl_mechanism == "OAUTHBEARER":
            if self.oauthbearer_token_provider is None:
                raise ValueError("sasl_mechanism OAUTHBEARER needs oauthbearer_token_provider "
                                 "(`module:function`, see docs/collection.md)")
        elif self.sasl_mechanism is not None and (self.sasl_username is None
                                                  or self.sasl_password is None):
            raise ValueError(f"sasl_mechanism {self.sasl_mechanism} needs sasl_username and "
                             "sasl_password")
        if (self.ssl_certificate_location is None) != (self.ssl_key_location is None):
            raise ValueError("ssl_certificate_location and ssl_key_location go together "
                             "(mutual TLS)")
        return self


class BasicAuth(_Strict):
    username: str = Field(min_length=1)
    password: SecretStr


class PrometheusSettings(_Strict):
    url: str = Field(description="Prometheus-compatible HTTP API base URL")
    auth_header: SecretStr | None = Field(None, description="the Authorization header, e.g. "
                                          "'Bearer xyz'")
    basic_auth: BasicAuth | None = Field(None, description="username and password")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="extra headers on every request, e.g. "
        "X-Scope-OrgID for Mimir or Cortex; values are treated as secrets")
    ca_file: str | None = Field(None, description="PEM CA certificate(s) to trust for an "
                                "https url; default: the system's")
    dialect: Dialect = "auto"
    cluster_label: str = "cluster"
    cluster_label_value: str | None = Field(
        None, description="the label's value for this cluster; default: the cluster's name")
    timeout_seconds: float = Field(60, gt=0)
    max_concurrency: int = Field(4, ge=1, le=32)
    verify_tls: bool = True
    recording_rules: Literal["auto", "on", "off"] = Field(
        "auto", description="read the per-topic series of deploy/prometheus/costopt-rules.yml: "
        "auto when present, on always (an error if missing), off never")
    max_samples: int = Field(
        50_000_000, ge=1_000, description="the server's --query.max-samples: series × steps "
        "one query may hold (Prometheus's default)")
    max_samples_read: int = Field(
        100_000_000, ge=1_000, description="raw samples one query may read; keep it within "
        "what the server reads before its --query.timeout (see docs/collection.md)")

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_authorization(self) -> PrometheusSettings:
        authorizations = [name for name in self.headers if name.lower() == "authorization"]
        if sum(1 for given in (self.auth_header, self.basic_auth, authorizations or None)
               if given) > 1:
            raise ValueError("give one of auth_header, basic_auth or an Authorization entry "
                             "in headers")
        if self.ca_file is not None and not self.verify_tls:
            raise ValueError("ca_file is set but verify_tls is false: nothing would be checked")
        return self


class ClusterSettings(_Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    bootstrap_servers: str | None = None
    security: KafkaSecurity = KafkaSecurity()
    prometheus: PrometheusSettings | None = None
    catalog: str = Field("aws-self-managed", description="built-in catalog name or file path")
    region: str | None = Field(
        None, min_length=1, pattern=r"^[A-Za-z0-9._-]+$",
        description="where the cluster runs (e.g. eu-west-1): priced from the catalog's "
                    "prices for that region; none: the catalog's own region")
    volume_type: str | None = Field(
        None, min_length=1, description="the brokers' disk type in the catalog (gp3, st1, sc1, "
                                        "...); none: the catalog's default disk")
    tiered_storage: bool | None = Field(
        None, description="whether the brokers run tiered storage "
                          "(remote.log.storage.system.enable), where Kafka does not say")
    internet_egress_share: float = Field(
        0.0, ge=0, le=1, description="share of bytes read that leave to the internet")
    cross_region_egress_share: float = Field(
        0.0, ge=0, le=1, description="share of bytes read that leave to another region "
                                     "(e.g. MirrorMaker 2 to a standby)")
    mirror_topics: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")]] = Field(
        default_factory=list, description="topics this cluster mirrors in over Confluent "
        "cluster links: they carry its Cluster Linking bill (docs/chargeback.md)")
    instance_type: str | None = Field(
        None, description="broker instance type (or capacity unit) in the price catalog")
    disk_capacity_bytes: int | None = Field(None, gt=0, description="disk per broker")
    broker_count: int | None = Field(
        None, ge=1, description="brokers, when neither Kafka nor Prometheus can tell")
    window_seconds: int = Field(3600, ge=10, le=7 * 86_400,
                                description="usage figures are averages over this window")
    lookback_seconds: int = Field(600, ge=10, le=7 * 86_400,
                                  description="how old a gauge's last sample may be")
    hourly_days: int = Field(7, ge=0, le=60, description="days of hourly history to keep")
    rack_aware_fetch: bool | None = Field(
        None, description="override: whether consumers fetch from a replica in their own zone "
        "(KIP-392); unset, the brokers' replica.selector.class read at collect decides")
    admin_timeout_seconds: float = Field(
        30, gt=0, description="bound on each Admin API request, and on asking again what a "
        "restarting broker could not answer yet (a moving partition leader or group "
        "coordinator, a group listing)")
    sample_records_per_topic: int = Field(50, ge=0, le=10_000)

    @model_validator(mode="after")
    def _egress_shares(self) -> ClusterSettings:
        if self.internet_egress_share + self.cross_region_egress_share > 1:
            raise ValueError("internet_egress_share + cross_region_egress_share must be at "
                             "most 1")
        return self

    @property
    def catalog_ref(self) -> str:
        """The catalog and region this cluster is priced from (`aws-msk@eu-west-1`)."""
        return catalog_ref(self.catalog, self.region)


class ScheduleSettings(_Strict):
    collect_every_minutes: int = Field(15, ge=1, le=1440)
    collect_concurrency: int = Field(
        2, ge=1, le=16, description="clusters collected at once (each runs its own queries "
                                    "with prometheus.max_concurrency)")
    analyze_every_minutes: int = Field(60, ge=1, le=1440)
    report_cron: str = Field("0 6 * * mon", description="crontab, UTC; default Monday 06:00")
    anomalies_cron: str = Field("30 * * * *", description="crontab, UTC: anomaly detection "
                                "and its notices; default hourly")
    misfire_grace_seconds: int = Field(600, ge=1)
    history_days: int = Field(30, ge=1, le=400)


class ApiToken(_Strict):
    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="hex SHA-256 of the token")
    scopes: list[Literal["read", "admin"]] = ["read"]


class ApiSettings(_Strict):
    auth_enabled: bool = True
    warm_at_start: bool = Field(True, description="load (or compute) the analysis as a worker "
                                "starts; /readyz is 503 until it is there")
    store_check_seconds: float = Field(1.0, ge=0, le=300, description="how often a worker asks "
                                       "the store whether a new snapshot landed")
    request_timeout_seconds: float = Field(60, ge=0, le=3600, description="answer 503 to a "
                                           "request that takes longer (0: no limit)")
    shutdown_seconds: float = Field(3, ge=0, le=600, description="on SIGTERM, how long "
                                    "in-flight requests may finish")
    tokens: list[ApiToken] = []
    open_healthz: bool = True
    open_metrics: bool = False
    cors_origins: list[str] = []
    max_body_bytes: int = Field(1_000_000, ge=1_024)
    metrics_top_topics: int = Field(200, ge=1, le=10_000)


class OwnerSettings(_Strict):
    """Who owns what. Topics: `mapping_file` (exact), then Strimzi KafkaTopic resources
    (`strimzi_topics_dir`), then `rules`, then `default_owner`. Consumer groups: `group_rules`,
    then `default_owner` (a group's owner pays for what it reads)."""

    mapping_file: str | None = None
    strimzi_topics_dir: str | None = Field(
        None, description="directory of Strimzi KafkaTopic YAML "
                          "(`kubectl get kafkatopics -A -o yaml`)")
    strimzi_owner_keys: list[str] = Field(
        list(DEFAULT_OWNER_KEYS), min_length=1,
        description="label or annotation keys naming a KafkaTopic's owner, first found wins")
    rules: list[OwnerRule] = list(DEFAULT_RULES)
    group_rules: list[OwnerRule] = Field(
        list(DEFAULT_GROUP_RULES), description="consumer group -> owner, first match")
    principals: dict[str, str] = Field(
        default_factory=dict, description="principal (service account) id or display name "
        "-> owner; unmapped: group_rules on the display name, else the id")
    default_owner: str = "unowned"


class ReportSettings(_Strict):
    directory: str | None = None
    grafana_url: str | None = Field(None, description="Grafana base URL for deep links")
    webhook_url: SecretStr | None = Field(
        None, description="Slack-compatible webhook; its URL is a credential, never logged")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_from: str | None = None
    smtp_to: list[str] = []
    per_owner: bool = Field(False, description="with each scheduled report, a page per owner "
                            "(`costopt report --owner TEAM`), linked from the fleet report")
    owner_webhooks: dict[str, SecretStr] = Field(
        default_factory=dict, description="owner -> that team's Slack-compatible webhook for "
        "its page; each URL is a credential, never logged")


class BillingSettings(_Strict):
    """How invoice lines find their cluster (`costopt bill import`): an exact resource id
    (`resources`), then a tag naming the cluster (`cluster_tag_keys`), then a resource id or
    name equal to a cluster's name (an MSK ARN's cluster segment counts)."""

    resources: dict[str, str] = Field(
        default_factory=dict, description="resource id (ARN, lkc-..., i-..., vol-...) -> "
                                          "cluster name")
    cluster_tag_keys: list[str] = Field(
        ["kafka_cluster", "kafka-cluster", "costopt_cluster"],
        description="tag keys whose value names the cluster; AWS's user: and user_ "
                    "prefixes are ignored")
    unmapped_services: str = Field(
        r"(?i)kafka|confluent|\bmsk\b", description="regex: lines of these services with no "
        "resource id (support, tax, credits) are kept as unattributed")

    @field_validator("unmapped_services")
    @classmethod
    def _compiles(cls, value: str) -> str:
        return checked_regex(value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COSTOPT_", env_nested_delimiter="__",
                                      extra="forbid")

    store_url: str = "sqlite:///costopt.db"
    currency: str = "USD"
    clusters: list[ClusterSettings] = []
    schedule: ScheduleSettings = ScheduleSettings()
    api: ApiSettings = ApiSettings()
    owners: OwnerSettings = OwnerSettings()
    allocation: AllocationSettings = AllocationSettings()
    billing: BillingSettings = BillingSettings()
    rules: dict[str, Any] = Field(
        default_factory=dict, description="per-rule settings (enabled, thresholds) by rule "
        "name, and protected_topics: patterns of topics no rule may change")
    report: ReportSettings = ReportSettings()
    budgets: list[ConfiguredBudget] = Field(
        default_factory=list, description="monthly budgets (docs/budgets.md); more can be "
        "added over REST (`PUT /v1/budgets/{name}`)")
    anomalies: AnomalySettings = AnomalySettings()

    @model_validator(mode="before")
    @classmethod
    def _empty_sections_are_defaults(cls, data: Any) -> Any:
        """`report:` with every line commented out is YAML null: read it as the defaults."""
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data

    @field_validator("clusters", "budgets")
    @classmethod
    def _unique_names(cls, value: list[Any], info: ValidationInfo) -> list[Any]:
        names = [item.name for item in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            kind = (info.field_name or "item").removesuffix("s")
            raise ValueError(f"{kind} names must be unique; repeated: {duplicates}")
        return value

    @classmethod
    def settings_customise_sources(  # pydantic-settings' signature: every source is passed
        cls, settings_cls: type[BaseSettings],  # noqa: ARG003
        init_settings: PydanticBaseSettingsSource, env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,  # noqa: ARG003
        file_secret_settings: PydanticBaseSettingsSource,  # noqa: ARG003
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment wins over the file (passed as init values).
        return env_settings, init_settings

    def cluster(self, name: str) -> ClusterSettings:
        for cluster in self.clusters:
            if cluster.name == name:
                return cluster
        raise KeyError(f"unknown cluster {name!r}; configured: "
                       f"{', '.join(c.name for c in self.clusters) or 'none'}")


def _describe(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        value = item.get("input")
        shown = "***" if "password" in field or "token" in field or "auth" in field else value
        lines.append(f"{source}: field {field!r}: {item['msg']} (value: {shown!r})")
    return "invalid configuration\n" + "\n".join(lines)


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from a YAML file (or $COSTOPT_CONFIG, or none) with env overrides."""
    path = path or os.environ.get(CONFIG_ENV)
    data: dict[str, Any] = {}
    source = "environment"
    if path:
        source = str(path)
        try:
            loaded = yaml.safe_load(Path(path).read_text())
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the configuration is a mapping of settings")
        data = loaded
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, loaded once; tests and jobs may call `load_settings` directly."""
    return load_settings()
