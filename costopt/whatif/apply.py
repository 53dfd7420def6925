"""Apply what-if changes to a cluster's topic columns (numpy arrays, one element per topic).

The same function changes one topic's row for a one-topic what-if and every row for a
fleet-wide one, so the fast path and the full projection cannot disagree.

The model of each change:
- retention: retained bytes scale with retention time (steady traffic), capped by
  retention.bytes; data kept forever is cut to rate × new retention. Compacted topics keep their
  size: retention does not bound a compacted log.
- compression: every byte of the topic (in, out, stored) scales by new ratio / current ratio,
  from measured ratios where records were sampled, published defaults otherwise.
- tiered storage: local bytes become rate × local retention, the rest moves to object storage.
- partitions and replication factor: set as given. growth_pct: traffic and sizes grow by it.
- delete_topic: the topic stops using anything. read_once: bytes out fall to one read of the
  bytes in. delete_group: the group's measured reads stop.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from costopt.compression import DEFAULT_RATIOS, CompressionEstimate
from costopt.cost.allocation import Columns
from costopt.patterns import compile_pattern
from costopt.whatif.changes import Change, Selector

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
    context = context or ChangeContext()
    out: Columns = {name: values.copy() for name, values in columns.items()}
    idx = np.flatnonzero(mask)
    rates = [r for r in RATES if r in out]

    if change.growth_pct is not None:
        factor = 1 + change.growth_pct / 100
        for name in (*rates, *SIZES):
            out[name][idx] = out[name][idx] * factor
    if change.retention_ms is not None:
        _retention(out, idx, change.retention_ms)
    if change.compression is not None:
        _compression(out, idx, change.compression, context)
    if change.tiered_storage is not None or change.local_retention_ms is not None:
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
    return out


def _client_rack(out: Columns, idx: np.ndarray, shares: Mapping[str, float]) -> None:
    """The group's consumers set `client.rack`: its share of each topic's reads is now read
    in-zone (on brokers with the rack-aware selector), on top of what already was."""
    if "rack_aware_read_share" not in out:
        out["rack_aware_read_share"] = np.full(len(out["topic"]), np.nan, dtype=np.float64)
    added = np.array([shares.get(str(n), 0.0) for n in out["topic"][idx]], dtype=np.float64)
    current = np.nan_to_num(out["rack_aware_read_share"][idx].astype(np.float64), nan=0.0)
    out["rack_aware_read_share"][idx] = np.minimum(current + added, 1.0)


def _retention(out: Columns, idx: np.ndarray, new_ms: int) -> None:
    old_ms = out["retention_ms"][idx].astype(np.float64)
    compacted = _compacted(out, idx)
    total = out["log_size_bytes"][idx] + out["remote_log_size_bytes"][idx]
    rate = out["bytes_in_per_second"][idx]
    if new_ms < 0:
        new_total = np.where(old_ms < 0, total, np.inf)
    else:
        new_total = np.where(old_ms > 0, total * new_ms / np.maximum(old_ms, 1),
                             np.minimum(total, rate * new_ms / 1000))
    cap = out["retention_bytes"][idx].astype(np.float64)
    new_total = np.where(cap > 0, np.minimum(new_total, cap * out["partitions"][idx]), new_total)
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
    local_share = np.where(retention > 0, np.minimum(1.0, local_ms / np.maximum(retention, 1)),
                           0.0)
    rate = out["bytes_in_per_second"][idx]
    local_forever = np.minimum(total, rate * local_ms / 1000)
    local = np.where(tiered & (local_ms >= 0),
                     np.where(retention > 0, total * local_share, local_forever), total)
    out["log_size_bytes"][idx] = local
    out["remote_log_size_bytes"][idx] = total - local
