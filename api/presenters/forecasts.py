"""A cluster's growth forecasts as the API shows them: each metric's history and forecast
with its 95% interval, and the capacity runway."""

from __future__ import annotations

from api.presenters.clusters import runways
from api.schemas import ClusterForecast, ForecastPoint, MetricForecast
from costopt.forecast.cluster import ClusterForecast as DomainForecast
from costopt.forecast.cluster import Forecast


def metric_forecast(f: Forecast) -> MetricForecast:
    return MetricForecast(
        metric=f.metric, unit=f.unit, model=f.model, growth_per_month=f.growth_per_month,
        history=[ForecastPoint(ts=r.ts, value=r.value) for r in f.history.itertuples()],
        forecast=[ForecastPoint(ts=r.ts, value=r.value, lower=r.lower, upper=r.upper)
                  for r in f.forecast.itertuples()])


def cluster_forecast(cluster: str, found: DomainForecast) -> ClusterForecast:
    return ClusterForecast(cluster=cluster, horizon_days=found.horizon_days,
                           forecasts=[metric_forecast(f) for f in found.forecasts.values()],
                           runway=runways(found.runways))
