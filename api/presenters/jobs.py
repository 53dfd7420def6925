"""Runs (collect, analyze, report, anomalies) as the API shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.schemas import Job, Page


def job(record: Mapping[str, Any]) -> Job:
    return Job.model_validate(record)


def jobs_page(records: list[dict[str, Any]], next_cursor: str | None) -> Page[Job]:
    return Page[Job](items=[job(r) for r in records], next_cursor=next_cursor)
