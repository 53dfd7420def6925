"""Who reads a topic: every consumer group that will come back, not only those with members
at the moment of a snapshot.

A nightly or weekly batch job's group is `Empty` between runs, yet it commits on every run:
it is a reader, and retention must cover how far behind it falls. A group is **abandoned**
only when it has no members and its last commit is older than `abandoned_after_days` (where
no commit was ever seen moving, its time lag stands in: data it has not read for that long).
Retention, tiering, fan-out, idle topics and abandoned groups all use this one definition.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from costopt.cost.cluster_model import ClusterModel
from costopt.rules.history import History
from costopt.snapshot.cluster_snapshot import ConsumerGroup

ABANDONED_AFTER_DAYS = 14  # longer than a weekly batch job's cycle, with slack


@dataclass(frozen=True)
class GroupRead:
    """One group's reading of one topic, over the window."""

    group: str
    topic: str
    members: int  # now
    max_members: int  # the most seen over the window
    state: str
    lag_seconds: float | None  # now
    max_lag_seconds: float | None  # the largest over the window
    last_commit_at: datetime | None
    abandoned: bool
    why: str

    @property
    def live(self) -> bool:
        return self.members > 0


# What the window adds to a (group, topic): its largest time lag, its most members and its
# last commit in Unix seconds (None where the history has no such column, NaN: never seen).
_Recorded = tuple[Any, Any, Any]
_NOTHING_RECORDED: _Recorded = (None, None, None)


def _history_by_key(history: History) -> dict[tuple[str, str], _Recorded]:
    frame = history.groups
    if frame is None or frame.empty:
        return {}
    nothing = [None] * len(frame)
    values = [frame[c].tolist() if c in frame.columns else nothing
              for c in ("max_lag_seconds", "max_members")]
    if "last_commit_at" in frame.columns:  # as Unix seconds (NaN: never seen)
        commits = pd.to_datetime(frame["last_commit_at"], utc=True)
        seconds = ((commits - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1))
        values.append(seconds.tolist())
    else:
        values.append(nothing)
    return {(str(group), str(topic)): (max_lag, max_members, commit)
            for group, topic, max_lag, max_members, commit in zip(
                frame["group"].tolist(), frame["topic"].tolist(), *values, strict=True)}


def _largest(*values: Any) -> float | None:
    """The largest known value (None and NaN are unknown) as a float; None if none is known.
    A loop, not a list and `max`: it runs twice per (group, topic), 140,000 times a fleet."""
    largest: float | None = None
    for value in values:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        value = float(value)
        if largest is None or value > largest:
            largest = value
    return largest


def group_reads(model: ClusterModel, history: History,
                abandoned_after_days: float = ABANDONED_AFTER_DAYS) -> list[GroupRead]:
    """Every (group, topic) of the latest snapshot, with what the window adds."""
    now = model.snapshot.taken_at
    recorded = _history_by_key(history)
    by_group: dict[str, list[tuple[ConsumerGroup, _Recorded]]] = {}
    for group in model.snapshot.groups:
        by_group.setdefault(group.group, []).append(
            (group, recorded.get((group.group, group.topic), _NOTHING_RECORDED)))
    out = []
    for name, rows in by_group.items():
        members = max(g.members for g, _ in rows)
        commits = [c for c in (_commit(g, h[2]) for g, h in rows) if c is not None]
        last_commit = max(commits) if commits else None
        lag_days = max((g.lag_seconds or 0.0) for g, _ in rows) / 86_400
        if members > 0:
            abandoned, why = False, f"{members} live member(s)"
        elif last_commit is not None:
            age_days = (now - last_commit).total_seconds() / 86_400
            abandoned = age_days >= abandoned_after_days
            why = (f"no members, last commit {age_days:.1f} d ago"
                   + (f" (≥ {abandoned_after_days:g} d)" if abandoned else ""))
        else:
            abandoned = lag_days >= abandoned_after_days
            why = (f"no members, no commit seen; {lag_days:.1f} d behind"
                   + (f" (≥ {abandoned_after_days:g} d)" if abandoned else ""))
        for group, (max_lag, max_members, _) in rows:
            out.append(GroupRead(
                group=name, topic=group.topic, members=group.members,
                max_members=int(_largest(group.members, max_members) or 0),
                state=group.state, lag_seconds=group.lag_seconds,
                max_lag_seconds=_largest(group.lag_seconds, group.max_lag_seconds, max_lag),
                last_commit_at=last_commit, abandoned=abandoned, why=why))
    return out


def _commit(group: ConsumerGroup, seen: Any) -> datetime | None:
    """The later of the group's last commit in the snapshot and in the window (`seen`, Unix
    seconds)."""
    recorded = (datetime.fromtimestamp(seen, tz=UTC)
                if seen is not None and not math.isnan(seen) else None)
    if recorded is None or group.last_commit_at is None:
        return group.last_commit_at or recorded
    return max(group.last_commit_at, recorded)


def readers_by_topic(model: ClusterModel, history: History,
                     abandoned_after_days: float = ABANDONED_AFTER_DAYS
                     ) -> dict[str, list[GroupRead]]:
    """Per topic, the groups that read it and will come back (abandoned ones left out)."""
    out: dict[str, list[GroupRead]] = {}
    for read in group_reads(model, history, abandoned_after_days):
        if not read.abandoned:
            out.setdefault(read.topic, []).append(read)
    return out


def slowest_reader_lag_seconds(readers: list[GroupRead]) -> float | None:
    """The largest lag any reader reached over the window; None where a reader's lag is
    unknown (then nothing may be cut below it)."""
    lags = [r.max_lag_seconds for r in readers]
    if any(lag is None for lag in lags):
        return None
    return max((lag for lag in lags if lag is not None), default=0.0)
