"""The rule protocol and the loop every rule shares.

As in cruise-control's `AbstractGoal`, the base class owns the loop and the rules fill in two
hooks: `candidates` (what would I change, and the what-if changes that say so) and `describe`
(the recommendation, given what those changes were priced at). No rule prices anything
itself: `evaluate` prices every candidate through the what-if engine (`rules/candidate_pricing.py`),
so every saving shown is what `POST /v1/whatif` of its changes says.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar, Protocol

from costopt.base import units
from costopt.base.money import Money, units_to_micros
from costopt.cost.cluster_model import ClusterModel
from costopt.rules import readers
from costopt.rules.candidate_pricing import Candidate, Pricing, price
from costopt.rules.history import History
from costopt.rules.protected import Protection
from costopt.rules.recommendation import Recommendation
from costopt.whatif.changes import Change, Selector

BOOTSTRAP_PLACEHOLDER = "$BOOTSTRAP"
GIB = 1024**3


@dataclass(frozen=True)
class Skip:
    """A topic (or group) a rule would have advised on, and why it did not."""

    cluster: str
    rule: str
    target: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"cluster": self.cluster, "rule": self.rule, "target": self.target,
                "reason": self.reason}


class RuleContext:
    """What every rule of one cluster's run shares: the protected topics, and who reads what
    (computed once per run)."""

    def __init__(self, model: ClusterModel, history: History,
                 protection: Protection | None = None,
                 abandoned_after_days: float | None = None) -> None:
        self.model = model
        self.history = history
        self.protection = protection or Protection()
        self.abandoned_after_days = (abandoned_after_days if abandoned_after_days is not None
                                     else readers.ABANDONED_AFTER_DAYS)

    @cached_property
    def group_reads(self) -> list[readers.GroupRead]:
        return readers.group_reads(self.model, self.history, self.abandoned_after_days)

    @cached_property
    def readers(self) -> dict[str, list[readers.GroupRead]]:
        """Per topic, the groups that will come back to read it."""
        out: dict[str, list[readers.GroupRead]] = {}
        for read in self.group_reads:
            if not read.abandoned:
                out.setdefault(read.topic, []).append(read)
        return out


class Rule(Protocol):
    name: str

    def evaluate(self, model: ClusterModel, history: History, settings: Mapping[str, Any],
                 context: RuleContext | None = None,
                 skipped: list[Skip] | None = None) -> list[Recommendation]: ...


class BaseRule:
    """Settings merged with defaults; name-protected topics skipped; candidates priced
    through the engine; provisional evidence marked. Rules fill in two hooks.

    - `target_type`: what candidates name ("topic" candidates are checked against the
      protected topics).
    - `needed_days`: the history the rule needs; with less, its findings are provisional
      (lower confidence, `provisional: true`), and a `destructive` rule's findings (deleting,
      cutting retention, migrating, removing brokers) become "watch" items, never advice.
    - `not_on`: the offerings (catalog kinds) where the rule's advice cannot be acted on, with
      why; `run_rules` does not run it there and records the skip.
    """

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}
    not_on: ClassVar[dict[str, str]] = {}
    target_type: ClassVar[str] = "topic"
    destructive: ClassVar[bool] = False
    enabled_by_default: ClassVar[bool] = True  # False: opt-in, `rules.<name>.enabled: true`

    def needed_days(self, config: Mapping[str, Any]) -> float | None:
        return None

    def evaluate(self, model: ClusterModel, history: History, settings: Mapping[str, Any],
                 context: RuleContext | None = None,
                 skipped: list[Skip] | None = None) -> list[Recommendation]:
        config = self.settings(settings)
        context = context or RuleContext(model, history)
        skipped = skipped if skipped is not None else []
        candidates = []
        for found in self.candidates(model, history, config, context):
            if isinstance(found, Skip):
                skipped.append(found)
                continue
            reason = (context.protection.reason(found.target)
                      if self.target_type == "topic" else None)
            if reason is not None:
                skipped.append(Skip(model.cluster, self.name, found.target, reason))
                continue
            candidates.append(found)
        needed = self.needed_days(config)
        out = []
        for candidate, pricing in zip(candidates, price(model, candidates), strict=True):
            recommendation = self.describe(model, history, config, candidate, pricing)
            if recommendation is not None:
                out.append(self._with_evidence_span(recommendation, history, needed))
        return out

    def _with_evidence_span(self, rec: Recommendation, history: History,
                            needed: float | None) -> Recommendation:
        if needed is None or history.observed_days >= needed:
            return rec
        marked = replace(rec, provisional=True, observed_days=round(history.observed_days, 4),
                         needed_days=needed, confidence=min(rec.confidence, 0.4))
        if self.destructive and rec.category == "saving":
            return replace(marked, category="watch", title=f"Watch: {rec.title}")
        return marked

    def candidates(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                   context: RuleContext) -> Iterable[Candidate | Skip]:
        raise NotImplementedError

    def describe(self, model: ClusterModel, history: History, config: Mapping[str, Any],
                 candidate: Candidate, pricing: Pricing) -> Recommendation | None:
        raise NotImplementedError

    def skip(self, model: ClusterModel, target: str, reason: str) -> Skip:
        return Skip(model.cluster, self.name, target, reason)

    def settings(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(overrides) - set(self.defaults) - {"enabled"}
        if unknown:
            raise ValueError(f"rule {self.name!r} has no setting(s) {sorted(unknown)}; "
                             f"known: {sorted(self.defaults)}")
        return {**self.defaults, **overrides}

    def topic_recommendation(self, model: ClusterModel, candidate: Candidate, pricing: Pricing,
                             **fields: Any) -> Recommendation:
        """A saving about one topic, owned as the topic is, with its pricing filled in."""
        kind = fields.pop("kind", self.name)
        currency = model.cost.currency
        row = model.index.get(candidate.target)
        target_cost = (Money.from_micros(int(model.row_totals_micros[row]), currency)
                       if row is not None else None)
        return Recommendation(
            cluster=model.cluster, kind=kind, target_type="topic", target=candidate.target,
            owner=model.owner_of(candidate.target), whatif=candidate.changes,
            target_cost=target_cost, **priced_fields(model, pricing), **fields)


def priced_fields(model: ClusterModel, pricing: Pricing) -> dict[str, Any]:
    currency = model.cost.currency
    return {
        # Signed: what `POST /v1/whatif` of the changes says, to the micro-unit (a change that
        # only frees capacity, like tiering on provisioned disks, saves less than nothing now).
        "monthly_savings": Money.from_micros(-pricing.delta_micros, currency),
        "monthly_cost": (Money.from_micros(pricing.cost_micros, currency)
                         if pricing.cost_micros else None),
        "capacity_freed": {"disk_bytes": round(pricing.disk_bytes_freed),
                           "brokers": round(pricing.brokers_freed, 3)},
    }


def worth_recommending(pricing: Pricing, config: Mapping[str, Any]) -> bool:
    """A saving of at least `min_monthly_savings`, or at least `min_disk_freed_gib` of disk
    freed (which a later resize turns into money)."""
    result: bool = (
        pricing.savings_micros >= units_to_micros(config.get("min_monthly_savings", 0.0))
        or pricing.disk_bytes_freed >= config.get("min_disk_freed_gib", float("inf")) * GIB)
    return result


# Blank models that `topic_change` copies: a copy with its values set is the same model as
# `model_construct` builds (fields in order, the set ones marked set), in a third of the time,
# as `model_construct` looks up the default of every field it is not given.
_BLANK_SELECTOR = Selector.model_construct()
_BLANK_CHANGE = Change.model_construct(selector=_BLANK_SELECTOR)


def topic_change(model: ClusterModel, topic: str, **values: Any) -> Change:
    """A change to one topic, as a rule proposes it. Built without re-validation (thousands
    per analysis; the values come from the rule, not a user): the tests post every kind of
    rule's changes through the API, which validates them."""
    selector = _BLANK_SELECTOR.model_copy(update={"cluster": model.cluster, "topic": topic})
    return _BLANK_CHANGE.model_copy(update={"selector": selector, **values})


def snapshot_window(model: ClusterModel) -> str:
    """The window a snapshot's rates are averages over, e.g. `1 h window`."""
    return f"{units.duration(model.snapshot.window_seconds)} window"


def bootstrap(model: ClusterModel) -> str:
    return model.snapshot.labels.get("bootstrap_servers", BOOTSTRAP_PLACEHOLDER)


def kafka_configs_command(model: ClusterModel, topic: str, configs: Mapping[str, Any]) -> str:
    settings = ",".join(f"{key}={value}" for key, value in configs.items())
    return (f"kafka-configs.sh --bootstrap-server {shlex.quote(bootstrap(model))} --alter "
            f"--entity-type topics --entity-name {shlex.quote(topic)} "
            f"--add-config {shlex.quote(settings)}")


def zero(model: ClusterModel) -> Money:
    return Money.zero(model.cost.currency)
