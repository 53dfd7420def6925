"""Detect over the stored history and keep the store's anomalies in step: what the API,
`/metrics`, the report and the scheduler's notices read."""

from __future__ import annotations

import pandas as pd

from costopt.analyze.analysis import FleetAnalysis, owner_attribution
from costopt.anomalies.drivers import SnapshotPair
from costopt.anomalies.find import find_anomalies
from costopt.config import Settings
from costopt.records.anomaly import Anomaly
from costopt.store import Store
from costopt.store.anomalies import AnomalyStore, Notice


def refresh(store: Store, settings: Settings, analysis: FleetAnalysis
            ) -> tuple[list[Anomaly], list[Notice]]:
    """Anomalies found now, and the notices owed for what changed since the last refresh."""
    if not settings.anomalies.enabled:
        return [], []
    owners = owner_attribution(settings)
    found = find_anomalies(analysis, settings.anomalies, SnapshotPair(store),
                           owners.group_owner_of)
    days = [c.history.daily["ts"].max() for c in analysis.clusters.values()
            if not c.history.daily.empty]
    tested_to = pd.Timestamp(max(days)).date() if days else None
    return found, AnomalyStore(store).sync(found, tested_to=tested_to)
