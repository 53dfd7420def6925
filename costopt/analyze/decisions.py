"""What people decided about recommendations, and so what is still open.

One place owns the rules, so the API, the weekly report, `/metrics`, `costopt analyze` and
`recommendations.json` show the same open set and the same savings:

- open: nobody decided, or a decision lapsed;
- accepted: someone is applying it (it leaves the plan; its realized saving is tracked);
- applied: `costopt apply` applied it (it leaves the plan; its realized saving is tracked,
  as for an accepted one);
- dismissed: hidden until its evidence changes materially (its fingerprint, evidence rounded
  to two significant figures), then open again;
- snoozed: hidden until its date, then open again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from costopt.rules.recommendation import Recommendation

Status = Literal["open", "accepted", "applied", "dismissed", "snoozed"]
STATUSES: tuple[Status, ...] = ("open", "accepted", "applied", "dismissed", "snoozed")
HIDDEN: tuple[Status, ...] = ("dismissed", "snoozed")
# Decisions whose realized saving is measured (after the evidence window, at equal traffic).
TRACKED: tuple[Status, ...] = ("accepted", "applied")


@dataclass(frozen=True)
class Decided:
    recommendation: Recommendation
    status: Status
    reason: str | None


class Decisions:
    """Stored decisions (as `StatusStore.statuses()` gives them) applied to recommendations."""

    def __init__(self, stored: Mapping[str, Mapping[str, Any]] | None = None,
                 now: datetime | None = None) -> None:
        self.stored = stored or {}
        self.now = now or datetime.now(UTC)

    def status_of(self, rec: Recommendation) -> tuple[Status, str | None]:
        record = self.stored.get(rec.id)
        if record is None:
            return "open", None
        status: Status = record["status"]
        if status == "dismissed" and record["evidence_fingerprint"] != rec.evidence_fingerprint:
            return "open", None  # the evidence changed materially: raise it again
        if status == "snoozed" and record.get("snoozed_until") is not None and \
                record["snoozed_until"] <= self.now:
            return "open", None
        return status, record.get("reason")

    def decide(self, recs: Iterable[Recommendation]) -> list[Decided]:
        if not self.stored:  # nobody decided anything: every one is open
            return [Decided(rec, "open", None) for rec in recs]
        return [Decided(rec, *self.status_of(rec)) for rec in recs]

    def visible(self, recs: Iterable[Recommendation], status: Status | None = None
                ) -> list[Decided]:
        """What a list shows: by default open and accepted (not dismissed or snoozed); or
        exactly the asked-for status."""
        return [d for d in self.decide(recs)
                if (d.status not in HIDDEN if status is None else d.status == status)]

    def open(self, recs: Iterable[Recommendation]) -> list[Recommendation]:
        return [d.recommendation for d in self.decide(recs) if d.status == "open"]

    def fingerprint(self) -> tuple[Any, ...]:
        """Changes whenever a decision does, or a snooze lapses (what a cached plan depends
        on)."""
        def lapsed(record: Mapping[str, Any]) -> bool:
            until = record.get("snoozed_until")
            return until is not None and until <= self.now
        return tuple(sorted((key, str(record.get("status")), lapsed(record),
                             str(record.get("evidence_fingerprint")))
                            for key, record in self.stored.items()))
