"""What costopt knows about a cluster at one time: brokers, topics, consumer groups and usage."""

from costopt.snapshot.cluster_snapshot import (
    Broker,
    ClusterSnapshot,
    ConsumerGroup,
    PrincipalTraffic,
    Topic,
)

__all__ = ["Broker", "ClusterSnapshot", "ConsumerGroup", "PrincipalTraffic", "Topic"]
