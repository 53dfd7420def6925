"""The compression measured on each topic's sampled records, kept beside them: an analysis
reads the measured ratios instead of compressing the records with five codecs every time
(`costopt.store.sample_records`). Samples already stored are measured here, once.

Revision ID: 0015
"""

from __future__ import annotations

import base64

import sqlalchemy as sa
from alembic import op

from costopt.store.sample_records import estimate_row

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_samples = sa.table("sample_records", sa.column("cluster", sa.String),
                    sa.column("topic", sa.String), sa.column("payloads", sa.JSON),
                    sa.column("estimate", sa.JSON(none_as_null=True)))


def upgrade() -> None:
    with op.batch_alter_table("sample_records") as batch:
        batch.add_column(sa.Column("estimate", sa.JSON(none_as_null=True), nullable=True))
    connection = op.get_bind()
    keys = connection.execute(sa.select(_samples.c.cluster, _samples.c.topic)).all()
    for cluster, topic in keys:  # one topic's records in memory at a time
        payloads = connection.execute(sa.select(_samples.c.payloads).where(
            _samples.c.cluster == cluster, _samples.c.topic == topic)).scalar_one()
        connection.execute(sa.update(_samples).where(
            _samples.c.cluster == cluster, _samples.c.topic == topic).values(
            estimate=estimate_row([base64.b64decode(p) for p in payloads])))


def downgrade() -> None:
    with op.batch_alter_table("sample_records") as batch:
        batch.drop_column("estimate")
