"""Cluster Linking (Confluent Cloud) as a cost component of its own: `cluster_linking`.

Confluent bills a cluster link on its cluster's resource: an hourly fee per link
(`CLUSTER_LINKING_PER_LINK`) and the GB the link writes and reads (`CLUSTER_LINKING_WRITE`,
`CLUSTER_LINKING_READ`). costopt estimates nothing for it: the link rates are not in the
catalogs (none sourced), and the bytes a link mirrors in are not in the Metrics API's
`received_bytes` (Confluent's example queries say so). So the component's estimate is 0 and
its cost is what the bill says, allocated by billed allocation (`billing/reconcile.py`):

- to the topics the cluster mirrors, where they are known (the snapshot label
  `cluster_link.mirror_topics`, from `clusters[].mirror_topics` at collect, or the
  simulator's), on their producer side (the link writes them), by each topic's bytes in
  (evenly where none is measured);
- else to the cluster's `__unallocated__` row, with the reason in the reconciliation.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from costopt.snapshot.cluster_snapshot import ClusterSnapshot

COMPONENT = "cluster_linking"
MIRROR_TOPICS_LABEL = "cluster_link.mirror_topics"
NO_MIRRORS = ("no mirrored topic known (clusters[].mirror_topics): on the cluster's "
              "__unallocated__")


def mirror_topics_label(names: list[str]) -> str:
    return ",".join(sorted(set(names)))


def mirrored_topics(snapshot: ClusterSnapshot) -> dict[str, float]:
    """The topics the cluster's links write, each with its weight: its bytes in per second
    (1.0 each where the snapshot measures none of them)."""
    named = [n for n in snapshot.labels.get(MIRROR_TOPICS_LABEL, "").split(",") if n]
    rates = {t.name: t.bytes_in_per_second for t in snapshot.topics if t.name in named}
    if rates and sum(rates.values()) <= 0:
        return dict.fromkeys(rates, 1.0)
    return rates


def row_weights(rows: pd.DataFrame, mirrored: Mapping[str, float],
                producer_side: str) -> np.ndarray:
    """Each chargeback row's weight for the link bill: a mirrored topic's weight shared
    evenly by its producer-side rows (one per writing principal, or the owner's); zero
    elsewhere."""
    producing = (rows["side"] == producer_side).to_numpy() & rows["topic"].isin(
        list(mirrored)).to_numpy()
    counts = rows.loc[producing, "topic"].value_counts()
    weights = np.zeros(len(rows), dtype=np.float64)
    for position in np.flatnonzero(producing):
        topic = str(rows["topic"].iat[position])
        weights[position] = mirrored[topic] / counts[topic]
    return weights


def allocated_note(mirrored: Mapping[str, float], weights: np.ndarray) -> str:
    if weights.sum() > 0:
        return (f"on the {len(mirrored)} mirrored topic(s)' producer side, by bytes in "
                "(evenly where none is measured)")
    return NO_MIRRORS
