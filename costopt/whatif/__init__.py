"""What-if projections: change retention, codec, partitions, RF, tiering, growth or brokers
for selected topics and see the monthly cost and capacity that follow."""

from costopt.whatif.changes import Change, Selector
from costopt.whatif.engine import ClusterModel, WhatIfResult, project_cluster, run_whatif

__all__ = ["Change", "ClusterModel", "Selector", "WhatIfResult", "project_cluster", "run_whatif"]
