"""Small helpers shared by the routes: money as text, lookups that 404 with a clear message."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException

from costopt.analysis import ClusterAnalysis, FleetAnalysis
from costopt.cost.allocation import COMPONENTS
from reports.exports import rounded


def unprocessable(where: str, field: str, message: str) -> HTTPException:
    """A 422 shaped like FastAPI's own validation errors, so clients parse one shape."""
    return HTTPException(422, [{"loc": [where, *field.split(".")], "msg": f"{field}: {message}",
                                "type": "value_error"}])


def cluster_or_404(analysis: FleetAnalysis, name: str) -> ClusterAnalysis:
    if name not in analysis.clusters:
        known = ", ".join(sorted(analysis.clusters)) or "none"
        raise HTTPException(404, f"unknown cluster {name!r} (known: {known})")
    return analysis.clusters[name]


def cost_item(row: Any, currency: str) -> dict[str, Any]:
    return {"cluster": row.cluster, "topic": row.topic, "owner": row.owner,
            "monthly_cost": rounded(row.monthly_cost_micros), "currency": currency,
            "period": "month",
            **{c: rounded(getattr(row, f"{c}_micros")) for c in COMPONENTS}}
