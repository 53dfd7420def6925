"""Chargeback rows: each topic's cost split between the team that owns it and the teams that
read it, or, where the source measures bytes per authenticated principal (Confluent Cloud's
service accounts), among the services that write and read it.

A topic's cost has two sides. The **producer** side (storage, replication, bytes in, partition
fees, the compute its writes and partitions load) stays with the topic's owner, or is split
among the principals that wrote to the topic by the bytes each wrote. The
**consumer** side (`network_consumer`: egress and cross-zone reads; and the fetch load on
compute, the bytes-out half of the throughput term) goes to the consumer groups that read the
topic, in proportion to the bytes each read (`reads.py`), and from each group to its owner
(`owners.group_rules`). `__idle__` and `__unallocated__` are `shared`: nobody's reads or
writes.

Where principals' fetched bytes are known for a topic, they split its consumer side instead
(every client of a Confluent cluster authenticates, so they account for all of its reads).

Where a group's read cannot be measured it gets an even share (1/n of the topic's consumer
side, n the groups reading it); the measured groups split the rest by their measured bytes.
Every row carries `split` (own, principal, group, even, unread), `principal` (the service
account of a `principal` row) and `measured_share` (1 where the row's split rests on a
measurement or needs none, 0 where it is an even share or nobody is known to read).
A topic that someone reads but no known group does (`unread`) keeps its consumer side with
its owner.

**Principals measured per cluster only.** Confluent's `request_bytes`/`response_bytes` by
`principal_id` carry no topic: they say how much each principal wrote and fetched, not where.
What those bytes drive is then charged per principal for the cluster as a whole, on one row
per principal and side whose topic is `ALL_TOPICS` (`*`): on the producer side the bytes-in
components of every topic (`network_producer` and the write part of compute's throughput
term), on the consumer side every topic's consumer components, each pool split among the
principals by their bytes. Every byte of a Confluent cluster is priced alike, so a
principal's share is exact for the cluster even though no topic is named. What bytes do not
drive (storage, partitions, the partition part of compute) stays with each topic's owner.

Every split is of integer micro-units (`apportion.py`), so per cluster and component the rows
still add up to the bill exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from costopt.cost import formulas
from costopt.cost.allocation import COMPONENTS, IDLE, UNALLOCATED, ClusterCost, to_micros
from costopt.cost.apportion import apportion, apportion_groups
from costopt.cost.owners import OwnerAttribution
from costopt.cost.reads import GroupReads
from costopt.snapshot.cluster_snapshot import ConsumerGroup, PrincipalTraffic

Side = Literal["producer", "consumer", "both"]
PRODUCER, CONSUMER, SHARED = "producer", "consumer", "shared"
CONSUMER_COMPONENTS = ("network_consumer", "compute")
# Bill lines that no component names (support, connectors, credits, taxes) land in `other`;
# estimates have none.
AMOUNT_COLUMNS = [f"{c}_micros" for c in COMPONENTS] + ["other_micros"]
KEY_COLUMNS = ["cluster", "topic", "topic_owner", "owner", "side", "group", "principal",
               "split", "measured_share"]
# How a row's amount was split from its topic's side (docs/chargeback.md).
SPLITS = ("own", "principal", "group", "even", "unread")
# The topic of a principal's row when its bytes were measured for the whole cluster.
ALL_TOPICS = "*"
COLUMNS = [*KEY_COLUMNS, *AMOUNT_COLUMNS, "monthly_cost_micros"]


def consumer_micros(cost: ClusterCost) -> dict[str, np.ndarray]:
    """Per topic (aligned with `cost.frame`), the micro-units of each consumer-side
    component: all of network_consumer, and the fetch part of compute."""
    topics = cost.topic_rows()
    basis = cost.basis
    out = {c: np.zeros(len(topics), dtype=np.int64) for c in COMPONENTS}
    out["network_consumer"] = topics["network_consumer_micros"].to_numpy(dtype=np.int64)
    bytes_out = cost.frame["bytes_out_per_second"].to_numpy(dtype=np.float64)
    fetch = to_micros(basis.compute_allocatable * formulas.fetch_compute_share(
        bytes_out, basis.throughput_total, basis.weight_throughput))
    compute = topics["compute_micros"].to_numpy(dtype=np.int64)
    out["compute"] = np.clip(fetch, 0, np.maximum(compute, 0))
    return out


def _readers(groups: Sequence[ConsumerGroup], index: Mapping[str, int], reads: GroupReads
             ) -> pd.DataFrame:
    """One row per (group, topic) of a known topic: its topic's row and its measured read
    rate (NaN where not measured). Offsets progress first; a source that reports a group's
    bytes (the simulator, some exporters) counts as a measurement too."""
    seen: dict[tuple[str, str], float] = {}
    for group in groups:
        key = (group.group, group.topic)
        if group.topic not in index or key in seen:
            continue
        rate = reads.get(key)
        if rate is None and group.bytes_out_per_second is not None:
            rate = float(group.bytes_out_per_second)
        seen[key] = np.nan if rate is None else max(rate, 0.0)
    return pd.DataFrame({"group": [g for g, _ in seen], "topic": [t for _, t in seen],
                         "row": np.array([index[t] for _, t in seen], dtype=np.int64),
                         "rate": np.array(list(seen.values()), dtype=np.float64)})


def reader_shares(readers: pd.DataFrame, topics: int) -> tuple[np.ndarray, np.ndarray]:
    """Each reader's share of its topic's consumer side, and whether it was measured: an
    unmeasured group gets 1/n; the measured ones split the rest by bytes read (evenly, and
    unmeasured, if they read nothing measurable at all)."""
    rows = readers["row"].to_numpy()
    rate = readers["rate"].to_numpy()
    measured = ~np.isnan(rate)
    n = np.bincount(rows, minlength=topics).astype(np.float64)
    m = np.bincount(rows, weights=measured.astype(np.float64), minlength=topics)
    total = np.bincount(rows, weights=np.where(measured, rate, 0.0), minlength=topics)
    usable = measured & (total[rows] > 0)
    share = np.where(usable, (m[rows] / n[rows]) * np.where(measured, rate, 0.0)
                     / np.where(total[rows] > 0, total[rows], 1.0), 1.0 / n[rows])
    return share, usable


def principal_bytes(principals: Sequence[PrincipalTraffic], index: Mapping[str, int]
                    ) -> pd.DataFrame:
    """One row per (principal, topic row) measured per topic: the bytes it wrote and fetched
    there."""
    rows = [(p.principal_id, p.display_name, index[p.topic], p.bytes_in_per_second,
             p.bytes_out_per_second, True)
            for p in principals if p.topic is not None and p.topic in index]
    return pd.DataFrame(rows, columns=["principal", "display_name", "row", "bytes_in",
                                       "bytes_out", "exact"])


def _cluster_wide_rows(cost: ClusterCost, principals: Sequence[PrincipalTraffic], side: str,
                       rate: str, pools: Mapping[str, int], owners: OwnerAttribution
                       ) -> pd.DataFrame:
    """One row per principal splitting the cluster's `pools` (micros per component) by the
    bytes it moved for the whole cluster."""
    mine = [p for p in principals if p.topic is None and getattr(p, rate) > 0]
    if not mine or not any(pools.values()):
        return pd.DataFrame()
    totals: dict[str, float] = {}
    names: dict[str, str | None] = {}
    for p in mine:
        totals[p.principal_id] = totals.get(p.principal_id, 0.0) + getattr(p, rate)
        names[p.principal_id] = names.get(p.principal_id) or p.display_name
    ids = sorted(totals)
    weights = np.array([totals[i] for i in ids], dtype=np.float64)
    return pd.DataFrame({
        "cluster": cost.cluster, "topic": ALL_TOPICS, "topic_owner": ALL_TOPICS,
        "owner": [owners.principal_owner_of(i, names[i]) for i in ids], "side": side,
        "group": "", "principal": ids, "split": "principal", "measured_share": 1.0,
        **{f"{c}_micros": apportion(int(pools.get(c, 0)), weights) for c in COMPONENTS}})


def _principal_rows(cost: ClusterCost, placed: pd.DataFrame, side: str, rate: str,
                    amounts: Mapping[str, np.ndarray], components: Sequence[str],
                    owners: OwnerAttribution, names: np.ndarray,
                    topic_owner: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows splitting each topic's `side` among the principals that moved bytes there (by
    those bytes), and the topic rows they cover."""
    mine = placed[placed[rate] > 0].fillna({"display_name": ""})
    mine = mine.groupby(["principal", "row"], as_index=False, sort=True).agg(
        display_name=("display_name", "first"), bytes=(rate, "sum"), exact=("exact", "all"))
    rows = mine["row"].to_numpy(dtype=np.int64)
    covered = np.unique(rows)
    weights = mine["bytes"].to_numpy(dtype=np.float64)
    owner_of = {(p, d): owners.principal_owner_of(p, d or None)
                for p, d in zip(mine["principal"], mine["display_name"], strict=True)}
    frame = pd.DataFrame({
        "cluster": cost.cluster, "topic": names[rows], "topic_owner": topic_owner[rows],
        "owner": [owner_of[(p, d)] for p, d in zip(mine["principal"], mine["display_name"],
                                                      strict=True)],
        "side": side, "group": "", "principal": mine["principal"].to_numpy(dtype=object),
        "split": "principal", "measured_share": mine["exact"].to_numpy(dtype=np.float64),
        **{f"{c}_micros": (apportion_groups(amounts[c], rows, weights) if c in components
                           else np.zeros(len(rows), np.int64)) for c in COMPONENTS}})
    return frame, covered


def chargeback_rows(cost: ClusterCost, groups: Sequence[ConsumerGroup] = (),
                    reads: GroupReads | None = None,
                    owners: OwnerAttribution | None = None,
                    principals: Sequence[PrincipalTraffic] = ()) -> pd.DataFrame:
    """The cluster's cost as producer, consumer and shared rows (columns `COLUMNS`): per
    component, they add up to `cost.rows` exactly."""
    owners = owners or OwnerAttribution()
    topics = cost.topic_rows()
    n = len(topics)
    names = topics["topic"].to_numpy()
    topic_owner = topics["owner"].to_numpy()
    consumer = consumer_micros(cost)
    micros = {c: topics[f"{c}_micros"].to_numpy(dtype=np.int64) for c in COMPONENTS}
    index = {str(t): i for i, t in enumerate(names)}
    placed = principal_bytes(principals, index)
    basis = cost.basis

    producer_micros = {c: micros[c] - consumer[c] for c in COMPONENTS}
    written, by_principal = _principal_rows(cost, placed, PRODUCER, "bytes_in",
                                            producer_micros, COMPONENTS, owners, names,
                                            topic_owner)
    own = np.setdiff1d(np.arange(n), by_principal)
    # Bytes measured per cluster only: what writes drive goes to the writers (module doc).
    pooled_in = {c: np.zeros(n, dtype=np.int64) for c in COMPONENTS}
    if any(p.topic is None and p.bytes_in_per_second > 0 for p in principals):
        pooled_in["network_producer"][own] = producer_micros["network_producer"][own]
        writes = to_micros(basis.compute_allocatable * formulas.fetch_compute_share(
            cost.frame["bytes_in_per_second"].to_numpy(dtype=np.float64),
            basis.throughput_total, basis.weight_throughput))
        pooled_in["compute"][own] = np.clip(writes, 0, np.maximum(
            producer_micros["compute"], 0))[own]
    written_all = _cluster_wide_rows(cost, principals, PRODUCER, "bytes_in_per_second",
                                     {c: int(v.sum()) for c, v in pooled_in.items()}, owners)
    if written_all.empty:
        pooled_in = {c: np.zeros(n, dtype=np.int64) for c in COMPONENTS}
    producer = pd.DataFrame({"cluster": cost.cluster, "topic": names[own],
                             "topic_owner": topic_owner[own], "owner": topic_owner[own],
                             "side": PRODUCER, "group": "", "principal": "", "split": "own",
                             "measured_share": 1.0,
                             **{f"{c}_micros": (producer_micros[c] - pooled_in[c])[own]
                                for c in COMPONENTS}})

    consumer_total = np.sum([consumer[c] for c in CONSUMER_COMPONENTS], axis=0)
    fetched, read_by_principal = _principal_rows(cost, placed, CONSUMER, "bytes_out", consumer,
                                                 CONSUMER_COMPONENTS, owners, names,
                                                 topic_owner)
    fetched = fetched[consumer_total[fetched["topic"].map(index).to_numpy(dtype=np.int64)]
                      != 0] if len(fetched) else fetched
    rest = np.setdiff1d(np.arange(n), read_by_principal)
    fetched_all = _cluster_wide_rows(
        cost, principals, CONSUMER, "bytes_out_per_second",
        {c: int(consumer[c][rest].sum()) for c in CONSUMER_COMPONENTS}, owners)
    if not fetched_all.empty:  # the principals fetched every byte read: no group splits
        read_by_principal = np.arange(n)
    readers = _readers(groups, index, reads or {})
    keep = ((consumer_total[readers["row"].to_numpy()] != 0)
            & ~np.isin(readers["row"].to_numpy(), read_by_principal))
    readers = readers[keep].reset_index(drop=True)
    share, usable = reader_shares(readers, n)
    rows = readers["row"].to_numpy()
    group_owners = {g: owners.group_owner_of(g) for g in readers["group"].unique()}
    read = pd.DataFrame({
        "cluster": cost.cluster, "topic": names[rows], "topic_owner": topic_owner[rows],
        "owner": readers["group"].map(group_owners).to_numpy(dtype=object),
        "side": CONSUMER, "group": readers["group"].to_numpy(dtype=object), "principal": "",
        "split": np.where(usable, "group", "even"),
        "measured_share": usable.astype(np.float64),
        **{f"{c}_micros": (apportion_groups(consumer[c], rows, share)
                           if c in CONSUMER_COMPONENTS else np.zeros(len(rows), np.int64))
           for c in COMPONENTS}})

    counted = np.bincount(rows, minlength=n) + np.bincount(read_by_principal, minlength=n)
    unread = np.flatnonzero((consumer_total != 0) & (counted == 0))
    nobody = pd.DataFrame({
        "cluster": cost.cluster, "topic": names[unread], "topic_owner": topic_owner[unread],
        "owner": topic_owner[unread], "side": CONSUMER, "group": "", "principal": "",
        "split": "unread", "measured_share": 0.0,
        **{f"{c}_micros": consumer[c][unread] for c in COMPONENTS}})

    shared = cost.rows[cost.rows["topic"].isin([IDLE, UNALLOCATED])]
    special = pd.DataFrame({
        "cluster": cost.cluster, "topic": shared["topic"].to_numpy(),
        "topic_owner": shared["owner"].to_numpy(), "owner": shared["owner"].to_numpy(),
        "side": SHARED, "group": "", "principal": "", "split": "own", "measured_share": 1.0,
        **{f"{c}_micros": shared[f"{c}_micros"].to_numpy(dtype=np.int64) for c in COMPONENTS}})

    frame = pd.concat([f for f in (producer, written, written_all, read, fetched, fetched_all,
                                   nobody, special) if len(f)], ignore_index=True)
    return finish(frame)


def finish(frame: pd.DataFrame) -> pd.DataFrame:
    """Integer amounts, `other` where missing, and the row totals."""
    if "other_micros" not in frame:
        frame["other_micros"] = 0
    if "principal" not in frame:  # rows of an analysis cached before principals
        frame["principal"] = ""
    frame[AMOUNT_COLUMNS] = frame[AMOUNT_COLUMNS].astype(np.int64)
    frame["monthly_cost_micros"] = frame[AMOUNT_COLUMNS].sum(axis=1).astype(np.int64)
    frame["measured_share"] = frame["measured_share"].astype(np.float64)
    return frame[[*COLUMNS, *[c for c in frame.columns if c not in COLUMNS]]]


def empty_rows() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=object if name in KEY_COLUMNS[:-1] else
                                         np.float64 if name == "measured_share" else np.int64)
                         for name in COLUMNS})


GROUP_KEYS: dict[str, list[str]] = {
    "cluster": ["cluster"],
    "owner": ["owner"],  # across clusters: what a team costs
    "topic": ["cluster", "topic", "topic_owner"],
}


def select_side(rows: pd.DataFrame, side: Side) -> pd.DataFrame:
    """`producer` or `consumer` rows; `both` is every row, shared ones included, so it adds up
    to the bill."""
    if side == "both":
        return rows
    if side not in (PRODUCER, CONSUMER):
        raise ValueError(f"side must be producer, consumer or both, got {side!r}")
    return rows[rows["side"] == side]


def side_rollup(frames: Sequence[pd.DataFrame], group_by: str, side: Side) -> pd.DataFrame:
    """Sums per cluster, owner or topic of one side, most expensive first, with each group's
    `measured_share`: the share of its cost (by magnitude) whose split rests on a
    measurement. Grouped by topic, the owner is the topic's owner."""
    if group_by not in GROUP_KEYS:
        raise ValueError(f"group_by must be one of {sorted(GROUP_KEYS)}, got {group_by!r}")
    rows = pd.concat(list(frames), ignore_index=True) if frames else empty_rows()
    rows = select_side(rows, side)
    keys = GROUP_KEYS[group_by]
    weight = rows["monthly_cost_micros"].abs().astype(np.float64)
    rows = rows.assign(_weight=weight, _measured=weight * rows["measured_share"])
    sums = rows.groupby(keys, as_index=False, sort=False)[
        [*AMOUNT_COLUMNS, "monthly_cost_micros", "_weight", "_measured"]].sum()
    sums["measured_share"] = np.where(sums["_weight"] > 0, sums["_measured"]
                                      / sums["_weight"].where(sums["_weight"] > 0, 1.0), 1.0)
    sums = sums.drop(columns=["_weight", "_measured"]).rename(columns={"topic_owner": "owner"})
    # Ties by the group's keys, so the order is stable for paging.
    order = ["owner" if key == "topic_owner" else key for key in keys]
    return sums.sort_values(["monthly_cost_micros", *order],
                            ascending=[False, *([True] * len(order))], ignore_index=True)
