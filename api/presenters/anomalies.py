"""Cost anomalies as the API shows them, from the records the detection run stored."""

from __future__ import annotations

from typing import Any

from api.anomaly_schemas import AnomalyOut
from api.schemas import Page


def anomalies_page(records: list[dict[str, Any]], next_cursor: str | None
                   ) -> Page[AnomalyOut]:
    return Page[AnomalyOut](items=[AnomalyOut.model_validate(r) for r in records],
                            next_cursor=next_cursor)
