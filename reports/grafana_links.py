"""Deep links from reports into the shipped Grafana dashboards (`grafana/*.json`).

The dashboard uids and panel ids here are the ones in the shipped JSON; a test checks both
agree, so a link never points at a panel that does not exist.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

DASHBOARDS = {
    "overview": ("costopt-overview", "costopt-cost-overview"),
    "topic": ("costopt-topic", "costopt-topic-drill-down"),
    "capacity": ("costopt-capacity", "costopt-capacity-and-runway"),
}
# Panel ids per dashboard, by what they show.
PANELS = {
    "overview": {"cost_by_cluster": 1, "cost_by_owner": 2, "cost_by_component": 3,
                 "savings_by_kind": 4, "top_topics": 5},
    "topic": {"topic_cost": 1, "topic_throughput": 2, "topic_log_size": 3,
              "consumer_lag": 4, "topic_savings": 5, "topic_unit_cost": 6},
    "capacity": {"runway_days": 1, "disk_forecast": 2, "broker_count": 3},
}


def panel_link(base_url: str | None, dashboard: str, panel: str, start: datetime,
               end: datetime, variables: dict[str, str] | None = None) -> str | None:
    """A link to one panel with the time range and variables filled in; None without a base."""
    if not base_url:
        return None
    uid, slug = DASHBOARDS[dashboard]
    params: dict[str, str | int] = {
        "orgId": 1,
        "from": int(start.timestamp() * 1000),
        "to": int(end.timestamp() * 1000),
        "viewPanel": PANELS[dashboard][panel],
    }
    for name, value in (variables or {}).items():
        params[f"var-{name}"] = value
    return f"{base_url.rstrip('/')}/d/{uid}/{slug}?{urlencode(params)}"
