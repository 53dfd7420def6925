"""Topics: filter, sort by any cost column, page with a cursor; one topic in detail."""

from __future__ import annotations

from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Query

from api.deps import AnalysisDep, ReadScope, StateDep
from api.errors import unprocessable
from api.paging import NOT_OURS, decode_cursor, encode_cursor
from api.presenters.costs import topic_cost
from api.presenters.recommendations import recommendations
from api.presenters.topics import topic_detail, with_recommendations
from api.routes._common import cluster_or_404
from api.schemas import Page, TopicCost, TopicDetail
from costopt.analyze.analysis import FleetAnalysis
from costopt.base.patterns import PatternError, compile_pattern
from costopt.cost.allocation import COMPONENTS, IDLE, UNALLOCATED
from costopt.forecast.cluster import forecast_series

router = APIRouter(prefix="/v1/topics", tags=["topics"], dependencies=[ReadScope])
SORTABLE = ("monthly_cost", *COMPONENTS)
KIND = "topics"


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
) -> Page[TopicCost]:
    """Topic cost rows. Sorting is stable (ties broken by cluster, then topic) so a cursor
    walks every row exactly once."""
    return state.memo(analysis, ("topics", cluster, owner, pattern, sort, limit, cursor),
                      lambda: _topics_page(analysis, cluster, owner, pattern, sort, limit,
                                           cursor))


def _topics_page(analysis: FleetAnalysis, cluster: str | None, owner: str | None,
                 pattern: str | None, sort: str, limit: int, cursor: str | None
                 ) -> Page[TopicCost]:
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
        return Page[TopicCost](items=[], next_cursor=None)
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
    key = decode_cursor(cursor, KIND, 3)
    if key is not None:
        if not isinstance(key[0], int):
            raise unprocessable("query", "cursor", NOT_OURS)
        value, last_cluster, last_topic = key
        after = ((rows["_key"] > value)
                 | ((rows["_key"] == value) & (rows["cluster"] > last_cluster))
                 | ((rows["_key"] == value) & (rows["cluster"] == last_cluster)
                    & (rows["topic"] > last_topic)))
        rows = rows[after]
    page = rows.head(limit)
    next_cursor = None
    if len(rows) > limit:
        last = page.iloc[-1]
        next_cursor = encode_cursor(KIND, [int(last["_key"]), last["cluster"], last["topic"]])
    return Page[TopicCost](items=[topic_cost(r, analysis.currency)
                                  for r in page.itertuples(index=False)],
                           next_cursor=next_cursor)


@router.get("/{cluster}/{topic}", response_model=TopicDetail)
def get_topic(cluster: str, topic: str, analysis: AnalysisDep, state: StateDep) -> TopicDetail:
    """Configs, usage, a summary of the stored series, the cost breakdown and the open
    recommendations of one topic."""
    detail = state.memo(analysis, ("topic", cluster, topic),
                        lambda: _topic_detail(analysis, cluster, topic))
    recs = [r for r in analysis.recommendations if r.cluster == cluster and r.target == topic]
    return with_recommendations(detail, recommendations(recs, state.statuses.statuses()))


def _topic_detail(analysis: FleetAnalysis, cluster: str, topic: str) -> TopicDetail:
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
    fitted = None
    if len(mine):
        fitted = forecast_series(pd.Series(mine["bytes_in_per_second"].to_numpy(),
                                           index=pd.DatetimeIndex(mine["ts"])),
                                 "bytes_in_per_second", "bytes/s", 90)
    return topic_detail(cluster, t, row, analysis.currency, mine,
                        found.model.growth_per_day.get(topic), fitted)


assert set(SORTABLE) - {"monthly_cost"} == set(COMPONENTS)
