"""What each cluster, topic and owner costs per month, allocated so the parts equal the bill."""

from costopt.cost.allocation import (
    COMPONENTS,
    IDLE,
    UNALLOCATED,
    AllocationSettings,
    ClusterCost,
    allocate,
)
from costopt.cost.owners import OwnerAttribution, OwnerRule
from costopt.cost.rollup import rollup

__all__ = [
    "COMPONENTS",
    "IDLE",
    "UNALLOCATED",
    "AllocationSettings",
    "ClusterCost",
    "OwnerAttribution",
    "OwnerRule",
    "allocate",
    "rollup",
]
