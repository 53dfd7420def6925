"""Where sampled records are kept: each sampled topic's payloads, replaced by each collect."""

from __future__ import annotations

import base64

from sqlalchemy import select

from costopt.store import schema
from costopt.store.database import Database


class SampleRecords(Database):
    """The records sampled per topic (compression trials read them)."""

    def samples(self, cluster: str, topic: str) -> list[bytes]:
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.sample_records.c.payloads).where(
                schema.sample_records.c.cluster == cluster,
                schema.sample_records.c.topic == topic)).first()
        return [base64.b64decode(p) for p in row[0]] if row else []

    def samples_of(self, cluster: str) -> dict[str, list[bytes]]:
        """Every sampled topic's records in the cluster, in one query."""
        table = schema.sample_records
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.topic, table.c.payloads).where(
                table.c.cluster == cluster)).all()
        return {topic: [base64.b64decode(p) for p in payloads] for topic, payloads in rows}

    def sampled_topics(self, cluster: str) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(schema.sample_records.c.topic).where(
                schema.sample_records.c.cluster == cluster))
            return [row[0] for row in rows]
