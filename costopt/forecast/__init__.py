"""Growth forecasts (scikit-learn) with prediction intervals, and capacity runway."""

from costopt.forecast.cluster import ClusterForecast, Forecast, Runway, cluster_forecast
from costopt.forecast.growth import topic_growth_per_day

__all__ = ["ClusterForecast", "Forecast", "Runway", "cluster_forecast", "topic_growth_per_day"]
