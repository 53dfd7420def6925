"""Snapshot labels that carry a cluster's settings to the cost model: collect writes
them, allocation reads them, and neither imports the other."""

from __future__ import annotations

# Snapshot labels saying where a cluster's consumer bytes go when they leave its region (set
# from `clusters[].internet_egress_share` / `cross_region_egress_share` at collect).
INTERNET_EGRESS_LABEL = "egress.internet_share"


CROSS_REGION_EGRESS_LABEL = "egress.cross_region_share"
