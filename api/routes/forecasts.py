"""Growth forecasts with 95% intervals and capacity runway, per cluster."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import AnalysisDep, ReadScope, StateDep
from api.routes._common import cluster_or_404
from api.schemas import ClusterForecast
from costopt.analysis import FleetAnalysis

router = APIRouter(prefix="/v1/forecasts", tags=["forecasts"], dependencies=[ReadScope])


@router.get("/{cluster}", response_model=ClusterForecast)
def forecast(cluster: str, analysis: AnalysisDep, state: StateDep) -> dict[str, Any]:
    return state.memo(analysis, ("forecast", cluster), lambda: _forecast(analysis, cluster))


def _forecast(analysis: FleetAnalysis, cluster: str) -> dict[str, Any]:
    found = cluster_or_404(analysis, cluster).forecast
    return {
        "cluster": cluster, "horizon_days": found.horizon_days,
        "forecasts": [{
            "metric": f.metric, "unit": f.unit, "model": f.model,
            "growth_per_month": f.growth_per_month,
            "history": [{"ts": r.ts, "value": r.value} for r in f.history.itertuples()],
            "forecast": [{"ts": r.ts, "value": r.value, "lower": r.lower, "upper": r.upper}
                         for r in f.forecast.itertuples()],
        } for f in found.forecasts.values()],
        "runway": [{"resource": r.resource, "limit": r.limit, "unit": r.unit,
                    "current": r.current, "date": r.date.isoformat() if r.date else None,
                    "days": r.days} for r in found.runways],
    }
