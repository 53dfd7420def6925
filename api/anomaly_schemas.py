"""Response models of the anomaly endpoints (beside `schemas.py`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class AnomalyDriver(BaseModel):
    figure: str = Field(description="bytes_in, bytes_out, stored_bytes, partitions, replicas")
    change: str | None = Field(None, description="the change behind it, e.g. `retention.ms "
                                                 "86400000 → 2592000000`")
    kind: str = Field(description="config, codec, new_consumer_group, new_partitions, usage")
    before: str | None = Field(None, description="the snapshot before (taken at, UTC)")
    after: str | None = Field(None, description="the snapshot after (taken at, UTC)")
    details: dict[str, Any] = {}


class AnomalyOut(BaseModel):
    id: str
    scope: Literal["topic", "owner", "cluster", "component"]
    cluster: str | None
    item: str
    owner: str | None
    state: Literal["open", "resolved"]
    start: str
    last_day: str
    resolved_on: str | None
    expected_monthly: str
    observed_monthly: str
    impact_monthly: str = Field(description="the monthly-rate change, in `currency`")
    currency: str
    period: str
    driver: AnomalyDriver
