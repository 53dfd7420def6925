"""Fleet sizes. `wix` is the published scale of a large Kafka user (2021: 20,000 topics,
200,000+ partitions); `huge` is five times that, for scaling checks."""

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

    def with_seed(self, seed: int) -> FleetSpec:
        return replace(self, seed=seed)


PRESETS: dict[str, FleetSpec] = {
    "tiny": FleetSpec("tiny", clusters=1, topics=40, partitions=240, consumer_groups=12, days=14),
    "small": FleetSpec("small", clusters=3, topics=300, partitions=3_000, consumer_groups=80),
    "wix": FleetSpec("wix", clusters=12, topics=20_000, partitions=200_000,
                     consumer_groups=4_000),
    "huge": FleetSpec("huge", clusters=40, topics=100_000, partitions=1_000_000,
                      consumer_groups=20_000),
}


def preset(name: str) -> FleetSpec:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(
            f"unknown fleet preset {name!r} (presets: {', '.join(PRESETS)})") from None
