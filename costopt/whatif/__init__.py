"""What-if projections: change retention, codec, partitions, RF, tiering, growth, readers or
capacity for selected topics and clusters, and see the monthly cost and capacity that follow."""

from costopt.whatif.changes import Change, Selector
from costopt.whatif.engine import TopicDeltas, WhatIfResult, project_cluster, run_whatif

__all__ = ["Change", "Selector", "TopicDeltas", "WhatIfResult", "project_cluster", "run_whatif"]
