"""Topics: filter, sort by any cost column, page with a cursor; one topic in detail."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Query

from api.deps import AnalysisDep, ReadScope, StateDep
from api.routes._common import cluster_or_404, cost_item, unprocessable
from api.routes.recommendations import recommendation_items
from api.schemas import Page, TopicCost, TopicDetail
from costopt.analysis import FleetAnalysis
from costopt.cost.allocation import COMPONENTS, IDLE, UNALLOCATED
from costopt.forecast.cluster import forecast_series
from costopt.patterns import PatternError, compile_pattern

router = APIRouter(prefix="/v1/topics", tags=["topics"], dependencies=[ReadScope])
SORTABLE = ("monthly_cost", *COMPONENTS)


def _encode(key: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode(cursor: str) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError):
        raise unprocessable("query", "cursor", "not a cursor this API issued") from None
    if not (isinstance(key, list) and len(key) == 3 and isinstance(key[0], int)):
        raise unprocessable("query", "cursor", "not a cursor this API issued")
    return key


@router.get("", response_model=Page[TopicCost])
def list_topics(
    analysis: AnalysisDep,
    state: StateDep,
    cluster: str | None = None,
    owner: str | None = None,
    pattern: Annotated[str | None, Query(max_length=512,
                                         description="regular expression over topic names, "
                                                     "RE2 syntax (no backreferences or "
                                                     "lookaround)")]
    = None,
    sort: Annotated[str, Query(description="a cost column, '-' first for descending: "
                                           + ", ".join(SORTABLE))] = "-monthly_cost",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Topic cost rows. Sorting is stable (ties broken by cluster, then topic) so a cursor
    walks every row exactly once."""
    return state.memo(analysis, ("topics", cluster, owner, pattern, sort, limit, cursor),
                      lambda: _topics_page(analysis, cluster, owner, pattern, sort, limit,
                                           cursor))


def _topics_page(analysis: FleetAnalysis, cluster: str | None, owner: str | None,
                 pattern: str | None, sort: str, limit: int, cursor: str | None) -> dict[str, Any]:
    descending = sort.startswith("-")
    column = sort.removeprefix("-")
    if column not in SORTABLE:
        raise unprocessable("query", "sort",
                            f"unknown column {column!r}; one of {', '.join(SORTABLE)}")
    if cluster is not None:
        cluster_or_404(analysis, cluster)
    frames = [c.topic_rows() for c in analysis.costs
              if cluster is None or c.cluster == cluster]
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    if rows.empty:
        return {"items": [], "next_cursor": None}
    rows = rows[~rows["topic"].isin([IDLE, UNALLOCATED])]
    if owner is not None:
        rows = rows[rows["owner"] == owner]
    if pattern is not None:
        try:
            compiled = compile_pattern(pattern)
        except PatternError as exc:
            raise unprocessable("query", "pattern", str(exc)) from None
        rows = rows[np.array([bool(compiled.search(name)) for name in rows["topic"]],
                             dtype=bool)]
    value_column = f"{column}_micros" if column != "monthly_cost" else "monthly_cost_micros"
    sign = -1 if descending else 1
    rows = rows.assign(_key=rows[value_column].astype(np.int64) * sign)
    rows = rows.sort_values(["_key", "cluster", "topic"], ignore_index=True)
    if cursor is not None:
        value, last_cluster, last_topic = _decode(cursor)
        after = ((rows["_key"] > value)
                 | ((rows["_key"] == value) & (rows["cluster"] > last_cluster))
                 | ((rows["_key"] == value) & (rows["cluster"] == last_cluster)
                    & (rows["topic"] > last_topic)))
        rows = rows[after]
    page = rows.head(limit)
    next_cursor = None
    if len(rows) > limit:
        last = page.iloc[-1]
        next_cursor = _encode([int(last["_key"]), last["cluster"], last["topic"]])
    return {"items": [cost_item(r, analysis.currency) for r in page.itertuples(index=False)],
            "next_cursor": next_cursor}


@router.get("/{cluster}/{topic}", response_model=TopicDetail)
def get_topic(cluster: str, topic: str, analysis: AnalysisDep, state: StateDep) -> dict[str, Any]:
    """Configs, usage, a summary of the stored series, the cost breakdown and the open
    recommendations of one topic."""
    detail = state.memo(analysis, ("topic", cluster, topic),
                        lambda: _topic_detail(analysis, cluster, topic))
    recs = [r for r in analysis.recommendations if r.cluster == cluster and r.target == topic]
    return {**detail, "recommendations": recommendation_items(recs, state)}


def _topic_detail(analysis: FleetAnalysis, cluster: str, topic: str) -> dict[str, Any]:
    """Everything of a topic's detail that depends on the analysis alone (not statuses)."""
    found = cluster_or_404(analysis, cluster)
    try:
        t = found.model.snapshot.topic(topic)
    except KeyError:
        raise HTTPException(404, f"unknown topic {topic!r} in cluster {cluster!r}") from None
    rows = found.model.cost.rows
    row = next(rows[rows["topic"] == topic].itertuples(index=False))
    daily = found.history.daily
    mine = daily[daily["topic"] == topic] if not daily.empty else daily
    forecast = None
    if len(mine):
        fitted = forecast_series(pd.Series(mine["bytes_in_per_second"].to_numpy(),
                                           index=pd.DatetimeIndex(mine["ts"])),
                                 "bytes_in_per_second", "bytes/s", 90)
        if fitted is not None:
            forecast = {"metric": fitted.metric, "unit": fitted.unit,
                        "growth_per_month": fitted.growth_per_month,
                        "points": fitted.forecast.to_dict("records")}
    return {
        "cluster": cluster, "topic": topic, "owner": row.owner,
        "config": {"partitions": t.partitions, "replication_factor": t.replication_factor,
                   "retention_ms": t.retention_ms, "retention_bytes": t.retention_bytes,
                   "cleanup_policy": t.cleanup_policy, "compression_type": t.compression_type,
                   "min_insync_replicas": t.min_insync_replicas,
                   "remote_storage_enable": t.remote_storage_enable,
                   "local_retention_ms": t.local_retention_ms},
        "usage": {"bytes_in_per_second": t.bytes_in_per_second,
                  "bytes_out_per_second": t.bytes_out_per_second,
                  "messages_in_per_second": t.messages_in_per_second,
                  "log_size_bytes": t.log_size_bytes,
                  "remote_log_size_bytes": t.remote_log_size_bytes},
        "series": {"days": len(mine),
                   "bytes_in_per_second_mean": float(mine["bytes_in_per_second"].mean())
                   if len(mine) else None,
                   "bytes_in_per_second_max": float(mine["bytes_in_per_second"].max())
                   if len(mine) else None,
                   "log_size_bytes_last": float(mine["log_size_bytes"].iloc[-1])
                   if len(mine) else None,
                   "growth_per_day": found.model.growth_per_day.get(topic)},
        "forecast": forecast,
        "cost": cost_item(row, analysis.currency),
    }


assert set(SORTABLE) - {"monthly_cost"} == set(COMPONENTS)
