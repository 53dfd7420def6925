"""Where recommendation decisions and archived reports are kept (beside the snapshots)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from costopt.store import schema
from costopt.store.database import _utc

if TYPE_CHECKING:  # Store is built on this module's neighbours; only its type is needed
    from costopt.store.store import Store


class StatusStore:
    """Recommendation decisions and archived reports (kept beside the snapshots)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def set_status(self, recommendation: dict[str, Any], status: str, reason: str,
                   fingerprint: str, snoozed_until: datetime | None = None,
                   cost_before_micros: int | None = None,
                   snapshot_id: int | None = None) -> None:
        table = schema.recommendation_status
        with self.store.transaction() as connection:
            connection.execute(delete(table).where(table.c.id == recommendation["id"]))
            connection.execute(insert(table).values(
                id=recommendation["id"], cluster=recommendation["cluster"],
                kind=recommendation["kind"], target=recommendation["target"], status=status,
                reason=reason, snoozed_until=snoozed_until, evidence_fingerprint=fingerprint,
                monthly_savings=recommendation["monthly_savings"],
                cost_before_micros=cost_before_micros, recommendation=recommendation,
                accepted_snapshot_id=snapshot_id, updated_at=datetime.now(UTC)))

    def reopen(self, ids: Iterable[str], status: str) -> int:
        """Drop the decisions of `ids` that are `status` (an undone apply reopens its
        recommendations); how many were dropped."""
        table = schema.recommendation_status
        with self.store.transaction() as connection:
            result = connection.execute(delete(table).where(table.c.id.in_(list(ids)),
                                                            table.c.status == status))
        return int(result.rowcount or 0)

    def statuses(self) -> dict[str, dict[str, Any]]:
        with self.store.engine.connect() as connection:
            rows = connection.execute(select(schema.recommendation_status)).mappings()
            out = {}
            for row in rows:
                record = dict(row)
                if record["snoozed_until"] is not None:
                    record["snoozed_until"] = _utc(record["snoozed_until"])
                record["updated_at"] = _utc(record["updated_at"])
                out[record["id"]] = record
            return out

    def save_report(self, title: str, html: str, summary: dict[str, Any]) -> str:
        report_id = uuid.uuid4().hex
        with self.store.transaction() as connection:
            connection.execute(insert(schema.reports).values(
                id=report_id, created_at=datetime.now(UTC), title=title, html=html,
                summary=summary))
        return report_id

    def reports(self, limit: int = 50, before: tuple[datetime, str] | None = None
                ) -> list[dict[str, Any]]:
        """Archived reports newest first (ties by id); `before` (created_at, id) pages on."""
        table = schema.reports
        query = select(table.c.id, table.c.created_at, table.c.title, table.c.summary) \
            .order_by(table.c.created_at.desc(), table.c.id.desc())
        if before is not None:
            created, report_id = _utc(before[0]), before[1]
            query = query.where((table.c.created_at < created)
                                | ((table.c.created_at == created) & (table.c.id < report_id)))
        with self.store.engine.connect() as connection:
            rows = connection.execute(query.limit(limit))
            return [{**dict(row._mapping), "created_at": _utc(row.created_at)} for row in rows]

    def report_html(self, report_id: str) -> str | None:
        with self.store.engine.connect() as connection:
            row = connection.execute(select(schema.reports.c.html).where(
                schema.reports.c.id == report_id)).first()
            return None if row is None else str(row[0])
