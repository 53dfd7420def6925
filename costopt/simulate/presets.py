"""Fleet sizes. `wix` is the published scale of a large Kafka user; `huge` has twice its topics
(and the 2021 `wix` five times over), for scaling checks.

`wix` follows what Wix presented at Kafka Summit London in April 2022 (Natan Silnitsky,
summarised by Factor House, "How Wix uses Apache Kafka in production"): 2,200+ microservices,
50,000 topics, 500,000+ partitions, 15 billion business events a day and about 66 billion
messages a day in all. Consumer groups keep their 2021 proportion to topics (4,000 for 20,000:
10,000 for 50,000), read by 2,200 services. The daily message count barely moved
from 2021 (70 billion a day across 20,000 topics and 200,000+ partitions), so the fleet's
traffic stays near the 2021 preset's 800 MB/s: the median topic is slower (2.4 KB/s against
6 KB/s), with the same lognormal spread.

`confluent` is a multi-cluster Confluent Cloud fleet as a company that moved there runs it: a
Standard cluster (elastic eCKUs), a Dedicated one (provisioned CKUs) and a Freight one for the
analytics lanes, with a service account per service and the bytes each one wrote and read
planted per topic (`Fleet.principals`), which chargeback by principal is measured against.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FleetSpec:
    name: str
    clusters: int
    topics: int
    partitions: int  # fleet-wide target for the sum of partition counts
    consumer_groups: int
    days: int = 30
    services: int | None = None  # services owning the groups; None: one group per service
    median_topic_bytes_per_second: float = 6_000.0
    seed: int = 42
    # Shares of planted waste and of special topics, by topic count.
    idle_share: float = 0.08
    dlq_share: float = 0.04
    over_partitioned_share: float = 0.05
    over_retained_share: float = 0.08
    compacted_share: float = 0.06
    uncompressed_share: float = 0.15
    abandoned_group_share: float = 0.10
    tiered_share: float = 0.03
    # `kafka`: brokers the operator runs (self-managed or MSK); `confluent_cloud`: Confluent
    # Cloud clusters (Standard, Dedicated, Freight) with service accounts per service.
    platform: str = "kafka"

    def with_seed(self, seed: int) -> FleetSpec:
        return replace(self, seed=seed)


PRESETS: dict[str, FleetSpec] = {
    "tiny": FleetSpec("tiny", clusters=1, topics=40, partitions=240, consumer_groups=12, days=14),
    "small": FleetSpec("small", clusters=3, topics=300, partitions=3_000, consumer_groups=80),
    "wix": FleetSpec("wix", clusters=12, topics=50_000, partitions=500_000,
                     consumer_groups=10_000, services=2_200,
                     median_topic_bytes_per_second=2_400.0),
    "confluent": FleetSpec("confluent", clusters=3, topics=400, partitions=3_000,
                           consumer_groups=150, days=14, services=60, tiered_share=0.0,
                           platform="confluent_cloud"),
    "huge": FleetSpec("huge", clusters=40, topics=100_000, partitions=1_000_000,
                      consumer_groups=20_000),
}


def preset(name: str) -> FleetSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown fleet preset {name!r} (presets: {', '.join(PRESETS)})") from None
