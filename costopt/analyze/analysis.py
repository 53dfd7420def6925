"""Analyze what the store holds: cost per topic, recommendations and forecasts per cluster.

This is the pipeline's middle: sources fill the store; this reads it and produces everything
the API, reports and CLI show. It never writes snapshots.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import zstandard

from costopt import __version__
from costopt.analyze.cluster_plans import cluster_plan, fleet_plan
from costopt.analyze.decisions import Decisions
from costopt.analyze.plan import SavingsPlan
from costopt.base.compression_ratios import CompressionEstimate
from costopt.base.parallel import fork_map
from costopt.config import Settings
from costopt.cost.allocation import ClusterCost, allocate
from costopt.cost.chargeback import chargeback_rows
from costopt.cost.cluster_model import ClusterModel
from costopt.cost.owners import OwnerAttribution
from costopt.cost.reads import GroupReads, reads_from_offsets
from costopt.cost.strimzi import directory_digest, strimzi_owners
from costopt.forecast import ClusterForecast, cluster_forecast, topic_growth_per_day
from costopt.prices.catalog import PriceCatalog, resolve_catalog, split_ref
from costopt.rules import History, Recommendation, check_rule_settings, run_rules
from costopt.rules.base import Skip
from costopt.rules.recommendation import SEVERITY_ORDER
from costopt.store import Store, StoredSnapshot
from costopt.store.offsets import group_offsets

DEFAULT_CATALOG = "aws-self-managed"
log = logging.getLogger(__name__)


@dataclass
class ClusterAnalysis:
    model: ClusterModel
    history: History
    recommendations: list[Recommendation]
    forecast: ClusterForecast
    snapshot_id: int | None = None
    skipped: list[Skip] = field(default_factory=list)  # what rules left alone, and why
    # The cost as producer, consumer and shared rows: the reader pays its share
    # (`costopt.cost.chargeback`).
    chargeback: pd.DataFrame | None = None
    # The cluster's savings plan with every recommendation open, planned with the analysis the
    # store caches (`costopt.analyze.cluster_plans`): a fleet plan takes it rather than planning
    # again.
    plan: SavingsPlan | None = None


PLANS_KEPT = 4


@dataclass
class FleetAnalysis:
    clusters: dict[str, ClusterAnalysis]
    currency: str
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    rule_settings: Mapping[str, Any] = field(default_factory=dict)
    settings_key: str = ""  # the settings it was computed under (`settings_key`)
    _plans: dict[Any, SavingsPlan] = field(default_factory=dict, repr=False)
    _plans_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def models(self) -> dict[str, ClusterModel]:
        return {name: analysis.model for name, analysis in self.clusters.items()}

    @property
    def costs(self) -> list[ClusterCost]:
        return [analysis.model.cost for analysis in self.clusters.values()]

    @property
    def recommendations(self) -> list[Recommendation]:
        """Savings by saving, largest first, then risk findings by severity."""
        found = [r for analysis in self.clusters.values() for r in analysis.recommendations]
        return sorted(found, key=lambda r: (
            r.category != "saving", SEVERITY_ORDER.get(r.severity or "", 9),
            -r.monthly_savings.amount, r.cluster, r.target))

    @property
    def histories(self) -> dict[str, History]:
        return {name: analysis.history for name, analysis in self.clusters.items()}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for the analysis cache without its per-process plan memo and lock."""
        state = dict(self.__dict__)
        state.pop("_plans", None)
        state.pop("_plans_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._plans = {}
        self._plans_lock = threading.Lock()

    def plan(self, decisions: Decisions | None = None) -> SavingsPlan:
        """The savings plan of the open recommendations (kept per set of decisions)."""
        decisions = decisions or Decisions()
        key = decisions.fingerprint()
        with self._plans_lock:
            if key in self._plans:
                return self._plans[key]
        plan = fleet_plan(self.models, self.histories, self.recommendations, decisions,
                          self.rule_settings, self.currency,
                          {name: analysis.plan for name, analysis in self.clusters.items()})
        with self._plans_lock:
            if len(self._plans) >= PLANS_KEPT:
                self._plans.pop(next(iter(self._plans)))
            self._plans[key] = plan
        return plan

    def monthly_cost_micros(self) -> int:
        return sum(sum(cost.bill_micros.values()) for cost in self.costs)

    def chargeback_frames(self) -> list[pd.DataFrame]:
        """Every cluster's producer, consumer and shared rows."""
        return [chargeback_of(analysis) for analysis in self.clusters.values()]


def chargeback_of(analysis: ClusterAnalysis) -> pd.DataFrame:
    """A cluster's chargeback rows (computed without measured reads for an analysis pickled
    before they existed)."""
    found = getattr(analysis, "chargeback", None)
    if found is None:
        snapshot = analysis.model.snapshot
        found = chargeback_rows(analysis.model.cost, snapshot.groups,
                                principals=snapshot.principals)
    return found


def owner_attribution(settings: Settings) -> OwnerAttribution:
    """Topic owners by precedence: the mapping file, then Strimzi KafkaTopic resources, then
    the regex rules, then the default; group owners by `owners.group_rules`."""
    owners = settings.owners
    rules = tuple(owners.rules)
    mapping: dict[str, str] = {}
    if owners.strimzi_topics_dir:
        mapping.update(strimzi_owners(owners.strimzi_topics_dir, owners.strimzi_owner_keys))
    if owners.mapping_file:
        mapping.update(OwnerAttribution.from_mapping_file(owners.mapping_file,
                                                          rules=rules).mapping)
    return OwnerAttribution(mapping=mapping, rules=rules, default_owner=owners.default_owner,
                            group_rules=tuple(owners.group_rules),
                            principals=dict(owners.principals))


def catalog_for(stored: StoredSnapshot, settings: Settings,
                resolve: Callable[[str], PriceCatalog] = resolve_catalog) -> PriceCatalog:
    """The prices a stored snapshot is costed at: the catalog (and region) it was collected
    with; a region configured for the cluster since applies to snapshots stored without one."""
    configured = [c for c in settings.clusters if c.name == stored.snapshot.cluster]
    name = stored.catalog
    if name is None:
        name = configured[0].catalog_ref if configured else DEFAULT_CATALOG
    elif split_ref(name)[1] is None and configured and configured[0].region \
            and configured[0].catalog == name:
        name = configured[0].catalog_ref
    return resolve(name)


def cluster_model(stored: StoredSnapshot, catalog: PriceCatalog, history: History,
                  estimates: Mapping[str, CompressionEstimate], settings: Settings,
                  owners: OwnerAttribution) -> ClusterModel:
    """`estimates`: the compression measured on each sampled topic's records (the store keeps
    them with the records, `Store.estimates_of`)."""
    cost = allocate(stored.snapshot, catalog, owners, settings.allocation)
    daily = history.daily
    growth = topic_growth_per_day(daily) if not daily.empty else pd.Series(dtype=float)
    return ClusterModel(stored.snapshot, catalog, cost, dict(estimates),
                        growth.to_dict())


def analyze_cluster(stored: StoredSnapshot, catalog: PriceCatalog, history: History,
                    estimates: Mapping[str, CompressionEstimate], settings: Settings,
                    owners: OwnerAttribution, reads: GroupReads | None = None
                    ) -> ClusterAnalysis:
    """`reads`: bytes per second each (group, topic) read, measured from offsets over stored
    snapshots (`measured_reads`); without it, groups whose source reports their bytes are
    measured, the others get even shares."""
    snapshot = stored.snapshot
    model = cluster_model(stored, catalog, history, estimates, settings, owners)
    chargeback = chargeback_rows(model.cost, snapshot.groups, reads, owners,
                                 snapshot.principals)
    daily = history.daily
    results = run_rules(model, history, settings.rules)
    replication = pd.Series({t.name: float(t.replication_factor) for t in snapshot.topics})
    brokers = snapshot.brokers
    forecast = cluster_forecast(
        snapshot.cluster, daily, replication,
        disk_capacity_bytes=float(sum(b.disk_capacity_bytes for b in brokers)),
        partition_replicas=float(sum(t.partitions * t.replication_factor
                                     for t in snapshot.topics)),
        partition_limit=4000.0 * max(len(brokers), 1), today=snapshot.taken_at)
    return ClusterAnalysis(model, history, results.recommendations, forecast, stored.id,
                           results.skipped, chargeback)


def measured_reads(store: Store, cluster: str, until: datetime, window_hours: float
                   ) -> GroupReads:
    """Each group's read rate over the `window_hours` of snapshots up to `until`, from its
    committed-offset progress (`costopt.cost.reads`). A window of fewer than two snapshots
    (the first collects) holds no progress to measure, so its offsets are not read."""
    since = until - timedelta(hours=window_hours)
    if store.snapshot_count(cluster, since=since, until=until) < 2:
        return {}
    return reads_from_offsets(group_offsets(store, cluster, since, until))


def load_history(store: Store, cluster: str, window_days: int = 30) -> History:
    """The cluster's stored series and consumer-group record, and the span observed: from the
    first stored point, or the first snapshot's window, to the last."""
    series = store.series_history(cluster)
    span = store.snapshot_span(cluster)
    since = span[1] - timedelta(days=window_days) if span else None
    groups = store.group_history(cluster, since)
    snapshot_seconds = (span[1] - span[0]).total_seconds() if span else 0.0
    observed = max(series.span_seconds, snapshot_seconds) / 86_400
    if series.peaks.empty:
        return replace(History.empty(), groups=groups, observed_days=observed)
    return History(series.daily, series.peaks, observed, series.totals, groups)


def _analyze_stored(store: Store, name: str, settings: Settings, owners: OwnerAttribution,
                    resolve: Callable[[str], PriceCatalog], planned: bool = False
                    ) -> ClusterAnalysis:
    """One cluster's analysis from what the store holds of it (`planned`: with its plan)."""
    stored = store.latest_snapshot(name)
    catalog = catalog_for(stored, settings, resolve)
    estimates = store.estimates_of(name)
    reads = measured_reads(store, name, stored.snapshot.taken_at,
                           settings.allocation.reads_window_hours)
    analysis = analyze_cluster(stored, catalog, load_history(store, name), estimates, settings,
                               owners, reads)
    if planned:
        analysis.plan = cluster_plan(analysis.model, analysis.history,
                                     analysis.recommendations, settings.rules,
                                     analysis.model.cost.currency)
    return analysis


def _shareable(store: Store) -> bool:
    """Whether other processes can open the store (not an in-memory SQLite database)."""
    url = store.engine.url
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))


def analyze_clusters(store: Store, names: list[str], settings: Settings,
                     owners: OwnerAttribution, resolve: Callable[[str], PriceCatalog],
                     planned: bool = False) -> dict[str, ClusterAnalysis]:
    """Analyze clusters in parallel processes, one per core (`costopt.base.parallel`); each opens
    the store with connections of its own. `planned`: each with its plan, as the store's
    analysis cache keeps them."""
    url = store.url

    def forked(name: str) -> ClusterAnalysis:
        own = Store(url)
        try:
            return _analyze_stored(own, name, settings, owners, resolve, planned)
        finally:
            own.engine.dispose()

    if len(names) < 2 or not _shareable(store):
        return {name: _analyze_stored(store, name, settings, owners, resolve, planned)
                for name in names}
    # A cluster's work grows with its topics: the largest first (`fork_map`).
    latest = [store.latest_snapshot_id(name) for name in names]
    weights = [float(store.topic_count(found)) if found is not None else 0.0
               for found in latest]
    return dict(zip(names, fork_map(forked, names, weights=weights), strict=True))


def analyze_store(store: Store, settings: Settings,
                  clusters: Iterable[str] | None = None,
                  resolve: Callable[[str], PriceCatalog] = resolve_catalog,
                  previous: FleetAnalysis | None = None) -> FleetAnalysis:
    """Analyze every cluster of the store. A cluster whose latest snapshot is the one
    `previous` analyzed, under the same settings, is taken from it: a collect of one cluster
    re-analyzes that cluster only."""
    check_rule_settings(settings.rules)
    key = settings_key(settings)
    reusable = previous.clusters if previous is not None and previous.settings_key == key \
        else {}
    names = list(clusters or store.clusters())
    kept = {name: reusable[name] for name in names if name in reusable
            and reusable[name].snapshot_id == store.latest_snapshot_id(name)}
    computed = analyze_clusters(store, [n for n in names if n not in kept], settings,
                                owner_attribution(settings), resolve)
    return _fleet({name: kept.get(name) or computed[name] for name in names}, settings, key)


def _fleet(results: dict[str, ClusterAnalysis], settings: Settings, key: str
           ) -> FleetAnalysis:
    currencies = {analysis.model.cost.currency for analysis in results.values()}
    if len(currencies) > 1:
        raise ValueError(f"clusters are priced in several currencies {sorted(currencies)}; "
                         "use catalogs of one currency")
    return FleetAnalysis(results, currencies.pop() if currencies else settings.currency,
                         rule_settings=settings.rules, settings_key=key)


def settings_key(settings: Settings) -> str:
    """The settings that shape an analysis, and this costopt's version (a new release may
    compute differently), as one digest."""
    shaping = settings.model_dump(mode="json", include={
        "clusters", "owners", "allocation", "rules", "currency"})
    text = json.dumps([shaping, _owner_sources(settings), __version__], sort_keys=True,
                      default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _owner_sources(settings: Settings) -> list[str]:
    """Digests of what the owner files hold: editing them changes every owner."""
    out = []
    if settings.owners.mapping_file:
        try:
            with open(settings.owners.mapping_file, "rb") as handle:
                out.append(hashlib.sha256(handle.read()).hexdigest())
        except OSError:
            out.append("unreadable")
    if settings.owners.strimzi_topics_dir:
        out.append(directory_digest(settings.owners.strimzi_topics_dir))
    return out


def cluster_keys(store: Store, settings: Settings) -> dict[str, str]:
    """What each cluster's analysis depends on: its stored state and the settings."""
    shaping = settings_key(settings)
    return {cluster: hashlib.sha256(json.dumps([cluster, state, shaping], default=str)
                                    .encode()).hexdigest()
            for cluster, state in sorted(store.cluster_state_keys().items())}


def _unpickled(payload: bytes, name: str) -> ClusterAnalysis | None:
    try:
        loaded = pickle.loads(zstandard.ZstdDecompressor().decompress(payload))
    except Exception as exc:  # a cache from another build: compute afresh
        log.warning("cached analysis of %s unreadable (%s): recomputing", name, exc)
        return None
    return loaded if isinstance(loaded, ClusterAnalysis) else None


def _cache(store: Store, keys: Mapping[str, str],
           computed: Mapping[str, ClusterAnalysis]) -> None:
    for name, analysis in computed.items():
        raw = pickle.dumps(analysis, protocol=pickle.HIGHEST_PROTOCOL)
        store.cache_cluster_analysis(name, keys[name],
                                     zstandard.ZstdCompressor(level=1).compress(raw))


def refresh_analysis(store: Store, settings: Settings) -> dict[str, ClusterAnalysis]:
    """Analyze the clusters whose stored state (or the settings) changed since their cached
    analysis, and cache them with their plans (`costopt.analyze.cluster_plans`); the others are
    neither loaded nor computed. What the analyze run does after a collect: one cluster's
    collect costs one cluster's analysis and plan."""
    check_rule_settings(settings.rules)
    keys = cluster_keys(store, settings)
    cached = store.cached_clusters(keys)
    computed = analyze_clusters(store, [name for name in keys if name not in cached],
                                settings, owner_attribution(settings), resolve_catalog,
                                planned=True)
    _cache(store, keys, computed)
    return computed


def cached_analysis(store: Store, settings: Settings) -> FleetAnalysis:
    """The store's current analysis: each cluster's loaded from the store's analysis cache
    when another process (the scheduler, another API worker or replica) already computed it
    for the cluster's current state, computed and kept there otherwise. So an analyze after
    one cluster's collect computes that cluster only. Each cluster comes with its plan, so
    the fleet's plan is planned only where decisions touch it. The cache holds pickled costopt
    objects: the store must be as trusted as costopt's own code (it already decides every
    figure costopt shows)."""
    check_rule_settings(settings.rules)
    keys = cluster_keys(store, settings)
    found: dict[str, ClusterAnalysis] = {}
    for name, payload in store.cluster_analyses(keys).items():
        loaded = _unpickled(payload, name)
        if loaded is not None:
            found[name] = loaded
    computed = analyze_clusters(store, [name for name in keys if name not in found], settings,
                                owner_attribution(settings), resolve_catalog, planned=True)
    _cache(store, keys, computed)
    found.update(computed)
    return _fleet({name: found[name] for name in keys}, settings, settings_key(settings))


def target_cost_micros(analysis: FleetAnalysis, rec: Recommendation) -> int | None:
    """The target's monthly cost now (micros): what a decision keeps as "cost before"."""
    cluster = analysis.clusters.get(rec.cluster)
    if cluster is None:
        return None
    if rec.target_type == "cluster":
        return sum(cluster.model.cost.bill_micros.values())
    row = cluster.model.index.get(rec.target)
    return int(cluster.model.cost.rows["monthly_cost_micros"].iat[row]) if row is not None \
        else None
