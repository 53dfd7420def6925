"""`costopt apply`: the plan's topic config changes, made through the Admin API with the
guard rails a platform team needs, an audit trail and an undo file.

Per change, in this order, a refusal names its reason:
1. protected platform topics (`rules/protected.py`) are never changed;
2. a step resting on provisional evidence is not applied;
3. the topic's config now differs from the snapshot the plan was made on (someone changed it
   since, or the topic is gone): re-collect and plan again;
4. more than `max_changes` at once: the rest wait for a later run.
A dry run stops there and shows the diff. Otherwise each cluster's changes are written in one
incremental alter request; what the brokers took is recorded (`applied_changes`), written to
an undo file (the values read just before), and its recommendation gets the decision
`applied`, so its realized saving is measured as for an accepted one.

Undo is the same path backwards: the file's changes reversed, each refused where the config
has moved on since costopt set it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from costopt.analyze.analysis import FleetAnalysis, target_cost_micros
from costopt.base.errors import InvalidInput
from costopt.base.money import Money
from costopt.changes.topic_changes import TopicChange, by_cluster, same_config, shown
from costopt.rules.protected import Protection
from costopt.store.change_audit import Action, AuditRow, ChangeStore
from costopt.store.store import StatusStore

UNDO_VERSION = 1


class ConfigAccess(Protocol):
    """One cluster's topic configs: read now, and write (None: delete the override)."""

    def read(self, topics: list[str]) -> dict[str, dict[str, str]]: ...

    def write(self, changes: Mapping[str, Mapping[str, str | None]]
              ) -> dict[str, str | None]: ...


@dataclass(frozen=True)
class Refusal:
    change: TopicChange
    reason: str


@dataclass
class ApplyResult:
    ready: list[TopicChange] = field(default_factory=list)  # passed the guard rails
    refused: list[Refusal] = field(default_factory=list)
    applied: list[TopicChange] = field(default_factory=list)  # `before` as read just before
    failed: list[Refusal] = field(default_factory=list)  # the brokers refused
    undo_file: Path | None = None


def guard(changes: Sequence[TopicChange], live: Mapping[str, Mapping[str, dict[str, str]]],
          protection: Protection | None, max_changes: int,
          moved: str = "changed since the plan's snapshot") -> ApplyResult:
    """Split `changes` into those to make and those refused, each with its reason. `live`:
    per cluster, per topic, the configs read now (a topic missing is gone)."""
    result = ApplyResult()
    for change in changes:
        reason = _refusal(change, live.get(change.cluster, {}), protection, moved)
        if reason is None:
            current = live[change.cluster][change.topic]
            result.ready.append(replace(change, before={
                key: current.get(key) for key in change.after}))
        else:
            result.refused.append(Refusal(change, reason))
    if len(result.ready) > max_changes:
        result.refused += [Refusal(c, f"more than --max-changes ({max_changes}) at once: "
                                      "apply it in a later run")
                           for c in result.ready[max_changes:]]
        result.ready = result.ready[:max_changes]
    return result


def _refusal(change: TopicChange, live: Mapping[str, dict[str, str]],
             protection: Protection | None, moved: str) -> str | None:
    if protection is not None and (reason := protection.reason(change.topic)) is not None:
        return f"{reason}; costopt apply never changes it"
    if change.provisional:
        return "provisional evidence: the step rests on less history than its rule needs"
    current = live.get(change.topic)
    if current is None:
        return f"the topic is gone ({moved}): re-collect (costopt collect --once)"
    differs = [f"{key} is {shown(current.get(key))}, expected {shown(expected)}"
               for key, expected in change.before.items()
               if expected is not None and not same_config(current.get(key), expected)]
    if differs:
        return f"{moved} ({'; '.join(differs)}): re-collect (costopt collect --once) " \
               "and plan again"
    return None


def run(changes: Sequence[TopicChange], access_for: Callable[[str], ConfigAccess],
        protection: Protection | None, *, yes: bool, max_changes: int, who: str,
        audit: ChangeStore | None, undo_path: Path | None, action: Action = "apply",
        moved: str = "changed since the plan's snapshot") -> ApplyResult:
    """Check `changes` against what each cluster holds now; with `yes`, make those that pass,
    record them and write the undo file."""
    if max_changes < 1:
        raise InvalidInput("--max-changes must be at least 1")
    live: dict[str, dict[str, dict[str, str]]] = {}
    accesses: dict[str, ConfigAccess] = {}
    unreachable: list[Refusal] = []
    for cluster, items in by_cluster(changes).items():
        try:
            accesses[cluster] = access_for(cluster)
            live[cluster] = accesses[cluster].read(sorted({c.topic for c in items}))
        except Exception as exc:  # no bootstrap configured, unreachable, refused
            unreachable += [Refusal(c, f"cannot read cluster {cluster}: {exc}") for c in items]
    reachable = [c for c in changes if c.cluster in live]
    result = guard(reachable, live, protection, max_changes, moved)
    result.refused = unreachable + result.refused
    if not yes or not result.ready:
        return result
    for cluster, items in by_cluster(result.ready).items():
        result.applied += _write(accesses[cluster], items, result)
    if audit is not None:
        audit.record([AuditRow(action, c.cluster, c.topic, dict(c.before), dict(c.after),
                               c.step, c.recommendation_id, who) for c in result.applied])
    if undo_path is not None and result.applied:
        write_undo_file(undo_path, result.applied, who)
        result.undo_file = undo_path
    return result


def _write(access: ConfigAccess, items: list[TopicChange], result: ApplyResult
           ) -> list[TopicChange]:
    """Each topic's configs in one entry of one request (a topic with two steps gets both)."""
    merged: dict[str, dict[str, str | None]] = {}
    for change in items:
        merged.setdefault(change.topic, {}).update(change.after)
    outcome = access.write(merged)
    done = []
    for change in items:
        error = outcome.get(change.topic, "no answer from the brokers")
        if error is None:
            done.append(change)
        else:
            result.failed.append(Refusal(change, f"the brokers refused it: {error}"))
    return done


def write_undo_file(path: Path, applied: Sequence[TopicChange], who: str) -> None:
    path.write_text(json.dumps({
        "version": UNDO_VERSION, "written_at": datetime.now(UTC).isoformat(),
        "applied_by": who, "restore_with": f"costopt apply --undo {path.name} --yes",
        "changes": [c.to_dict() for c in applied]}, indent=2) + "\n")


def read_undo_file(path: Path) -> list[TopicChange]:
    """The changes an undo file restores: each applied change reversed (after -> before)."""
    try:
        body = json.loads(path.read_text())
        entries = body["changes"]
        if body.get("version") != UNDO_VERSION or not isinstance(entries, list):
            raise ValueError(f"not an undo file of version {UNDO_VERSION}")
        return [_reversed(entry) for entry in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"--undo {path}: not an undo file costopt apply wrote: {exc}"
                           ) from None


def _reversed(entry: Mapping[str, Any]) -> TopicChange:
    return TopicChange(
        str(entry["cluster"]), str(entry["topic"]), str(entry.get("owner", "")),
        before=dict(entry["after"]), after=dict(entry["before"]), step=entry.get("step"),
        recommendation_id=entry.get("recommendation_id"), kind=str(entry.get("kind", "")),
        monthly_savings=Money.zero(str(entry.get("currency", "USD"))))


def mark_applied(statuses: StatusStore, analysis: FleetAnalysis,
                 applied: Sequence[TopicChange], who: str) -> int:
    """Give each applied step's recommendation the decision `applied`, kept with the snapshot
    and target cost of now, so its realized saving is priced as an accepted one's is."""
    by_id = {rec.id: rec for rec in analysis.recommendations}
    marked = 0
    for rec_id in dict.fromkeys(c.recommendation_id for c in applied):
        rec = by_id.get(rec_id) if rec_id is not None else None
        if rec is None:
            continue
        cluster = analysis.clusters.get(rec.cluster)
        statuses.set_status(rec.to_dict(), "applied", f"applied by {who} with costopt apply",
                            rec.evidence_fingerprint, None, target_cost_micros(analysis, rec),
                            cluster.snapshot_id if cluster is not None else None)
        marked += 1
    return marked
