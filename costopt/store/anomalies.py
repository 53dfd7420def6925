"""Anomalies in the store: open until detection says they resolved, and the notices sent for
them. A notice is claimed by inserting its unique key (`<anomaly id>:<event>`): the insert
that succeeds delivers, every other (a second scheduler replica, a restarted one) finds the
key taken and does not. A failed delivery gives its claim back, so the next run retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from costopt.base.money import rounded
from costopt.records.anomaly import Anomaly
from costopt.store import schema
from costopt.store.store import Store


@dataclass(frozen=True)
class Notice:
    """A message owed: `opened` for a new anomaly, `resolved` when it came back."""

    event: str
    anomaly: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.anomaly['id']}:{self.event}"


def _row(anomaly: Anomaly, now: datetime) -> dict[str, Any]:
    data = anomaly.to_dict()
    return {"id": anomaly.anomaly_id, "scope": anomaly.scope, "cluster": anomaly.cluster,
            "item": anomaly.item, "owner": anomaly.owner, "state": anomaly.state,
            "start_day": data["start"], "last_day": data["last_day"],
            "resolved_on": data["resolved_on"],
            "expected_monthly_micros": anomaly.expected_monthly_micros,
            "observed_monthly_micros": anomaly.observed_monthly_micros,
            "impact_monthly_micros": anomaly.impact_monthly_micros,
            "currency": anomaly.currency, "driver": data["driver"], "updated_at": now}


def _record(row: Any) -> dict[str, Any]:
    record = dict(row._mapping)
    currency = record["currency"]
    out = {"id": record["id"], "scope": record["scope"], "cluster": record["cluster"],
           "item": record["item"], "owner": record["owner"], "state": record["state"],
           "start": record["start_day"], "last_day": record["last_day"],
           "resolved_on": record["resolved_on"], "currency": currency, "period": "month",
           "driver": record["driver"], "first_seen_at": record["first_seen_at"]}
    for name in ("expected", "observed", "impact"):
        out[f"{name}_monthly"] = rounded(int(record[f"{name}_monthly_micros"]))
        out[f"{name}_monthly_micros"] = int(record[f"{name}_monthly_micros"])
    return out


class AnomalyStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def sync(self, anomalies: Sequence[Anomaly], now: datetime | None = None,
             tested_to: date | None = None) -> list[Notice]:
        """Store what detection found (new ones inserted, known ones updated) and return the
        notices owed: `opened` for each anomaly not stored before, `resolved` for each that
        was open and now is not. With `tested_to` (the last day detection tested), an open
        anomaly it no longer finds at all (older than the history it tests, or below a floor
        raised since) is closed on that day, so nothing stays open that nothing watches."""
        now = now or datetime.now(UTC)
        table = schema.anomalies
        notices: list[Notice] = []
        with self.store.transaction() as connection:
            known = dict(connection.execute(select(table.c.id, table.c.state)).all())
            if tested_to is not None:
                notices += self._close_unseen(connection, anomalies, tested_to, now)
            for anomaly in anomalies:
                row = _row(anomaly, now)
                previous = known.get(anomaly.anomaly_id)
                if previous is None:
                    try:
                        with connection.begin_nested():
                            connection.execute(insert(table).values(**row, first_seen_at=now))
                    except IntegrityError:  # another replica stored it a moment ago
                        connection.execute(update(table).where(
                            table.c.id == anomaly.anomaly_id).values(**row))
                        continue
                    notices.append(Notice("opened", anomaly.to_dict()))
                    if anomaly.state == "resolved":
                        notices.append(Notice("resolved", anomaly.to_dict()))
                    continue
                connection.execute(update(table).where(table.c.id == anomaly.anomaly_id)
                                   .values(**row))
                if previous == "open" and anomaly.state == "resolved":
                    notices.append(Notice("resolved", anomaly.to_dict()))
        return notices

    def _close_unseen(self, connection: Connection, anomalies: Sequence[Anomaly],
                      tested_to: date, now: datetime) -> list[Notice]:
        table = schema.anomalies
        seen = {a.anomaly_id for a in anomalies}
        rows = connection.execute(select(table).where(table.c.state == "open")).all()
        closed = []
        for row in rows:
            if row.id in seen:
                continue
            driver = {**row.driver, "details": {**row.driver.get("details", {}), "closed":
                      "no longer found: older than the history tested, or below the floor"}}
            connection.execute(update(table).where(table.c.id == row.id).values(
                state="resolved", resolved_on=tested_to.isoformat(), driver=driver,
                updated_at=now))
            record = _record(row)
            closed.append(Notice("resolved", {**record, "state": "resolved",
                                              "resolved_on": tested_to.isoformat(),
                                              "driver": driver}))
        return closed

    def claim(self, notice: Notice) -> bool:
        """True for the one caller whose insert of the notice's key succeeds."""
        try:
            with self.store.transaction() as connection:
                connection.execute(insert(schema.anomaly_notices).values(
                    key=notice.key, anomaly_id=notice.anomaly["id"], event=notice.event,
                    claimed_at=datetime.now(UTC)))
        except IntegrityError:
            return False
        return True

    def release(self, notice: Notice) -> None:
        """Give a claim back (its delivery failed): the next run claims it again."""
        with self.store.transaction() as connection:
            connection.execute(delete(schema.anomaly_notices).where(
                schema.anomaly_notices.c.key == notice.key))

    def unsent(self) -> list[Notice]:
        """Notices owed and not claimed: every stored anomaly's `opened`, and `resolved` for
        the resolved ones (what a restart, or a failed delivery, left to send)."""
        table, notices = schema.anomalies, schema.anomaly_notices
        with self.store.engine.connect() as connection:
            rows = connection.execute(select(table)).all()
            claimed = {k for (k,) in connection.execute(select(notices.c.key)).all()}
        owed = []
        for row in rows:
            record = _record(row)
            for event in ("opened", "resolved"):
                if event == "resolved" and record["state"] != "resolved":
                    continue
                if f"{record['id']}:{event}" not in claimed:
                    owed.append(Notice(event, record))
        return owed

    def list(self, state: str | None = None, limit: int = 100,
             after: tuple[str, str] | None = None) -> list[dict[str, Any]]:
        """Stored anomalies, newest start first (then by id), after a (start, id) cursor."""
        table = schema.anomalies
        query = select(table)
        if state is not None:
            query = query.where(table.c.state == state)
        if after is not None:
            start, anomaly_id = after
            query = query.where((table.c.start_day < start)
                                | ((table.c.start_day == start) & (table.c.id > anomaly_id)))
        query = query.order_by(table.c.start_day.desc(), table.c.id).limit(limit)
        with self.store.engine.connect() as connection:
            return [_record(row) for row in connection.execute(query).all()]

    def open_counts(self) -> dict[str, int]:
        table = schema.anomalies
        with self.store.engine.connect() as connection:
            rows = connection.execute(select(table.c.scope, func.count()).where(
                table.c.state == "open").group_by(table.c.scope)).all()
        return {str(scope): int(count) for scope, count in rows}
