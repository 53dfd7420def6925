"""Request and response models of the API, separate from the domain's types: the API's shape
is a promise to scripts and dashboards, the domain is free to change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from costopt.cost.allocation import COMPONENTS
from costopt.whatif.changes import Change

T = TypeVar("T")
Money = str  # decimal text, e.g. "1234.56"; always with `currency` and `period` beside it


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="pass as `cursor` for the next page")


class Runway(BaseModel):
    resource: str
    limit: float
    unit: str
    current: float
    date: str | None = Field(None, description="when the limit is reached; null: not within "
                                               "the horizon")
    days: int | None = None


class ClusterSummary(BaseModel):
    name: str
    taken_at: datetime
    brokers: int
    topics: int
    consumer_groups: int
    monthly_cost: Money
    currency: str
    period: Literal["month"] = "month"
    catalog: str
    dialect: str | None = None
    disk_headroom_fraction: float | None
    cpu_headroom_fraction: float | None
    runway: list[Runway]


class Broker(BaseModel):
    broker_id: int
    rack: str | None
    instance_type: str
    disk_capacity_bytes: int
    disk_used_bytes: int | None
    cpu_utilisation: float | None


class ClusterDetail(ClusterSummary):
    broker_list: list[Broker]
    partition_replicas_per_broker: float
    costs_by_component: dict[str, Money]


class _TopicCostKeys(BaseModel):
    cluster: str
    topic: str
    owner: str
    monthly_cost: Money
    currency: str
    period: Literal["month"] = "month"


TopicCost = create_model(  # type: ignore[call-overload]
    "TopicCost", __base__=_TopicCostKeys, __doc__="A topic's monthly cost by component.",
    **dict.fromkeys(COMPONENTS, (Money, ...)))


class _CostRowKeys(BaseModel):
    """A roll-up row's keys: `cluster` by cluster, `owner` by owner (across clusters unless
    `cluster` narrows it), `cluster`, `topic` and `owner` by topic."""
    cluster: str | None = None
    topic: str | None = None
    owner: str | None = None
    side: Literal["producer", "consumer", "both"]
    monthly_cost: Money
    currency: str
    period: Literal["month"] = "month"
    measured_share: float = Field(description="share of the cost whose producer/consumer "
                                              "split rests on measured reads")
    # With `unit=`: the cost per unit of the row's topics' traffic (costopt/cost/unit_cost.py).
    unit: Literal["million_messages", "gb_in", "gb_out"] | None = None
    unit_cost: str | None = Field(None, description="monthly cost per unit, decimal text in "
                                  "`currency`; null where there is nothing to divide by")
    units_per_month: float | None = None
    unit_cost_basis: Literal["measured", "estimated"] | None = Field(
        None, description="estimated: the traffic divided by is an estimate (the exporter has "
        "no counter for it)")
    unit_cost_reason: str | None = Field(None, description="why unit_cost is null")


# One field per cost component, from the one list the cost model keeps.
CostRow = create_model(  # type: ignore[call-overload]
    "CostRow", __base__=_CostRowKeys, __doc__="One row of GET /v1/costs.",
    **dict.fromkeys(COMPONENTS, (Money, ...)))


class TopicConfig(BaseModel):
    partitions: int
    replication_factor: int
    retention_ms: int
    retention_bytes: int
    cleanup_policy: str
    compression_type: str
    min_insync_replicas: int
    remote_storage_enable: bool
    local_retention_ms: int


class TopicUsage(BaseModel):
    bytes_in_per_second: float
    bytes_out_per_second: float
    messages_in_per_second: float
    log_size_bytes: int
    remote_log_size_bytes: int


class SeriesSummary(BaseModel):
    days: int
    bytes_in_per_second_mean: float | None
    bytes_in_per_second_max: float | None
    log_size_bytes_last: float | None
    growth_per_day: float | None


class Evidence(BaseModel):
    name: str
    value: float | int | str
    unit: str
    display: str | None = Field(None, description="the value in human units, e.g. `90 d`")
    window: str = Field(description="the span observed, e.g. `30 d` or `6 min observed (7 d "
                                    "needed)`")


class Recommendation(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {
        "id": "3f2a9c1d0b7e4a55", "cluster": "use1-main", "kind": "retention",
        "target_type": "topic", "target": "payments.orders.v1", "owner": "payments",
        "title": "Keep payments.orders.v1 for 24 h instead of 720 h",
        "evidence": [{"name": "max_consumer_lag", "value": 41.9, "unit": "seconds",
                      "window": "30 days"}],
        "current": {"retention.ms": 2592000000}, "proposed": {"retention.ms": 86400000},
        "monthly_savings": "512.40", "currency": "USD", "period": "month", "risk": "low",
        "confidence": 0.9, "status": "open",
        "change": "kafka-configs.sh --bootstrap-server $BOOTSTRAP --alter --entity-type "
                  "topics --entity-name payments.orders.v1 --add-config retention.ms=86400000",
        "whatif": [{"selector": {"topic": "payments.orders.v1"}, "retention_ms": 86400000}]}})
    id: str
    cluster: str
    kind: str
    target_type: str
    target: str
    owner: str
    title: str
    evidence: list[Evidence]
    current: dict[str, Any]
    proposed: dict[str, Any]
    monthly_savings: Money = Field(
        description="what the bill loses now: exactly what POST /v1/whatif of `whatif` says, "
                    "sign included (negative: the change costs money now, e.g. it only frees "
                    "capacity)")
    monthly_cost: Money | None = Field(
        None, description="what the change adds to the bill, where it adds (a capacity need, "
                          "object storage for tiering)")
    target_monthly_cost: Money | None = None
    currency: str
    period: Literal["month"] = "month"
    category: Literal["saving", "risk", "watch"] = "saving"
    severity: Literal["critical", "high", "medium", "low"] | None = None
    capacity_freed: dict[str, float] | None = Field(
        None, description="disk_bytes and brokers the change frees (negative: needs); money "
                          "only once a capacity change resizes the cluster")
    risk: str
    confidence: float
    change: str
    whatif: list[dict[str, Any]]
    provisional: bool = False
    observed_days: float | None = None
    needed_days: float | None = None
    alternative_group: str | None = None
    status: Literal["open", "accepted", "dismissed", "snoozed"] = "open"
    status_reason: str | None = None


class Realized(BaseModel):
    applied: bool | None = Field(description="null: a snapshot cannot show it (client-side)")
    observed: str
    observed_at: datetime | None
    predicted_monthly_savings: Money
    realized_monthly_savings: Money | None
    currency: str
    period: Literal["month"] = "month"
    basis: str


class RecommendationDetail(Recommendation):
    realized: Realized | None = Field(
        None, description="accepted recommendations: applied or not, and the saving at the "
                          "traffic of the snapshot it was accepted on")


class LeftOutAlternative(BaseModel):
    id: str
    kind: str
    title: str
    risk: str
    standalone_savings: Money
    why: str


class PlanStep(BaseModel):
    step: int
    id: str
    kind: str
    cluster: str
    target: str
    title: str
    risk: str
    marginal_savings: Money
    cumulative_savings: Money
    standalone_savings: Money
    currency: str
    period: Literal["month"] = "month"
    capacity_freed: dict[str, float]
    capacity_basis: str | None = Field(
        None, description="for a retention cut or tiering: whether the disk it frees is "
                          "counted at steady state (the log has run for its retention) or now")
    change: str
    whatif: list[dict[str, Any]]
    pays_off_with: PaysOffWith | None = Field(
        None, description="a step that saves nothing by itself (it frees capacity): the "
                          "capacity step that turns it into money, and what the pair saves")
    alternative_group: str | None = None
    alternatives_left_out: list[LeftOutAlternative] = Field(
        default_factory=list, description="alternatives for the same target (tiering, "
        "diskless, a retention cut) the plan took this step instead of, and why")


class PaysOffWith(BaseModel):
    step: int
    id: str
    capacity_share: Money
    pair_savings: Money
    currency: str
    period: Literal["month"] = "month"
    basis: str


class Plan(BaseModel):
    monthly_cost: Money
    savings: Money
    share_of_bill: float
    currency: str
    period: Literal["month"] = "month"
    total_steps: int
    skipped: dict[str, int]
    steps: list[PlanStep]
    next_cursor: str | None = None
    replay: dict[str, Any] = Field(description="how to project this plan, or it less some "
                                                "steps, in one what-if")


class TopicForecastPoint(BaseModel):
    ts: datetime
    value: float
    lower: float
    upper: float


class TopicForecast(BaseModel):
    metric: str
    unit: str
    growth_per_month: float
    points: list[TopicForecastPoint]


class TopicDetail(BaseModel):
    cluster: str
    topic: str
    owner: str
    config: TopicConfig
    usage: TopicUsage
    series: SeriesSummary
    forecast: TopicForecast | None = Field(
        None, description="bytes in per second, 90 days, 95% interval; null under 7 days of "
                          "history")
    cost: TopicCost
    recommendations: list[Recommendation]


class StatusChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2000, description="why (kept for audit)")
    until: datetime | None = Field(None, description="snooze only: until when")


StepId = Annotated[str, Field(min_length=1, max_length=64)]


class PlanReplay(BaseModel):
    """Which of the savings plan's steps (`GET /v1/plan` ids) to project: all (`{}`), all but
    `exclude`, or only `include`. The plan is rebuilt by its own rules without the steps left
    out; a broker-sizing step left out leaves its cluster unresized."""

    model_config = ConfigDict(extra="forbid")
    exclude: list[StepId] | None = Field(None, max_length=100_000)
    include: list[StepId] | None = Field(None, max_length=100_000)

    @model_validator(mode="after")
    def _one_of(self) -> PlanReplay:
        if self.exclude is not None and self.include is not None:
            raise ValueError("`exclude` and `include` exclude each other: give one")
        return self


class PlanReplayed(BaseModel):
    steps: int = Field(description="steps of the plan as projected")
    left_out: int = Field(description="steps of the current plan left out")
    savings: Money = Field(description="the projected plan's total; equals -delta")
    currency: str
    period: Literal["month"] = "month"


class WhatIfRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "changes": [{"selector": {"topic": "payments.orders.v1"}, "retention_ms": 259200000,
                     "compression": "zstd"}], "horizon_days": 90}})
    changes: list[Change] = Field(
        default_factory=list, max_length=100,
        description="changes applied in order; or give `plan` instead, not both")
    plan: PlanReplay | None = Field(
        None, description="project the savings plan (`{}`), or the plan rebuilt without some "
                          "steps (`exclude`) or from only some (`include`), in one call")
    horizon_days: int = Field(90, ge=1, le=3650)

    @model_validator(mode="after")
    def _changes_or_plan(self) -> WhatIfRequest:
        if self.plan is None and "changes" not in self.model_fields_set:
            raise ValueError("give `changes` (a list, at most 100) or `plan` "
                             "(e.g. {\"plan\": {}} for the whole savings plan)")
        if self.plan is not None and self.changes:
            raise ValueError("`changes` and `plan` exclude each other: give one")
        return self


class Total(BaseModel):
    monthly_cost: Money
    currency: str
    period: Literal["month"] = "month"
    by_component: dict[str, Money]


class Delta(BaseModel):
    monthly_cost: Money
    currency: str
    period: Literal["month"] = "month"
    percent: float | None


class WhatIfTopic(BaseModel):
    cluster: str
    topic: str
    owner: str
    baseline_monthly_cost: Money
    projected_monthly_cost: Money
    delta_monthly_cost: Money


class Capacity(BaseModel):
    cluster: str
    brokers: int
    disk_capacity_bytes: int
    disk_used_bytes_now: float
    disk_used_bytes_projected: float
    disk_fill_projected: float
    compute_utilisation_projected: float
    partition_replicas_per_broker_projected: float
    disk_bytes_freed: float
    brokers_freed: float


class WhatIfResponse(BaseModel):
    baseline: Total
    projected: Total
    projected_at_horizon: Total
    delta: Delta
    horizon_days: int
    topics: list[WhatIfTopic] = Field(description="changed topics, largest absolute delta "
                                                  "first")
    topics_total: int
    topics_next_cursor: str | None = None
    capacity: list[Capacity]
    warnings: list[str]
    plan: PlanReplayed | None = Field(None, description="with a `plan` request: the plan "
                                                        "projected")


class ForecastPoint(BaseModel):
    ts: datetime
    value: float
    lower: float | None = None
    upper: float | None = None


class MetricForecast(BaseModel):
    metric: str
    unit: str
    model: str = Field(description="linear or log-linear: the one that backtested better")
    growth_per_month: float
    history: list[ForecastPoint]
    forecast: list[ForecastPoint]


class ClusterForecast(BaseModel):
    cluster: str
    horizon_days: int
    forecasts: list[MetricForecast]
    runway: list[Runway]


class ReportSummary(BaseModel):
    id: str
    created_at: datetime
    title: str
    summary: dict[str, Any]


class Job(BaseModel):
    id: str
    kind: str
    cluster: str | None
    status: Literal["queued", "running", "succeeded", "failed"]
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    detail: dict[str, Any]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, str] = {}
