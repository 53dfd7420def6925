"""A topic in detail as the API shows it: config, usage, a summary of its stored series, its
forecast, its cost, and (beside them) its open recommendations."""

from __future__ import annotations

from typing import Any

import pandas as pd

from api.presenters.costs import topic_cost
from api.schemas import (
    Recommendation,
    SeriesSummary,
    TopicConfig,
    TopicDetail,
    TopicForecast,
    TopicUsage,
)
from costopt.forecast.cluster import Forecast
from costopt.snapshot.cluster_snapshot import Topic as TopicSnapshot


def topic_config(t: TopicSnapshot) -> TopicConfig:
    return TopicConfig(partitions=t.partitions, replication_factor=t.replication_factor,
                       retention_ms=t.retention_ms, retention_bytes=t.retention_bytes,
                       cleanup_policy=t.cleanup_policy, compression_type=t.compression_type,
                       min_insync_replicas=t.min_insync_replicas,
                       remote_storage_enable=t.remote_storage_enable,
                       local_retention_ms=t.local_retention_ms)


def topic_usage(t: TopicSnapshot) -> TopicUsage:
    return TopicUsage(bytes_in_per_second=t.bytes_in_per_second,
                      bytes_out_per_second=t.bytes_out_per_second,
                      messages_in_per_second=t.messages_in_per_second,
                      log_size_bytes=t.log_size_bytes,
                      remote_log_size_bytes=t.remote_log_size_bytes)


def series_summary(mine: pd.DataFrame, growth_per_day: float | None) -> SeriesSummary:
    """The topic's daily series in four figures (null where there is no day)."""
    days = len(mine)
    return SeriesSummary(
        days=days,
        bytes_in_per_second_mean=float(mine["bytes_in_per_second"].mean()) if days else None,
        bytes_in_per_second_max=float(mine["bytes_in_per_second"].max()) if days else None,
        log_size_bytes_last=float(mine["log_size_bytes"].iloc[-1]) if days else None,
        growth_per_day=growth_per_day)


def topic_forecast(fitted: Forecast | None) -> TopicForecast | None:
    if fitted is None:
        return None
    return TopicForecast.model_validate({
        "metric": fitted.metric, "unit": fitted.unit,
        "growth_per_month": fitted.growth_per_month,
        "points": fitted.forecast.to_dict("records")})


def topic_detail(cluster: str, t: TopicSnapshot, cost_row: Any, currency: str,
                 mine: pd.DataFrame, growth_per_day: float | None,
                 fitted: Forecast | None) -> TopicDetail:
    """Everything of a topic's detail that depends on the analysis alone: its
    recommendations (which depend on decisions too) are added by `with_recommendations`."""
    return TopicDetail(cluster=cluster, topic=t.name, owner=cost_row.owner,
                       config=topic_config(t), usage=topic_usage(t),
                       series=series_summary(mine, growth_per_day),
                       forecast=topic_forecast(fitted), cost=topic_cost(cost_row, currency),
                       recommendations=[])


def with_recommendations(detail: TopicDetail, recommendations: list[Recommendation]
                         ) -> TopicDetail:
    return detail.model_copy(update={"recommendations": recommendations})
