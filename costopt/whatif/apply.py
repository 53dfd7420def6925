"""Apply what-if changes to a cluster's topic frame, column-wise (one pass over the fleet).

The model of each change:
- retention: retained bytes scale with retention time (steady traffic), capped by
  retention.bytes; data kept forever is cut to rate × new retention. Compacted topics keep their
  size: retention does not bound a compacted log.
- compression: every byte of the topic (in, out, stored) scales by new ratio / current ratio,
  from measured ratios where records were sampled, published defaults otherwise.
- tiered storage: local bytes become rate × local retention, the rest moves to object storage.
- partitions and replication factor: set as given. growth_pct: traffic and sizes grow by it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from costopt.compression import DEFAULT_RATIOS, CompressionEstimate
from costopt.whatif.changes import Change, Selector

DEFAULT_LOCAL_RETENTION_MS = 86_400_000


def select(frame: pd.DataFrame, cluster: str, selector: Selector) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    if selector.cluster is not None and selector.cluster != cluster:
        return np.zeros(len(frame), dtype=bool)
    if selector.topic is not None:
        mask &= (frame["topic"] == selector.topic).to_numpy()
    if selector.owner is not None:
        mask &= (frame["owner"] == selector.owner).to_numpy()
    if selector.pattern is not None:
        mask &= frame["topic"].str.contains(selector.pattern, regex=True).to_numpy()
    return mask


def current_ratio(frame: pd.DataFrame) -> np.ndarray:
    """Stored/raw ratio of each topic today: observed where sampled, else by its config."""
    observed = frame.get("observed_ratio")
    by_config = frame["compression_type"].map(
        lambda codec: DEFAULT_RATIOS.get(codec, DEFAULT_RATIOS["lz4"])).to_numpy(dtype=float)
    if observed is None:
        return by_config
    values = observed.to_numpy(dtype=float)
    return np.where(np.isnan(values), by_config, values)


def codec_ratio(frame: pd.DataFrame, codec: str,
                estimates: Mapping[str, CompressionEstimate]) -> np.ndarray:
    return np.array([estimates[name].ratios[codec] if name in estimates
                     else DEFAULT_RATIOS[codec] for name in frame["topic"]], dtype=float)


def apply_change(frame: pd.DataFrame, mask: np.ndarray, change: Change,
                 estimates: Mapping[str, CompressionEstimate]) -> pd.DataFrame:
    if not mask.any():
        return frame
    out = frame.copy()
    idx = np.flatnonzero(mask)
    sizes = ["log_size_bytes", "remote_log_size_bytes"]
    rates = ["bytes_in_per_second", "bytes_out_per_second", "messages_in_per_second"]
    rates = [r for r in rates if r in out.columns]

    if change.growth_pct is not None:
        factor = 1 + change.growth_pct / 100
        out.loc[idx, rates + sizes] = out.loc[idx, rates + sizes] * factor

    if change.retention_ms is not None:
        new_ms = change.retention_ms
        old_ms = out.loc[idx, "retention_ms"].to_numpy(dtype=float)
        compacted = out.loc[idx, "cleanup_policy"].str.contains("compact").to_numpy()
        total = out.loc[idx, sizes].sum(axis=1).to_numpy(dtype=float)
        rate = out.loc[idx, "bytes_in_per_second"].to_numpy(dtype=float)
        if new_ms < 0:
            new_total = np.where(old_ms < 0, total, np.inf)
        else:
            new_total = np.where(old_ms > 0, total * new_ms / np.maximum(old_ms, 1),
                                 np.minimum(total, rate * new_ms / 1000))
        cap = out.loc[idx, "retention_bytes"].to_numpy(dtype=float)
        partitions = out.loc[idx, "partitions"].to_numpy(dtype=float)
        new_total = np.where(cap > 0, np.minimum(new_total, cap * partitions), new_total)
        # Forever with no size cap grows without bound; take a year of traffic as the horizon.
        new_total = np.where(np.isinf(new_total), rate * 365 * 86_400, new_total)
        new_total = np.where(compacted, total, new_total)
        _split_local_remote(out, idx, new_total, np.where(compacted, old_ms, new_ms))
        out.loc[idx, "retention_ms"] = np.where(compacted, old_ms, new_ms).astype(np.int64)

    if change.compression is not None:
        before = current_ratio(out.iloc[idx])
        after = codec_ratio(out.iloc[idx], change.compression, estimates)
        factor = after / np.maximum(before, 1e-9)
        out.loc[idx, rates + sizes] = out.loc[idx, rates + sizes].mul(factor, axis=0)
        if "messages_in_per_second" in rates:  # messages do not shrink with bytes
            out.loc[idx, "messages_in_per_second"] = frame.loc[idx, "messages_in_per_second"]
        out.loc[idx, "compression_type"] = change.compression
        if "observed_ratio" in out.columns:
            out.loc[idx, "observed_ratio"] = after

    if change.tiered_storage is not None or change.local_retention_ms is not None:
        enabled = (change.tiered_storage if change.tiered_storage is not None
                   else out.loc[idx, "remote_storage_enable"].to_numpy())
        local_ms = change.local_retention_ms or DEFAULT_LOCAL_RETENTION_MS
        out.loc[idx, "remote_storage_enable"] = enabled
        # Tiered storage does not apply to compacted topics (KIP-405).
        compacted = out.loc[idx, "cleanup_policy"].str.contains("compact").to_numpy()
        out.loc[idx, "remote_storage_enable"] = out.loc[idx, "remote_storage_enable"] & ~compacted
        out.loc[idx, "local_retention_ms"] = np.where(
            out.loc[idx, "remote_storage_enable"], local_ms, -2)
        total = out.loc[idx, sizes].sum(axis=1).to_numpy(dtype=float)
        _split_local_remote(out, idx, total, out.loc[idx, "retention_ms"].to_numpy(dtype=float))

    if change.partitions is not None:
        out.loc[idx, "partitions"] = float(change.partitions)
    if change.replication_factor is not None:
        out.loc[idx, "replication_factor"] = float(change.replication_factor)
    return out


def _split_local_remote(out: pd.DataFrame, idx: np.ndarray, total: np.ndarray,
                        retention_ms: np.ndarray) -> None:
    tiered = out.loc[idx, "remote_storage_enable"].to_numpy(dtype=bool)
    local_ms = out.loc[idx, "local_retention_ms"].to_numpy(dtype=float)
    retention = np.asarray(retention_ms, dtype=float)
    local_share = np.where(retention > 0, np.minimum(1.0, local_ms / np.maximum(retention, 1)),
                           0.0)
    rate = out.loc[idx, "bytes_in_per_second"].to_numpy(dtype=float)
    local_forever = np.minimum(total, rate * local_ms / 1000)
    local = np.where(tiered & (local_ms >= 0),
                     np.where(retention > 0, total * local_share, local_forever), total)
    out.loc[idx, "log_size_bytes"] = local
    out.loc[idx, "remote_log_size_bytes"] = total - local
