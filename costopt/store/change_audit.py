"""The audit trail in the store: every topic config change `costopt apply` made or undid,
with when, where, before and after, the plan step and who. Rows are only ever added."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import insert, select

from costopt.store import schema
from costopt.store.store import Store, _utc

Action = Literal["apply", "undo"]


@dataclass(frozen=True)
class AuditRow:
    action: Action
    cluster: str
    topic: str
    before: dict[str, str | None]
    after: dict[str, str | None]
    plan_step: int | None
    recommendation_id: str | None
    applied_by: str


class ChangeStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(self, rows: Sequence[AuditRow], at: datetime | None = None) -> None:
        """Add `rows` in one transaction."""
        if not rows:
            return
        moment = _utc(at or datetime.now(UTC))
        with self.store.transaction() as connection:
            connection.execute(insert(schema.applied_changes), [
                {"id": uuid.uuid4().hex, "applied_at": moment, "action": row.action,
                 "cluster": row.cluster, "topic": row.topic, "before": row.before,
                 "after": row.after, "plan_step": row.plan_step,
                 "recommendation_id": row.recommendation_id, "applied_by": row.applied_by}
                for row in rows])

    def changes(self, limit: int = 500, cluster: str | None = None,
                topic: str | None = None) -> list[dict[str, Any]]:
        """Newest first (ties by id)."""
        table = schema.applied_changes
        query = select(table).order_by(table.c.applied_at.desc(), table.c.id.desc())
        if cluster is not None:
            query = query.where(table.c.cluster == cluster)
        if topic is not None:
            query = query.where(table.c.topic == topic)
        with self.store.engine.connect() as connection:
            return [{**dict(row), "applied_at": _utc(row["applied_at"])}
                    for row in connection.execute(query.limit(limit)).mappings()]
