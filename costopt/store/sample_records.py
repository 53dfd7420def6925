"""Where sampled records are kept: each sampled topic's payloads, replaced by each collect,
with the compression measured on them when they were stored.

Compressing a topic's records with five codecs was a seventh of a fleet analysis's CPU, done
again by every analysis of records that change only when a collect samples again; so it is done
once, when the records are written (`estimate_row`), and an analysis reads the measured ratios
(`estimates_of`) without reading the records. Samples stored before the estimates were kept
get theirs from migration 0015.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from costopt.base.compression_ratios import CompressionEstimate, estimate
from costopt.store import schema
from costopt.store.database import Database


def estimate_row(records: Sequence[bytes]) -> dict[str, Any] | None:
    """The `estimate` column of a topic's sampled records: what `estimate` measured on them,
    as JSON (None for no records: nothing to measure)."""
    if not records:
        return None
    found = estimate(records)
    return {"records": found.records, "raw_record_bytes": found.raw_record_bytes,
            "ratios": found.ratios}


def _estimate_of(row: dict[str, Any]) -> CompressionEstimate:
    return CompressionEstimate(int(row["records"]), float(row["raw_record_bytes"]),
                               {codec: float(ratio) for codec, ratio in row["ratios"].items()})


class SampleRecords(Database):
    """The records sampled per topic (compression trials read them)."""

    def samples(self, cluster: str, topic: str) -> list[bytes]:
        with self.engine.connect() as connection:
            row = connection.execute(select(schema.sample_records.c.payloads).where(
                schema.sample_records.c.cluster == cluster,
                schema.sample_records.c.topic == topic)).first()
        return [base64.b64decode(p) for p in row[0]] if row else []

    def estimates_of(self, cluster: str, topic: str | None = None
                     ) -> dict[str, CompressionEstimate]:
        """The compression measured on every sampled topic's records in the cluster (or on
        `topic`'s only), in one query (topics sampled with no records have none)."""
        table = schema.sample_records
        query = select(table.c.topic, table.c.estimate).where(
            table.c.cluster == cluster, table.c.estimate.is_not(None))
        if topic is not None:
            query = query.where(table.c.topic == topic)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return {topic: _estimate_of(row) for topic, row in rows}

    def sampled_topics(self, cluster: str) -> list[str]:
        with self.engine.connect() as connection:
            rows = connection.execute(select(schema.sample_records.c.topic).where(
                schema.sample_records.c.cluster == cluster))
            return [row[0] for row in rows]
