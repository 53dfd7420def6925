"""Apply what-if changes: every kind, to a cluster's topic columns (numpy arrays, one element
per topic) and to its brokers and cost basis. The one place a change is applied, for the
engine, the rules and the plan alike (`whatif/price_rows.py` prices what this returns).

The same function changes one topic's row for a one-topic what-if and every row for a
fleet-wide one, so the fast path and the full projection cannot disagree.

The model of each change:
- retention: a cut keeps what `formulas.log_bytes_after_retention_cut` says: the steady-state
  retained bytes (rate × retention, capped by retention.bytes per partition, so a cut where the
  size limit binds frees nothing) where the log has run for its retention at least once, else
  the bytes newer than the new limit (a log younger than it frees nothing now). A longer limit
  grows the log in proportion, up to the size limit. Compacted topics keep their size:
  retention does not bound a compacted log.
- compression: every byte of the topic (in, out, stored) scales by new ratio / current ratio,
  from measured ratios where records were sampled, published defaults otherwise.
- tiered storage: the local bytes are what a cut to the local retention would keep (the same
  formula), the rest moves to object storage.
- lane (docs/cost-model.md, "Lanes"): `tiered` is tiering as above; `classic` turns tiering
  and diskless off (every byte back on broker disks); `diskless` puts the whole log, one copy,
  on object storage (no local bytes, no tiering); the cluster lane `express` fixes RF at 3 and
  keeps every byte on the brokers' pay-as-you-go storage (Express has no tiering).
- partitions and replication factor: set as given. growth_pct: traffic and sizes grow by it.
- delete_topic: the topic stops using anything. read_once: bytes out fall to one read of the
  bytes in. delete_group: the group's measured reads stop. client_rack: the group's share of
  each topic's reads is read in-zone.
- cluster kinds (`apply_cluster_change`): a capacity change (broker_count, broker_type,
  broker_disk_bytes, cku_count, catalog) resizes the brokers and the basis (`resized`); the
  cluster lanes `express` and `freight` are the capacity change their offering implies
  (`whatif/lanes.py`); rack_aware_fetch sets the consumers' cross-zone share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from costopt.base.compression_ratios import DEFAULT_RATIOS, CompressionEstimate
from costopt.base.errors import InvalidInput
from costopt.base.patterns import compile_pattern
from costopt.cost import formulas
from costopt.cost.allocation import ClusterBasis, Columns, resized
from costopt.cost.cluster_model import ClusterModel
from costopt.prices.catalog import CatalogError, PriceCatalog, catalog_ref, split_ref
from costopt.snapshot.cluster_snapshot import Broker
from costopt.whatif.changes import Change, Selector
from costopt.whatif.lanes import check_lane, cluster_lane_change

CatalogResolver = Callable[[str], PriceCatalog]

DEFAULT_LOCAL_RETENTION_MS = 86_400_000
SIZES = ("log_size_bytes", "remote_log_size_bytes")
RATES = ("bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second",
         "remote_read_bytes_per_second")


@dataclass(frozen=True)
class ChangeContext:
    """What changes read besides the rows: measured codec ratios and who reads what."""

    estimates: Mapping[str, CompressionEstimate] = field(default_factory=dict)
    group_reads: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    # group -> topic -> share of the topic's bytes out the group reads (`cost/zones.py`)
    read_shares: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def select(columns: Mapping[str, np.ndarray], cluster: str, selector: Selector,
           group_reads: Mapping[str, Mapping[str, float]] | None = None) -> np.ndarray:
    """Rows the selector matches in this cluster's columns."""
    names = columns["topic"]
    if selector.cluster is not None and selector.cluster != cluster:
        return np.zeros(len(names), dtype=bool)
    mask = np.ones(len(names), dtype=bool)
    if selector.topic is not None:
        mask &= names == selector.topic
    if selector.owner is not None:
        mask &= columns["owner"] == selector.owner
    if selector.group is not None:
        read = (group_reads or {}).get(selector.group, {})
        mask &= np.fromiter((str(n) in read for n in names), dtype=bool, count=len(names))
    if selector.pattern is not None:
        compiled = compile_pattern(selector.pattern)
        mask &= np.fromiter((compiled.search(str(n)) is not None for n in names), dtype=bool,
                            count=len(names))
    return mask


def current_ratio(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Stored/raw ratio of each topic today: observed where sampled, else by its config."""
    by_config = np.array([DEFAULT_RATIOS.get(str(codec), DEFAULT_RATIOS["lz4"])
                          for codec in columns["compression_type"]], dtype=np.float64)
    observed = columns.get("observed_ratio")
    if observed is None:
        return by_config
    values = np.asarray(observed, dtype=np.float64)
    return np.where(np.isnan(values), by_config, values)


def codec_ratio(names: np.ndarray, codec: str,
                estimates: Mapping[str, CompressionEstimate]) -> np.ndarray:
    return np.array([estimates[str(n)].ratios[codec] if str(n) in estimates
                     else DEFAULT_RATIOS[codec] for n in names], dtype=np.float64)


def _compacted(columns: Mapping[str, np.ndarray], idx: np.ndarray) -> np.ndarray:
    if "compacted" in columns:
        return np.asarray(columns["compacted"][idx], dtype=bool)
    return np.array(["compact" in str(p) for p in columns["cleanup_policy"][idx]], dtype=bool)


def apply_change(columns: Mapping[str, np.ndarray], mask: np.ndarray, change: Change,
                 context: ChangeContext | None = None) -> Columns:
    """New columns with `change` applied to the rows in `mask` (the input is not changed)."""
    if not mask.any() or not change.touches_topics:
        return dict(columns)
    out: Columns = {name: values.copy() for name, values in columns.items()}
    apply_change_in_place(out, np.flatnonzero(mask), change, context)
    return out


def apply_change_in_place(out: Columns, idx: np.ndarray, change: Change,
                          context: ChangeContext | None = None) -> None:
    """`change` applied to the rows `idx` of `out`, in place: how a list of changes is applied
    on one copy of the columns (a plan's thousands of changes would copy them thousands of
    times otherwise)."""
    if not len(idx) or not change.touches_topics:
        return
    context = context or ChangeContext()
    rates = [r for r in RATES if r in out]

    if change.growth_pct is not None:
        factor = 1 + change.growth_pct / 100
        for name in (*rates, *SIZES):
            out[name][idx] = out[name][idx] * factor
    if change.retention_ms is not None:
        _retention(out, idx, change.retention_ms)
    if change.compression is not None:
        _compression(out, idx, change.compression, context)
    if change.lane is not None:
        _lane(out, idx, change)
    elif change.tiered_storage is not None or change.local_retention_ms is not None:
        _tiering(out, idx, change)
    if change.partitions is not None:
        out["partitions"][idx] = float(change.partitions)
    if change.replication_factor is not None:
        out["replication_factor"][idx] = float(change.replication_factor)
    if change.read_once:
        out["bytes_out_per_second"][idx] = np.minimum(out["bytes_out_per_second"][idx],
                                                      out["bytes_in_per_second"][idx])
    if change.delete_group and change.selector.group is not None:
        read = context.group_reads.get(change.selector.group, {})
        gone = np.array([read.get(str(n), 0.0) for n in out["topic"][idx]], dtype=np.float64)
        out["bytes_out_per_second"][idx] = np.maximum(out["bytes_out_per_second"][idx] - gone,
                                                      0.0)
    if change.client_rack and change.selector.group is not None:
        _client_rack(out, idx, context.read_shares.get(change.selector.group, {}))
    if change.delete_topic:
        for name in ("partitions", *rates, *SIZES):
            out[name][idx] = 0.0


def _client_rack(out: Columns, idx: np.ndarray, shares: Mapping[str, float]) -> None:
    """The group's consumers set `client.rack`: its share of each topic's reads is now read
    in-zone (on brokers with the rack-aware selector), on top of what already was."""
    if "rack_aware_read_share" not in out:
        out["rack_aware_read_share"] = np.full(len(out["topic"]), np.nan, dtype=np.float64)
    added = np.array([shares.get(str(n), 0.0) for n in out["topic"][idx]], dtype=np.float64)
    current = np.nan_to_num(out["rack_aware_read_share"][idx].astype(np.float64), nan=0.0)
    out["rack_aware_read_share"][idx] = np.minimum(current + added, 1.0)


def diskless_of(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """Which rows are on the diskless lane (none where the columns predate the lane)."""
    if "diskless" not in columns:
        return np.zeros(len(columns["topic"]), dtype=bool)
    return np.asarray(columns["diskless"], dtype=bool)


def _lane(out: Columns, idx: np.ndarray, change: Change) -> None:
    if "diskless" not in out:
        out["diskless"] = np.zeros(len(out["topic"]), dtype=bool)
    out["diskless"][idx] = change.lane == "diskless"
    if change.lane == "tiered":
        _tiering(out, idx, change.model_copy(update={"tiered_storage": True}))
        return
    # classic, diskless and express: nothing tiered; the log is local until diskless moves it.
    _tiering(out, idx, change.model_copy(update={"tiered_storage": False}))
    if change.lane == "express":
        out["replication_factor"][idx] = 3.0


def _retention(out: Columns, idx: np.ndarray, new_ms: int) -> None:
    old_ms = out["retention_ms"][idx].astype(np.float64)
    compacted = _compacted(out, idx)
    total = out["log_size_bytes"][idx] + out["remote_log_size_bytes"][idx]
    rate = out["bytes_in_per_second"][idx]
    cap = out["retention_bytes"][idx].astype(np.float64)
    partitions = out["partitions"][idx].astype(np.float64)
    size_limit = np.where(cap > 0, cap * partitions, np.inf)
    if new_ms < 0:
        new_total = np.minimum(np.where(old_ms < 0, total, np.inf), size_limit)
    else:
        # A cut keeps what `log_bytes_after_retention_cut` says (the steady state where the
        # log has run for its retention, what is newer than the new limit otherwise; bytes
        # past the size limit that Kafka has not deleted yet stay, cut or not); a longer limit
        # grows the log in proportion, up to the size limit.
        kept = formulas.log_bytes_after_retention_cut(
            total, rate, old_ms, np.full(len(idx), float(new_ms)), cap, partitions)[0]
        new_total = np.where((old_ms > 0) & (new_ms > old_ms),
                             np.minimum(total * new_ms / np.maximum(old_ms, 1), size_limit),
                             kept)
    # Forever with no size cap grows without bound; take a year of traffic as the horizon.
    new_total = np.where(np.isinf(new_total), rate * 365 * 86_400, new_total)
    new_total = np.where(compacted, total, new_total)
    kept_ms = np.where(compacted, old_ms, float(new_ms))
    _split_local_remote(out, idx, new_total, kept_ms)
    out["retention_ms"][idx] = kept_ms.astype(out["retention_ms"].dtype)


def _compression(out: Columns, idx: np.ndarray, codec: str, context: ChangeContext) -> None:
    before = current_ratio({name: values[idx] for name, values in out.items()})
    after = codec_ratio(out["topic"][idx], codec, context.estimates)
    factor = after / np.maximum(before, 1e-9)
    for name in ("bytes_in_per_second", "bytes_out_per_second", *SIZES):
        out[name][idx] = out[name][idx] * factor  # messages do not shrink with bytes
    out["compression_type"][idx] = codec
    if "observed_ratio" in out:
        out["observed_ratio"][idx] = after


def _tiering(out: Columns, idx: np.ndarray, change: Change) -> None:
    enabled = (np.full(len(idx), change.tiered_storage, dtype=bool)
               if change.tiered_storage is not None
               else out["remote_storage_enable"][idx].astype(bool))
    local_ms = change.local_retention_ms or DEFAULT_LOCAL_RETENTION_MS
    # Tiered storage does not apply to compacted topics (KIP-405).
    enabled &= ~_compacted(out, idx)
    out["remote_storage_enable"][idx] = enabled
    out["local_retention_ms"][idx] = np.where(enabled, local_ms, -2)
    if "remote_read_bytes_per_second" in out:  # nothing is read from a tier that is gone
        out["remote_read_bytes_per_second"][idx] = np.where(
            enabled, out["remote_read_bytes_per_second"][idx], 0.0)
    total = out["log_size_bytes"][idx] + out["remote_log_size_bytes"][idx]
    _split_local_remote(out, idx, total, out["retention_ms"][idx].astype(np.float64))


def _split_local_remote(out: Columns, idx: np.ndarray, total: np.ndarray,
                        retention_ms: np.ndarray) -> None:
    tiered = out["remote_storage_enable"][idx].astype(bool)
    local_ms = out["local_retention_ms"][idx].astype(np.float64)
    retention = np.asarray(retention_ms, dtype=np.float64)
    # The local part is what a cut of the whole log to the local limit would keep.
    local_limit = np.where(retention > 0, np.minimum(local_ms, retention), local_ms)
    kept_local = formulas.log_bytes_after_retention_cut(
        total, out["bytes_in_per_second"][idx], retention, np.maximum(local_limit, 0.0),
        out["retention_bytes"][idx].astype(np.float64),
        out["partitions"][idx].astype(np.float64))[0]
    local = np.where(tiered & (local_ms >= 0), kept_local, total)
    local = np.where(diskless_of(out)[idx], 0.0, local)  # diskless: all on object storage
    out["log_size_bytes"][idx] = local
    out["remote_log_size_bytes"][idx] = total - local


def rows_of(model: ClusterModel, change: Change) -> np.ndarray:
    """Rows a topic change selects: a dictionary lookup for one named topic (the common case,
    and what keeps a one-topic what-if at a millisecond), a scan otherwise."""
    selector = change.selector
    if selector.topic is not None and selector.pattern is None and selector.group is None:
        row = model.index.get(selector.topic)
        if row is None or (selector.owner is not None
                           and model.columns["owner"][row] != selector.owner):
            return np.array([], dtype=np.int64)
        return np.array([row], dtype=np.int64)
    if selector.group is not None and selector.pattern is None:
        return _group_rows(model, selector)
    mask = select(model.columns, model.cluster, selector, model.group_reads)
    return np.flatnonzero(mask)


def _group_rows(model: ClusterModel, selector: Selector) -> np.ndarray:
    """The rows of the topics a group reads, looked up by name: a rule prices hundreds of
    group changes per cluster, and a scan of every topic for each was a tenth of an analysis.
    The same rows, in the same order, as `select`."""
    if selector.cluster is not None and selector.cluster != model.cluster:
        return np.array([], dtype=np.int64)
    assert selector.group is not None
    read = model.group_reads.get(selector.group, {})
    rows = np.array(sorted(model.index[t] for t in read if t in model.index), dtype=np.int64)
    if selector.topic is not None:
        rows = rows[model.columns["topic"][rows] == selector.topic]
    if selector.owner is not None:
        rows = rows[model.columns["owner"][rows] == selector.owner]
    return rows


def _resize(brokers: tuple[Broker, ...], basis: ClusterBasis,
            change: Change, resolve_catalog: CatalogResolver | None
            ) -> tuple[tuple[Broker, ...], ClusterBasis]:
    catalog = basis.catalog
    if change.catalog is not None:
        if resolve_catalog is None:
            raise InvalidInput("a catalog change needs a catalog resolver")
        catalog = resolve_catalog(change.catalog)
        region = basis.catalog.region
        if split_ref(change.catalog)[1] is None and catalog.region != region \
                and region in catalog.known_regions:
            # Another offering, same place: priced in the cluster's region.
            catalog = resolve_catalog(catalog_ref(change.catalog, region))
    template = brokers[0]
    if change.cku_count is not None and template.instance_type not in catalog.provisioned_units:
        raise InvalidInput(f"cku_count: the cluster is billed in {template.instance_type!r}, not "
                           "in provisioned CKUs (only a Confluent Cloud Dedicated cluster is)")
    count = change.cku_count or change.broker_count or len(brokers)
    # Racks round-robin over the cluster's zones, so a smaller cluster keeps every zone its
    # topics' replicas are placed over (brokers listed zone by zone would otherwise lose one).
    racks = list(dict.fromkeys(b.rack for b in brokers))
    new = tuple(Broker(broker_id=i + 1, rack=racks[i % len(racks)],
                       instance_type=change.broker_type or brokers[i % len(brokers)].instance_type,
                       disk_capacity_bytes=change.broker_disk_bytes
                       or brokers[i % len(brokers)].disk_capacity_bytes,
                       provisioned_throughput_mibps=template.provisioned_throughput_mibps)
                for i in range(count))
    try:
        return new, resized(basis, new, catalog, brokers)
    except CatalogError as exc:
        raise InvalidInput(str(exc)) from None


def apply_changes(model: ClusterModel, columns: Columns, brokers: tuple[Broker, ...],
                  basis: ClusterBasis, changes: Sequence[Change],
                  resolve_catalog: CatalogResolver | None
                  ) -> tuple[Columns, tuple[Broker, ...], ClusterBasis]:
    """`changes` in order over `columns` (any rows of the model's topics) and the cluster's
    brokers and basis: the one place a change is applied, for the record path, the full
    projection and the plan alike."""
    after = columns
    if any(c.touches_topics for c in changes):  # one copy, changed in place change by change
        after = {name: values.copy() for name, values in columns.items()}
    context = ChangeContext(model.estimates, model.group_reads, model.read_shares)
    positions: dict[str, int] | None = None
    for change in changes:
        check_lane(model.cluster, basis.catalog, change)
        if change.touches_topics:
            selector = change.selector
            if selector.topic is not None and selector.pattern is None \
                    and selector.group is None:  # a named topic: a lookup, not a scan
                if positions is None:
                    positions = {str(name): i for i, name in enumerate(after["topic"])}
                row = positions.get(selector.topic)
                hit = (row is not None and selector.cluster in (None, model.cluster)
                       and (selector.owner is None or after["owner"][row] == selector.owner))
                idx = np.array([row] if hit else [], dtype=np.int64)
            else:
                idx = np.flatnonzero(select(after, model.cluster, selector, model.group_reads))
            apply_change_in_place(after, idx, change, context)
        if change.touches_cluster:
            brokers, basis = apply_cluster_change(brokers, basis, change, resolve_catalog)
    return after, brokers, basis


def apply_cluster_change(brokers: tuple[Broker, ...], basis: ClusterBasis, change: Change,
                         resolve_catalog: CatalogResolver | None
                          ) -> tuple[tuple[Broker, ...], ClusterBasis]:
    if change.lane in ("express", "freight"):
        change = cluster_lane_change(basis.cluster, basis.catalog, brokers, change)
    if change.rack_aware_fetch is not None:
        basis = replace(basis, consumer_cross_zone_share=0.0 if change.rack_aware_fetch
                        else basis.client_cross_zone_share)
    if change.touches_capacity:
        brokers, basis = _resize(brokers, basis, change, resolve_catalog)
    return brokers, basis


def rows_touched(model: ClusterModel, changes: Sequence[Change]) -> np.ndarray:
    """Rows of the model's columns that `changes` touch: every row when one of them changes
    the cluster (its price changes every topic's), else the union of what they select."""
    if any(c.touches_cluster for c in changes):
        return np.arange(len(model.columns["topic"]))
    return np.unique(np.concatenate([rows_of(model, c) for c in changes]))


def apply_to_each_row(model: ClusterModel, columns: Columns,
                      changes: Sequence[Change]) -> Columns:
    """`changes` (topic kinds) applied to every row of `columns`, whatever their selectors
    name: rows that each stand for a candidate making the same change to its own topic, so
    thousands of candidates cost one vectorised pass (`price_rows(each_row=True)`)."""
    after = {name: values.copy() for name, values in columns.items()}
    every = np.arange(len(after["topic"]))
    context = ChangeContext(model.estimates, model.group_reads, model.read_shares)
    for change in changes:
        apply_change_in_place(after, every, change, context)
    return after

