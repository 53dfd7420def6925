"""Cost anomalies, open and resolved, as the last detection run stored them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ReadScope, StateDep
from api.routes._common import decode_cursor, encode_cursor
from api.schemas import Page
from costopt.store.anomalies import AnomalyStore

router = APIRouter(prefix="/v1/anomalies", tags=["anomalies"], dependencies=[ReadScope])


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


@router.get("", response_model=Page[AnomalyOut])
def list_anomalies(state: StateDep,
                   anomaly_state: Annotated[Literal["open", "resolved"] | None,
                                            Query(alias="state")] = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   cursor: str | None = None) -> dict[str, Any]:
    """Anomalies, newest start first; `state=open` or `state=resolved` to filter; page
    with `cursor`."""
    key = decode_cursor(cursor, "anomalies", 2)
    after = (str(key[0]), str(key[1])) if key is not None else None
    records = AnomalyStore(state.store).list(anomaly_state, limit + 1, after)
    page = records[:limit]
    more = len(records) > limit
    return {"items": page, "next_cursor": encode_cursor(
        "anomalies", [page[-1]["start"], page[-1]["id"]]) if more else None}
