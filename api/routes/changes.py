"""The audit trail of topic config changes `costopt apply` made or undid, newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ReadScope, StateDep
from api.paging import offset_page
from api.presenters.changes import changes_page
from api.schemas import AppliedChange, Page
from costopt.store.change_audit import ChangeStore

router = APIRouter(prefix="/v1/changes", tags=["changes"], dependencies=[ReadScope])
KEPT = 10_000  # the newest rows a listing pages over


@router.get("", response_model=Page[AppliedChange])
def list_changes(state: StateDep, cluster: str | None = None, topic: str | None = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                 cursor: str | None = None) -> Page[AppliedChange]:
    """Each change: when, cluster, topic, before and after, plan step, recommendation, who."""
    rows = ChangeStore(state.store).changes(KEPT, cluster, topic)
    return changes_page(*offset_page(rows, limit, cursor, f"changes:{cluster}:{topic}"))
