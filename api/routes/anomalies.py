"""Cost anomalies, open and resolved, as the last detection run stored them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.anomaly_schemas import AnomalyOut
from api.deps import ReadScope, StateDep
from api.paging import decode_cursor, keyset_page
from api.presenters.anomalies import anomalies_page
from api.schemas import Page
from costopt.store.anomalies import AnomalyStore

router = APIRouter(prefix="/v1/anomalies", tags=["anomalies"], dependencies=[ReadScope])
KIND = "anomalies"


@router.get("", response_model=Page[AnomalyOut])
def list_anomalies(state: StateDep,
                   anomaly_state: Annotated[Literal["open", "resolved"] | None,
                                            Query(alias="state")] = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   cursor: str | None = None) -> Page[AnomalyOut]:
    """Anomalies, newest start first; `state=open` or `state=resolved` to filter; page
    with `cursor`."""
    key = decode_cursor(cursor, KIND, 2)
    after = (str(key[0]), str(key[1])) if key is not None else None
    records = AnomalyStore(state.store).list(anomaly_state, limit + 1, after)
    return anomalies_page(*keyset_page(records, limit, KIND, lambda r: [r["start"], r["id"]]))
