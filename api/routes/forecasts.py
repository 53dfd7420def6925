"""Growth forecasts with 95% intervals and capacity runway, per cluster."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AnalysisDep, ReadScope, StateDep
from api.presenters.forecasts import cluster_forecast
from api.routes._common import cluster_or_404
from api.schemas import ClusterForecast

router = APIRouter(prefix="/v1/forecasts", tags=["forecasts"], dependencies=[ReadScope])


@router.get("/{cluster}", response_model=ClusterForecast)
def forecast(cluster: str, analysis: AnalysisDep, state: StateDep) -> ClusterForecast:
    return state.memo(analysis, ("forecast", cluster),
                      lambda: cluster_forecast(cluster, cluster_or_404(analysis,
                                                                       cluster).forecast))
