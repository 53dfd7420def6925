"""Anomalies of a fleet: daily cost per topic, owner, cluster and component from the cost
history (`costopt/cost/trend.py`), tested by `detect`, each named by its driver.

One change shows at every scope it touches (a topic's jump is also its owner's and its
cluster's). An anomaly is reported at the narrowest scope that explains it: an owner, cluster
or component anomaly that topic anomalies starting within two days explain (half its impact
or more) is not reported again; one that no topic explains (many small topics moving
together) is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from costopt.analyze.analysis import ClusterAnalysis, FleetAnalysis
from costopt.anomalies.detect import Episode, Floor, detect, moved_parts
from costopt.anomalies.drivers import SnapshotPair, topic_driver, usage_driver
from costopt.cost.allocation import COMPONENTS
from costopt.cost.trend import USAGE, daily_cost, daily_topic_components
from costopt.records.anomaly import Anomaly, AnomalySettings, Driver, Scope

FOLD_DAYS = 2
# The `ts` of the latest snapshots' costs (one column: "now").
NOW = pd.Timestamp(0, tz="UTC")
MICRO_COLUMNS = [f"{c}_micros" for c in COMPONENTS]


@dataclass(frozen=True)
class DailyCosts:
    """The fleet's daily monthly-rate cost: per topic and component (long), and per cluster
    with idle and unallocated (what is paid)."""

    topics: pd.DataFrame
    clusters: pd.DataFrame
    now: DailyCosts | None = None  # the same at the latest snapshots (one `ts` per cluster)

    @classmethod
    def of(cls, analysis: FleetAnalysis, latest: bool = False) -> DailyCosts:
        def usage(c: ClusterAnalysis) -> pd.DataFrame:
            if not latest:
                return c.history.daily
            return c.model.cost.frame[["topic", *USAGE]].assign(ts=NOW)

        parts = [daily_topic_components(c.model.cost, usage(c)) for c in analysis.clusters.values()]
        totals = [daily_cost(c.model.cost, usage(c)) for c in analysis.clusters.values()]
        topics = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
            columns=["ts", "cluster", "topic", "owner", *MICRO_COLUMNS])
        clusters = (pd.concat(totals, ignore_index=True).groupby(["cluster", "ts"], as_index=False)
                    ["monthly_cost_micros"].sum() if totals else pd.DataFrame(
                        columns=["cluster", "ts", "monthly_cost_micros"]))
        topics["total_micros"] = topics[MICRO_COLUMNS].sum(axis=1)
        return cls(topics, clusters, None if latest else cls.of(analysis, latest=True))

    @property
    def days(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(sorted(pd.to_datetime(self.topics["ts"], utc=True).unique()))


def _matrix(frame: pd.DataFrame, keys: list[str], value: str, days: pd.DatetimeIndex
            ) -> tuple[pd.Index, np.ndarray]:
    table = frame.pivot_table(index=keys, columns="ts", values=value, aggfunc="sum",
                              fill_value=0.0).reindex(columns=days, fill_value=0.0)
    return table.index, table.to_numpy(dtype=np.float64)


def _components_long(daily: DailyCosts) -> pd.DataFrame:
    per_cluster = daily.topics.groupby(["ts", "cluster"], as_index=False)[MICRO_COLUMNS].sum()
    melted = per_cluster.melt(id_vars=["ts", "cluster"], value_vars=MICRO_COLUMNS,
                               var_name="component", value_name="micros")
    melted["component"] = melted["component"].str.removesuffix("_micros")
    return melted


def find_anomalies(analysis: FleetAnalysis, settings: AnomalySettings,
                   snapshots: SnapshotPair, group_owner: Callable[[str], str]
                   ) -> list[Anomaly]:
    """Every anomaly above the floor over the stored history, open or resolved, narrowest
    scope first, largest impact first within a scope."""
    daily = DailyCosts.of(analysis)
    days = daily.days
    if len(days) == 0:
        return []
    floor = Floor(settings.min_monthly_impact_micros, settings.min_share, settings.sigmas)
    currency = analysis.currency
    found: list[Anomaly] = []

    def run(scope: Scope, index: pd.Index, values: np.ndarray, now: pd.Series,
            describe: Callable[[Any, Episode], tuple[str | None, str, str | None]],
            drive: Callable[[Any, Episode], Driver]) -> list[Anomaly]:
        out = []
        for found_episode in detect(values, days, floor):
            key = index[found_episode.item]
            episode = found_episode
            if episode.resolved_day is None and episode.end == len(days) - 1 and key in now:
                # Still open on the last day: its impact is today's cost (the latest
                # snapshot, as every other figure of costopt) over the expectation, counted
                # on the components that moved where the item's components are known.
                observed = float(now[key])
                episode = replace(episode, observed_micros=observed,
                                  impact_micros=observed - episode.expected_micros)
                if scope == "topic":
                    episode = _by_moved_components(episode, key, topics, latest, days,
                                                   settings.min_share)
            cluster, item, owner = describe(key, episode)
            out.append(Anomaly(
                scope=scope, cluster=cluster, item=item, owner=owner,
                start=days[episode.start].date(), last_day=days[episode.end].date(),
                resolved_on=(days[episode.resolved_day].date()
                             if episode.resolved_day is not None else None),
                expected_monthly_micros=round(episode.expected_micros),
                observed_monthly_micros=round(episode.observed_micros),
                impact_monthly_micros=round(episode.impact_micros),
                currency=currency, driver=drive(key, episode)))
        return out

    topics = daily.topics
    assert daily.now is not None
    latest = daily.now.topics
    owners = topics.groupby(["cluster", "topic"])["owner"].last()

    def now(frame: pd.DataFrame, keys: list[str], value: str) -> pd.Series:
        series: pd.Series = frame.groupby(keys)[value].sum()
        return series
    index, values = _matrix(topics, ["cluster", "topic"], "total_micros", days)
    found += run("topic", index, values, now(latest, ["cluster", "topic"], "total_micros"),
                 lambda key, _e: (str(key[0]), str(key[1]),
                                  str(owners.get(key, "")) or None),
                 lambda key, e: topic_driver(snapshots, str(key[0]),
                                             str(key[1]), days, e, topics, group_owner))
    index, values = _matrix(topics, ["owner"], "total_micros", days)
    found += run("owner", index, values, now(latest, ["owner"], "total_micros"),
                 lambda key, _e: (None, str(key), str(key)),
                 lambda key, e: usage_driver(topics[topics["owner"] == key], days, e))
    index, values = _matrix(daily.clusters, ["cluster"], "monthly_cost_micros", days)
    found += run("cluster", index, values,
                 now(daily.now.clusters, ["cluster"], "monthly_cost_micros"),
                 lambda key, _e: (str(key), str(key), None),
                 lambda key, e: usage_driver(topics[topics["cluster"] == key], days, e))
    components = _components_long(daily)
    index, values = _matrix(components, ["cluster", "component"], "micros", days)
    found += run("component", index, values,
                 now(_components_long(daily.now), ["cluster", "component"], "micros"),
                 lambda key, _e: (str(key[0]), f"{key[0]}/{key[1]}", None),
                 lambda key, e: usage_driver(
                     topics[topics["cluster"] == key[0]], days, e,
                     components=(str(key[1]),)))
    return fold(found)


def _by_moved_components(episode: Episode, key: tuple[str, str], topics: pd.DataFrame,
                         latest: pd.DataFrame, days: pd.DatetimeIndex, share: float) -> Episode:
    cluster, topic = key
    rows = topics[(topics["cluster"] == cluster) & (topics["topic"] == topic)]
    parts = (rows.set_index("ts")[MICRO_COLUMNS].reindex(days, fill_value=0)
             .to_numpy(dtype=np.float64).T)
    mine = latest[(latest["cluster"] == cluster) & (latest["topic"] == topic)]
    if mine.empty:
        return episode
    now = mine[MICRO_COLUMNS].to_numpy(dtype=np.float64)[0]
    expected, moved = moved_parts(parts, now, days, episode.start, share)
    if not moved.any():
        return episode
    impact = float((now - expected)[moved].sum())
    return replace(episode, impact_micros=impact,
                   expected_micros=episode.observed_micros - impact)


def fold(anomalies: Sequence[Anomaly]) -> list[Anomaly]:
    """Drop broader anomalies that topic anomalies starting within two days explain."""
    topics = [a for a in anomalies if a.scope == "topic"]
    kept = list(topics)
    for anomaly in anomalies:
        if anomaly.scope == "topic":
            continue
        near = [t for t in topics if abs((t.start - anomaly.start).days) <= FOLD_DAYS
                and _within(t, anomaly)]
        explained = sum(t.impact_monthly_micros for t in near)
        if explained < anomaly.impact_monthly_micros / 2:
            kept.append(anomaly)
    order = {"topic": 0, "owner": 1, "component": 2, "cluster": 3}
    return sorted(kept, key=lambda a: (order[a.scope], -a.impact_monthly_micros))


def _within(topic: Anomaly, broader: Anomaly) -> bool:
    if broader.scope == "owner":
        return topic.owner == broader.item
    return topic.cluster == broader.cluster
