"""What-if changes: which topics (a selector) and what to set on them.

Validation happens here, once, so every caller (API, CLI, rules) refuses the same bad input
with the same message naming the field.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from costopt.compression import CODECS

MAX_RETENTION_MS = 100 * 365 * 86_400_000  # a century; beyond that is a typo


class Selector(BaseModel):
    """All given fields must match. `pattern` is a regular expression over the topic name."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cluster: str | None = Field(None, min_length=1, max_length=255)
    topic: str | None = Field(None, min_length=1, max_length=512)
    pattern: str | None = Field(None, min_length=1, max_length=512)
    owner: str | None = Field(None, min_length=1, max_length=255)
    all: bool = Field(False, description="select every topic (must be explicit)")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Selector:
        if not self.all and not any((self.cluster, self.topic, self.pattern, self.owner)):
            raise ValueError("an empty selector matches nothing; give cluster, topic, pattern "
                             "or owner, or set all: true")
        return self


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    selector: Selector
    retention_ms: int | None = Field(
        None, description="new retention.ms; -1 keeps data forever")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] | None = None
    partitions: int | None = Field(None, ge=1, le=100_000)
    replication_factor: int | None = Field(None, ge=1, le=10)
    tiered_storage: bool | None = None
    local_retention_ms: int | None = Field(None, ge=60_000, le=MAX_RETENTION_MS)
    growth_pct: float | None = Field(None, gt=-100, le=100_000, allow_inf_nan=False)
    broker_count: int | None = Field(None, ge=1, le=10_000)
    broker_type: str | None = Field(None, min_length=1, max_length=128)
    catalog: str | None = Field(None, min_length=1, max_length=512)

    @field_validator("retention_ms")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        if value is not None and value != -1 and not 60_000 <= value <= MAX_RETENTION_MS:
            raise ValueError(f"must be -1 (forever) or between 60000 (1 minute) and "
                             f"{MAX_RETENTION_MS} (100 years)")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> Change:
        fields = ("retention_ms", "compression", "partitions", "replication_factor",
                  "tiered_storage", "local_retention_ms", "growth_pct", "broker_count",
                  "broker_type", "catalog")
        if all(getattr(self, name) is None for name in fields):
            raise ValueError(f"a change must set at least one of: {', '.join(fields)}")
        return self

    @property
    def touches_brokers(self) -> bool:
        return any(v is not None for v in (self.broker_count, self.broker_type, self.catalog))


assert set(CODECS) == {"none", "gzip", "snappy", "lz4", "zstd"}
