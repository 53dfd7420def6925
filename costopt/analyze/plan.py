"""The savings plan: the open recommendations that can be applied together, in order, each
priced on the fleet as changed by those before it.

Standalone savings do not add up: two changes to one topic compose (compression after a
retention cut saves less), two alternatives for one target exclude each other (retention or
tiering), and the capacity a topic change frees becomes money only when a capacity change
resizes the cluster. So "savings available" is not a sum of recommendations but this plan's
total, which equals one what-if of all its changes together, to the micro-unit (tested).

How it is built, per cluster (clusters do not affect each other):
1. Candidates: open savings with what-if changes, except broker sizing. Each is valued at its
   saving plus what the capacity it frees is worth if resized, per unit of risk
   (low 1, medium 2, high 4), largest first.
2. Greedy: take each candidate unless an alternative for its target (same `conflict_key`) or
   a deletion of its topic was taken; price it marginally on the cluster as changed so far;
   keep it if it saves money, or frees capacity worth more than it costs.
3. Capacity last: size the cluster for its topics as changed (`rules/sizing.py`) and resize
   where that saves money, unless someone dismissed, snoozed or accepted that cluster's
   broker sizing.
4. Steps that cost money for capacity are kept only if the cluster's plan is worth more with
   them than without them.

A plan replays (`replay_plan`, `POST /v1/whatif` with `{"plan": {...}}`): the plan rebuilt
without some of its steps (`exclude`) or from only some (`include`), by the same rules, so a
user can ask what the plan is worth without the three steps they will not take. Leaving out a
broker-sizing step leaves its cluster unresized.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from costopt.analyze.decisions import Decisions
from costopt.base.errors import InvalidInput
from costopt.base.money import MICROS_PER_UNIT, Money
from costopt.base.parallel import fork_map
from costopt.cost.allocation import COMPONENTS, ClusterBasis, Columns
from costopt.cost.cluster_model import ClusterModel
from costopt.rules.candidate_pricing import Pricing
from costopt.rules.capacity import BrokerSizingRule, sizing_change
from costopt.rules.history import History
from costopt.rules.recommendation import Recommendation
from costopt.rules.sizing import size_cluster
from costopt.snapshot.cluster_snapshot import Broker
from costopt.whatif.apply import rows_touched
from costopt.whatif.changes import Change
from costopt.whatif.price_rows import one_topic, price_each, price_rows

RISK_WEIGHT = {"low": 1.0, "medium": 2.0, "high": 4.0}


PAIR_BASIS = ("the capacity step's saving shared among the cluster's steps by what the "
              "capacity each frees is worth (disk at the disk price, brokers at the broker "
              "price); POST /v1/whatif with {\"plan\": {\"exclude\": [this step]}} gives "
              "the plan without it")


ALTERNATIVE_WHY = ("the plan takes one step per target (alternative_group): it takes the "
                   "alternative first by monthly saving plus the worth of the capacity it "
                   "frees, per unit of risk (low 1, medium 2, high 4), that still saves on "
                   "the fleet as changed by earlier steps; this one came after it")


@dataclass(frozen=True)
class CapacityPair:
    """A step that pays off only through its cluster's later capacity step: that step, the
    share of its saving this step's freed capacity accounts for, and what the two save."""

    step: int
    id: str
    capacity_share_micros: int
    pair_savings_micros: int


@dataclass(frozen=True)
class PlanStep:
    number: int
    recommendation: Recommendation
    marginal_savings_micros: int  # on the fleet as changed by the steps before
    cumulative_savings_micros: int
    disk_bytes_freed: float
    brokers_freed: float
    pays_off_with: CapacityPair | None = None
    # Alternatives for the same target (same `alternative_group`) the plan left out for it.
    alternatives_left_out: tuple[Recommendation, ...] = ()

    def to_dict(self, currency: str) -> dict[str, Any]:
        rec = self.recommendation
        return {
            "step": self.number, "id": rec.id, "kind": rec.kind, "cluster": rec.cluster,
            "target": rec.target, "title": rec.title, "risk": rec.risk,
            "marginal_savings": str(Money.from_micros(self.marginal_savings_micros,
                                                      currency).rounded()),
            "cumulative_savings": str(Money.from_micros(self.cumulative_savings_micros,
                                                        currency).rounded()),
            "standalone_savings": str(rec.monthly_savings.rounded()),
            "currency": currency, "period": "month",
            "capacity_freed": {"disk_bytes": round(self.disk_bytes_freed),
                               "brokers": round(self.brokers_freed, 3)},
            "capacity_basis": next((str(e.value) for e in rec.evidence
                                    if e.name == "capacity_freed_basis"), None),
            "change": rec.change,
            "whatif": [c.model_dump(exclude_none=True) for c in rec.whatif],
            "pays_off_with": None if self.pays_off_with is None else {
                "step": self.pays_off_with.step, "id": self.pays_off_with.id,
                "capacity_share": str(Money.from_micros(
                    self.pays_off_with.capacity_share_micros, currency).rounded()),
                "pair_savings": str(Money.from_micros(
                    self.pays_off_with.pair_savings_micros, currency).rounded()),
                "currency": currency, "period": "month", "basis": PAIR_BASIS},
            "alternative_group": rec.alternative_group,
            "alternatives_left_out": [{
                "id": other.id, "kind": other.kind, "title": other.title, "risk": other.risk,
                "standalone_savings": str(other.monthly_savings.rounded()),
                "why": ALTERNATIVE_WHY} for other in self.alternatives_left_out],
        }


@dataclass(frozen=True)
class SavingsPlan:
    currency: str
    bill_micros: int
    steps: tuple[PlanStep, ...]
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    skipped_by_cluster: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total_savings_micros(self) -> int:
        return sum(step.marginal_savings_micros for step in self.steps)

    @property
    def total_savings(self) -> Money:
        return Money.from_micros(self.total_savings_micros, self.currency)

    @property
    def share_of_bill(self) -> float:
        return self.total_savings_micros / self.bill_micros if self.bill_micros else 0.0

    def changes(self) -> list[Change]:
        return [change for step in self.steps for change in step.recommendation.whatif]

    def savings_by(self, attribute: str) -> dict[tuple[str, ...], int]:
        """Plan savings (micros) by ("cluster", kind) or any recommendation attribute."""
        out: dict[tuple[str, ...], int] = {}
        for step in self.steps:
            key = (step.recommendation.cluster, str(getattr(step.recommendation, attribute)))
            out[key] = out.get(key, 0) + step.marginal_savings_micros
        return out


@dataclass(frozen=True)
class _Step:
    order: tuple[float, str]
    recommendation: Recommendation
    saving: int
    disk: float
    brokers: float
    left_out: tuple[Recommendation, ...] = ()


@dataclass
class _ClusterState:
    """One cluster as the plan has changed it so far."""

    model: ClusterModel
    columns: Columns
    basis: ClusterBasis
    brokers: tuple[Broker, ...]
    topic_sums_micros: dict[str, int]
    deleted: set[int] = field(default_factory=set)
    taken: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, model: ClusterModel) -> _ClusterState:
        return cls(model, {k: v.copy() for k, v in model.columns.items()}, model.cost.basis,
                   model.snapshot.brokers, dict(model.cost.topic_sums_micros))

    def _where(self) -> dict[str, Any]:
        """The cluster as it stands, as `price_rows` takes it."""
        return {"columns": self.columns, "brokers": self.brokers, "basis": self.basis,
                "topic_sums_micros": self.topic_sums_micros}

    def price(self, changes: Sequence[Change]) -> _Priced | None:
        """What `changes` would do on the cluster as it is now (nothing is applied); None
        where they touch a topic an earlier step deleted."""
        index = rows_touched(self.model, changes)
        if not any(c.touches_cluster for c in changes) \
                and self.deleted.intersection(index.tolist()):
            return None
        priced = price_rows(self.model, index, changes, **self._where())
        return _Priced(priced.bill_delta_micros, float(priced.disk_bytes_freed.sum()),
                       float(priced.brokers_freed.sum()), index, priced.after, priced.basis,
                       priced.brokers, {c: priced.topic_sums_micros[c]
                                        - self.topic_sums_micros[c] for c in COMPONENTS},
                       any(bool(c.delete_topic) for c in changes))

    def price_each(self, candidates: Sequence[Recommendation]) -> list[_Priced]:
        """What each of `candidates` (one change to one topic each, on topics no other
        candidate touches) would do on the cluster as it is now, priced together
        (`price_each`)."""
        out = []
        moved: dict[int, list[list[int]]] = {}  # per group, each row's micros moved
        each = price_each(self.model, [rec.target for rec in candidates],
                          [rec.whatif for rec in candidates], **self._where())
        for rec, (rows, row) in zip(candidates, each, strict=True):
            if id(rows) not in moved:
                moved[id(rows)] = np.stack([rows.micros_after[c] - rows.micros_before[c]
                                            for c in COMPONENTS], axis=1).tolist()
            out.append(_Priced(
                int(rows.row_delta_micros[row]), float(rows.disk_bytes_freed[row]),
                float(rows.brokers_freed[row]), rows.index[row:row + 1],
                {name: values[row:row + 1] for name, values in rows.after.items()},
                self.basis, self.brokers, dict(zip(COMPONENTS, moved[id(rows)][row],
                                                   strict=True)),
                any(bool(c.delete_topic) for c in rec.whatif)))
        return out

    def commit(self, priced: _Priced) -> None:
        for name, values in priced.after.items():
            self.columns[name][priced.index] = values
        self.basis, self.brokers = priced.basis, priced.brokers
        for component, moved in priced.topic_sums_moved_micros.items():
            self.topic_sums_micros[component] += moved
        if priced.deletes:
            self.deleted.update(priced.index.tolist())


@dataclass(frozen=True)
class _Priced:
    """A step priced by `price_rows` on the cluster as it stands, and what committing it
    writes back."""

    delta_micros: int
    disk_bytes_freed: float
    brokers_freed: float
    index: np.ndarray
    after: Columns
    basis: ClusterBasis
    brokers: tuple[Broker, ...]
    topic_sums_moved_micros: dict[str, int]
    deletes: bool


def _one_topic(rec: Recommendation) -> bool:
    return rec.target_type == "topic" and one_topic(rec.target, rec.whatif)


def _cluster_wide(rec: Recommendation) -> bool:
    return any(c.touches_cluster for c in rec.whatif)


def _capacity_value_micros(model: ClusterModel, rec: Recommendation) -> float:
    """What the capacity a recommendation frees is worth once the cluster is resized: only to
    order candidates, never shown as a saving."""
    freed = rec.capacity_freed or {}
    return _freed_value_micros(model, float(freed.get("disk_bytes", 0.0)),
                               float(freed.get("brokers", 0.0)))


def _order_key(model: ClusterModel, rec: Recommendation) -> tuple[float, str]:
    saving = int(rec.monthly_savings.amount * MICROS_PER_UNIT)  # signed: less any cost
    value = saving + _capacity_value_micros(model, rec)
    return (-value / RISK_WEIGHT.get(rec.risk, 2.0), rec.id)


def _plan_cluster(model: ClusterModel, candidates: Sequence[Recommendation],
                  history: History, sizing_settings: Mapping[str, Any], resize: bool,
                  keep_costly: bool) -> tuple[list[_Step], dict[str, int]]:
    state = _ClusterState.of(model)
    steps: list[_Step] = []
    skipped: dict[str, int] = {}

    displaced: dict[str, list[Recommendation]] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    # Candidates alone on their topic, with one-topic changes, are priced together for each
    # stretch between cluster-wide steps (which change what every topic costs).
    targets = Counter(c.selector.topic for rec in candidates for c in rec.whatif
                      if c.selector.topic is not None)
    batchable = [_one_topic(rec) and targets[rec.target] == 1 for rec in candidates]
    prepriced: dict[int, _Priced] = {}
    stretch_end = -1
    for position, rec in enumerate(candidates):
        if position > stretch_end:
            stretch_end = next((k for k in range(position, len(candidates))
                                if _cluster_wide(candidates[k])), len(candidates))
            batch = [k for k in range(position, stretch_end) if batchable[k]]
            prepriced.update(zip(batch, state.price_each([candidates[k] for k in batch]),
                                 strict=True))
        if rec.conflict_key in state.taken:
            skip("an alternative for the same target was taken")
            displaced.setdefault(rec.conflict_key, []).append(rec)
            continue
        priced = prepriced.pop(position, None) or state.price(rec.whatif)
        if priced is None:
            skip("its topic is deleted by an earlier step")
            continue
        frees = priced.disk_bytes_freed > 0 or priced.brokers_freed > 0
        worth_capacity = frees and _capacity_value_micros(model, rec) > max(
            priced.delta_micros, 0)
        if priced.delta_micros < 0 or (priced.delta_micros == 0 and frees) or (
                keep_costly and worth_capacity):
            state.commit(priced)
            state.taken.add(rec.conflict_key)
            steps.append(_Step(_order_key(model, rec), rec, -priced.delta_micros,
                               priced.disk_bytes_freed, priced.brokers_freed))
        else:
            skip("saves nothing on the fleet as changed by earlier steps")
    steps = [replace(s, left_out=tuple(displaced.get(s.recommendation.conflict_key, ())))
             for s in steps]
    if resize:
        config = {**BrokerSizingRule.defaults, **sizing_settings}
        sizing = size_cluster(model, history, config, columns=state.columns)
        if sizing.changed:
            change = sizing_change(model, sizing)
            priced = state.price([change])
            if priced is not None and priced.delta_micros < 0:
                state.commit(priced)
                resize_rec = _capacity_recommendation(model, history, config, sizing, change,
                                                      priced.delta_micros)
                if resize_rec is not None:
                    steps.append(_Step((float("inf"), resize_rec.id), resize_rec,
                                       -priced.delta_micros, 0.0, 0.0))
    return steps, skipped


def _capacity_recommendation(model: ClusterModel, history: History,
                             config: Mapping[str, Any], sizing: Any, change: Change,
                             delta: int) -> Recommendation | None:
    from costopt.rules.candidate_pricing import Candidate

    return BrokerSizingRule().describe(model, history, config,
                                       Candidate(model.cluster, (change,), {"sizing": sizing}),
                                       Pricing(delta, 0.0, 0.0))


# Open recommendations from which clusters are planned in parallel processes: below, forking
# costs more than it saves (a plan of `small` takes a fraction of a second).
PARALLEL_PLAN = 2_000


def build_plan(models: Mapping[str, ClusterModel], histories: Mapping[str, History],
               recommendations: Sequence[Recommendation], decisions: Decisions | None = None,
               rule_settings: Mapping[str, Any] | None = None,
               currency: str = "USD", without: Collection[str] = (),
               unresized: Collection[str] = (), previous: SavingsPlan | None = None,
               rebuild: Collection[str] = ()) -> SavingsPlan:
    """The plan of the open recommendations, less those whose id is in `without`, resizing
    no cluster named in `unresized`. With `previous` (a plan of the same analysis and
    decisions), only the clusters in `rebuild` are planned again: clusters do not affect each
    other, so the others' steps are `previous`'s."""
    decisions = decisions or Decisions()
    decided = decisions.decide(recommendations)
    left_out = set(without)
    open_recs = [d.recommendation for d in decided
                 if d.status == "open" and d.recommendation.id not in left_out]
    no_resize = {d.recommendation.cluster for d in decided
                 if d.recommendation.kind == "broker_sizing" and d.status != "open"}
    no_resize.update(unresized)
    sizing_settings = dict((rule_settings or {}).get("broker_sizing", {}))
    resize_enabled = sizing_settings.pop("enabled", True)
    skipped: dict[str, dict[str, int]] = {}
    merged: list[_Step] = []

    def plan_one(name: str) -> tuple[list[_Step], dict[str, int]]:
        model = models[name]
        candidates = sorted(
            (r for r in open_recs if r.cluster == name and r.category == "saving" and r.whatif
             and r.kind != "broker_sizing"), key=lambda r: _order_key(model, r))
        history = histories.get(name, History.empty())
        # Removing brokers on thin evidence is not a plan: the window must be what sizing needs.
        resize = (bool(resize_enabled) and name not in no_resize
                  and model.catalog.kind not in BrokerSizingRule.not_on
                  and history.observed_days >= float(sizing_settings.get("min_window_days", 7)))
        variants = [_plan_cluster(model, candidates, history, sizing_settings, resize,
                                  keep_costly) for keep_costly in (False, True)]
        return max(variants, key=lambda v: sum(s.saving for s in v[0]))

    # Clusters do not affect each other: each is planned in a process of its own.
    todo = [name for name in models if previous is None or name in rebuild]
    planned = dict(zip(todo, fork_map(plan_one, todo, parallel=len(open_recs) >= PARALLEL_PLAN),
                       strict=True))
    for name, model in models.items():
        if previous is not None and name not in rebuild:
            merged.extend(_Step((float("inf"), s.recommendation.id)
                                if s.recommendation.kind == "broker_sizing"
                                else _order_key(model, s.recommendation), s.recommendation,
                                s.marginal_savings_micros, s.disk_bytes_freed, s.brokers_freed,
                                s.alternatives_left_out)
                          for s in previous.steps if s.recommendation.cluster == name)
            skipped[name] = dict(previous.skipped_by_cluster.get(name, {}))
            continue
        best_steps, skipped[name] = planned[name]
        merged.extend(best_steps)
    merged.sort(key=lambda step: step.order)
    steps, cumulative = [], 0
    for number, step in enumerate(merged, start=1):
        cumulative += step.saving
        steps.append(PlanStep(number, step.recommendation, step.saving, cumulative, step.disk,
                              step.brokers, alternatives_left_out=step.left_out))
    steps = _paired(steps, models)
    bill = sum(sum(m.cost.bill_micros[c] for c in COMPONENTS) for m in models.values())
    total: dict[str, int] = {}
    for reasons in skipped.values():
        for reason, count in reasons.items():
            total[reason] = total.get(reason, 0) + count
    return SavingsPlan(currency, bill, tuple(steps), total, skipped)


def _freed_value_micros(model: ClusterModel, disk_bytes: float, brokers: float) -> float:
    """Freed disk at the cluster's disk price and freed brokers at the broker price, a month:
    what a resize can turn freed capacity into."""
    basis = model.cost.basis
    value = 0.0
    if "storage_local" in basis.capacity_bill_micros and basis.disk_capacity_bytes:
        value += max(disk_bytes, 0.0) * (basis.capacity_bill_micros["storage_local"]
                                         / basis.disk_capacity_bytes)
    return value + max(brokers, 0.0) * basis.broker_month_price * MICROS_PER_UNIT


def _paired(steps: list[PlanStep], models: Mapping[str, ClusterModel]) -> list[PlanStep]:
    """Each step that saves nothing by itself (it costs a little, or nothing, and frees
    capacity) paired with its cluster's capacity step, with its share of that step's saving."""
    resizes = {s.recommendation.cluster: s for s in steps
               if s.recommendation.kind == "broker_sizing"}
    values = {s.number: _freed_value_micros(models[s.recommendation.cluster],
                                            s.disk_bytes_freed, s.brokers_freed)
              for s in steps if s.recommendation.cluster in resizes
              and s.recommendation.kind != "broker_sizing"}
    totals: dict[str, float] = {}
    for s in steps:
        if s.number in values:
            totals[s.recommendation.cluster] = (totals.get(s.recommendation.cluster, 0.0)
                                                + values[s.number])
    out = []
    for s in steps:
        cluster = s.recommendation.cluster
        if s.number in values and s.marginal_savings_micros <= 0 and values[s.number] > 0:
            resize = resizes[cluster]
            share = round(resize.marginal_savings_micros * values[s.number] / totals[cluster])
            s = replace(s, pays_off_with=CapacityPair(
                resize.number, resize.recommendation.id, share,
                s.marginal_savings_micros + share))
        out.append(s)
    return out


def replay_plan(plan: SavingsPlan, models: Mapping[str, ClusterModel],
                histories: Mapping[str, History], recommendations: Sequence[Recommendation],
                decisions: Decisions | None = None,
                rule_settings: Mapping[str, Any] | None = None,
                exclude: Collection[str] = (), include: Collection[str] | None = None
                ) -> SavingsPlan:
    """`plan` rebuilt without the steps whose ids are in `exclude`, or from only those in
    `include` (by the same rules, so a step the left-out ones made pointless may go, and an
    alternative they displaced may come in); `plan` itself when nothing is left out. Step ids
    not in `plan` are refused, all named at once."""
    ids = {step.recommendation.id: step for step in plan.steps}
    asked = list(include if include is not None else exclude)
    unknown = sorted({i for i in asked if i not in ids})
    if unknown:
        shown = ", ".join(unknown[:20]) + (f" and {len(unknown) - 20} more"
                                            if len(unknown) > 20 else "")
        raise InvalidInput(f"not steps of the plan: {shown} (GET /v1/plan lists its steps)")
    left_out = (set(ids) - set(include)) if include is not None else set(exclude)
    if not left_out:
        return plan
    unresized = {ids[i].recommendation.cluster for i in left_out
                 if ids[i].recommendation.kind == "broker_sizing"}
    if include is not None:  # only the included steps are candidates, not what the plan skipped
        kept = set(include)
        without: set[str] = {r.id for r in recommendations if r.id not in kept}
    else:
        without = left_out
    # Only the clusters of the steps left out are planned again (all of them with `include`).
    rebuild = ({r.cluster for r in recommendations} if include is not None
               else {ids[i].recommendation.cluster for i in left_out})
    return build_plan(models, histories, recommendations, decisions, rule_settings,
                      plan.currency, without=without, unresized=unresized, previous=plan,
                      rebuild=rebuild)
