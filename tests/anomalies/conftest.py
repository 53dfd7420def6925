"""A simulated fleet stored as collects would have stored it, with its anomalies found."""

from __future__ import annotations

from dataclasses import dataclass

from costopt.analyze.analysis import FleetAnalysis, cached_analysis
from costopt.anomalies.service import refresh
from costopt.config import Settings
from costopt.records.anomaly import Anomaly
from costopt.simulate.fleet import Fleet
from costopt.simulate.load import load_fleet
from costopt.store import Store
from tests.fleets import fleet


@dataclass
class Found:
    fleet: Fleet
    store: Store
    settings: Settings
    analysis: FleetAnalysis
    anomalies: list[Anomaly]


def found_on(preset: str, url: str) -> Found:
    simulated = fleet(preset)
    store = Store.open(url)
    load_fleet(store, simulated, sampled_topics_per_cluster=20, records_per_topic=60)
    settings = Settings(store_url=url)
    analysis = cached_analysis(store, settings)
    anomalies, _notices = refresh(store, settings, analysis)
    return Found(simulated, store, settings, analysis, anomalies)
