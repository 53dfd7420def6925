"""Changes the simulator makes part-way through its history, so anomaly detection has something
real to find (and everything else to leave alone).

Over a 30-day history (the `small`, `wix` and `huge` presets) three things happen, each on its
own topic, from 00:00 UTC of its day:
- day 20: a producer turns compression off (the topic's config stays `producer`, so only the
  stored-to-raw ratio shows it);
- day 24: `retention.ms` of a large one-day topic goes to 30 days (the log then grows by a
  day's bytes every day);
- day 27: a new consumer group, another team's service in another zone (the cluster does not
  fetch rack-aware), starts reading a heavy topic.

`Fleet.topics` and `Fleet.groups` hold the state after the changes (what the last snapshot
shows); `series.cluster_series` shapes the hours either side, and `snapshot_before` gives the
snapshot a collect would have stored just before each change.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from costopt.simulate.fleet import Fleet
    from costopt.simulate.series import SeriesBlock
    from costopt.whatif.changes import Change

DAY_MS = 86_400_000
PLANT_DAYS = {"compression_off": 20, "retention_raised": 24, "new_consumer_group": 27}
RAISED_RETENTION_MS = 30 * DAY_MS
HEAVY_BYTES_PER_SECOND = 2e6
PlantKind = Literal["compression_off", "retention_raised", "new_consumer_group"]


@dataclass(frozen=True)
class PlantedChange:
    """One change the simulator made: where, from when, and the value before and after
    (codec, `retention.ms`, or the group that appeared)."""

    kind: PlantKind
    cluster: str
    topic: str
    day: int
    at: datetime
    before: str
    after: str
    group: str | None = None
    owner: str | None = None


def _candidates(topics: pd.DataFrame, taken: set[str]) -> pd.Series:
    """Ordinary topics, not planted with waste of their own, busiest first."""
    plain = (~topics["is_dlq"] & ~topics["is_idle"] & ~topics["over_partitioned"]
             & ~topics["is_platform"].astype(bool) & ~topics["remote_storage_enable"]
             & (topics["cleanup_policy"] == "delete") & ~topics["topic"].isin(taken))
    result: pd.Series = topics.loc[plain, "base_bytes_in_per_second"].sort_values(
        ascending=False, kind="stable")
    return result


def plant_changes(fleet: Fleet) -> Fleet:
    """The fleet with the three changes made (a history shorter than 28 days gets none)."""
    if fleet.spec.days < 28:
        return fleet
    topics, groups = fleet.topics.copy(), fleet.groups.copy()
    rack_aware = fleet.clusters.set_index("cluster")["rack_aware_fetch"]
    taken: set[str] = set()
    changes: list[PlantedChange] = []

    def at(kind: PlantKind) -> datetime:
        return fleet.start + timedelta(days=PLANT_DAYS[kind])

    # A JSON producer compressing well, whose log turns over within three days.
    pool = _candidates(topics, taken)
    fit = topics.loc[pool.index]
    fit = fit[(fit["payload_kind"] == "json") & (fit["producer_codec"] != "none")
              & (fit["compression_type"] == "producer") & (fit["retention_ms"] <= 3 * DAY_MS)]
    row = fit.index[0]
    changes.append(PlantedChange("compression_off", topics.at[row, "cluster"],
                                 topics.at[row, "topic"], PLANT_DAYS["compression_off"],
                                 at("compression_off"), str(topics.at[row, "producer_codec"]),
                                 "none"))
    topics.at[row, "producer_codec"] = "none"
    taken.add(topics.at[row, "topic"])

    # A large topic kept a day, now kept 30.
    pool = _candidates(topics, taken)
    fit = topics.loc[pool.index]
    row = fit.index[(fit["retention_ms"] == DAY_MS).to_numpy()][0]
    changes.append(PlantedChange("retention_raised", topics.at[row, "cluster"],
                                 topics.at[row, "topic"], PLANT_DAYS["retention_raised"],
                                 at("retention_raised"), str(DAY_MS), str(RAISED_RETENTION_MS)))
    topics.at[row, "retention_ms"] = RAISED_RETENTION_MS
    taken.add(topics.at[row, "topic"])

    # A heavy one-day topic in a cluster that does not fetch rack-aware: reads cross zones.
    pool = _candidates(topics, taken)
    fit = topics.loc[pool.index]
    fit = fit[~fit["cluster"].map(rack_aware).astype(bool).to_numpy()
              & (fit["retention_ms"] == DAY_MS).to_numpy()]
    # The heaviest of those read least (a new reader is then a large share of its cost),
    # made heavy for the whole history if it is not (a level, not a change).
    fewest = fit[fit["active_readers"] == fit["active_readers"].min()]
    row = fewest.index[0]
    topics.at[row, "base_bytes_in_per_second"] = max(
        float(topics.at[row, "base_bytes_in_per_second"]), HEAVY_BYTES_PER_SECOND)
    cluster, topic = str(topics.at[row, "cluster"]), str(topics.at[row, "topic"])
    readers = groups[groups["topic"] == topic]
    team = next(t for t in sorted(set(topics["owner"])) if t != topics.at[row, "owner"])
    group = _new_group_name(groups, team, fleet.spec.services)
    template = (readers.iloc[0] if len(readers) else groups.iloc[0]).copy()
    for column, value in (("cluster", cluster), ("topic", topic), ("group", group),
                          ("kind", "streaming"), ("state", "Stable")):
        template[column] = value
    template["members"] = max(int(topics.at[row, "partitions"]) // 2, 1)
    template["abandoned_days_ago"] = 0.0
    groups = pd.concat([groups, template.to_frame().T.astype(groups.dtypes.to_dict())],
                       ignore_index=True)
    topics.at[row, "active_readers"] = int(topics.at[row, "active_readers"]) + 1
    changes.append(PlantedChange("new_consumer_group", cluster, topic,
                                 PLANT_DAYS["new_consumer_group"], at("new_consumer_group"),
                                 "", group, group=group, owner=team))
    # What the changes leave behind is waste the recommendations should find: a producer not
    # compressing, a month kept for streaming readers.
    planted = {kind: set(pairs) for kind, pairs in fleet.planted.items()}
    for change, kind in ((changes[0], "uncompressed"), (changes[1], "over_retained")):
        planted.setdefault(kind, set()).add((change.cluster, change.topic))
    return replace(fleet, topics=topics, groups=groups, planted=planted,
                   changes=tuple(changes))


def _new_group_name(groups: pd.DataFrame, team: str, services: int | None) -> str:
    """A group name as the fleet names them: with a service count, a new group of one of the
    team's services (`<team>-svc-<k>-g<n>`); without, a new service's (`<team>-svc-<k>`)."""
    if services:
        parts = groups["group"].str.extract(rf"^{team}-svc-(\d+)-g(\d+)$").dropna().astype(int)
        if len(parts):
            service = int(parts[0].iloc[0])
            return f"{team}-svc-{service}-g{int(parts.loc[parts[0] == service, 1].max()) + 1}"
    numbers = groups["group"].str.extract(r"-svc-(\d+)$")[0].dropna().astype(int)
    return f"{team}-svc-{int(numbers.max()) + 1 if len(numbers) else 0}"


def shape_series(fleet: Fleet, block: SeriesBlock) -> SeriesBlock:
    """The block with each planted change's effect from its hour on (before it, the topic
    behaves as it did)."""
    changes = [c for c in fleet.changes if c.cluster == block.cluster]
    if not changes:
        return block
    names = block.topics["topic"].to_numpy()
    hours = block.hours
    bytes_in, bytes_out = block.bytes_in_per_second.copy(), block.bytes_out_per_second.copy()
    log_size = block.log_size_bytes.copy()
    for change in changes:
        i = int(np.flatnonzero(names == change.topic)[0])
        row = block.topics.iloc[i]
        after = np.asarray(hours >= pd.Timestamp(change.at))
        elapsed_ms = np.maximum(np.asarray((hours - pd.Timestamp(change.at))
                                           / pd.Timedelta(milliseconds=1)), 0.0)
        if change.kind == "compression_off":
            factor = float(row["raw_record_bytes"]) / float(row["stored_record_bytes"])
            bytes_in[i, after] *= factor
            bytes_out[i, after] *= factor
            turned_over = np.clip(elapsed_ms / float(row["retention_ms"]), 0.0, 1.0)
            log_size[i] = log_size[i] * (1 + (factor - 1) * turned_over)
        elif change.kind == "retention_raised":
            old_ms = float(change.before)
            before_log = log_size[i] * old_ms / float(row["retention_ms"])
            log_size[i] = before_log * (1 + np.clip(elapsed_ms / old_ms, 0.0,
                                                    float(change.after) / old_ms - 1))
        else:  # the new group reads the topic from its hour on
            bytes_out[i, ~after] -= bytes_in[i, ~after]
    return replace(block, bytes_in_per_second=bytes_in, bytes_out_per_second=bytes_out,
                   log_size_bytes=log_size.astype(np.float32))


def fleet_before(fleet: Fleet, change: PlantedChange) -> Fleet:
    """The fleet as it was just before `change` (the other changes of that moment left as they
    were then too): its topics' config and groups, ending at the change."""
    topics, groups = fleet.topics.copy(), fleet.groups
    for other in fleet.changes:
        if other.at < change.at:
            continue
        row = (topics["cluster"] == other.cluster) & (topics["topic"] == other.topic)
        if other.kind == "compression_off":
            topics.loc[row, "producer_codec"] = other.before
        elif other.kind == "retention_raised":
            topics.loc[row, "retention_ms"] = int(other.before)
        else:
            groups = groups[groups["group"] != other.group]
            topics.loc[row, "active_readers"] -= 1
    return replace(fleet, end=change.at, topics=topics, groups=groups)


def undo(change: PlantedChange) -> Change:
    """The what-if that undoes a planted change: the codec back, the retention back, the
    group gone."""
    from costopt.whatif.changes import Change, Selector

    topic = Selector(cluster=change.cluster, topic=change.topic)
    if change.kind == "compression_off":
        return Change(selector=topic, compression=change.before)
    if change.kind == "retention_raised":
        return Change(selector=topic, retention_ms=int(change.before))
    return Change(selector=Selector(cluster=change.cluster, group=change.group),
                  delete_group=True)
