"""Which consumer reads stay in their zone, measured from the brokers' own counters.

Kafka does not say which zone a consumer sits in, nor which replica served it. What it does
say, per broker: the bytes each topic's consumers fetched from it (`BytesOutPerSec{topic}`),
the bytes producers wrote to the partitions it leads (`BytesInPerSec{topic}`), and, through
the Admin API, the leader of every partition and the brokers' `replica.selector.class`.

Readers of a topic are of two kinds. Those without `client.rack` (or on brokers without the
rack-aware selector) fetch every partition from its leader: a zone's brokers serve them in
proportion to the zone's leader share `w_z` (its share of the topic's bytes in). Those with
`client.rack`, on brokers with the selector, fetch every partition from the replica in their
own zone, leader or follower: all from their zone's brokers. So, per zone,

    out_z = L × w_z + R_z

with `L` the leader readers' bytes and `R_z` the rack-aware readers' bytes in zone z. A zone
that leads none of the topic's partitions serves rack-aware readers only (`w_z = 0`), which is
the plainest case: bytes out of a broker that leads nothing of a topic were fetched from a
follower. In general `L` is the largest value every zone can pay for, `min_z out_z / w_z`
(capped at the topic's bytes out); the rest, `Σ_z R_z`, was read in-zone. This is exact
whenever at least one zone leading partitions has no rack-aware reader of the topic; where
every zone has some, it is a lower bound on in-zone reads (an even rack-aware load looks like
leader reads), and consumer cross-zone bytes err on the high side.

Consumer cross-zone bytes then follow (`formulas.consumer_cross_zone_bytes_per_second`):
rack-aware reads cross nothing; leader reads cross with (Z-1)/Z, readers and leaders spread
evenly over the zones. Producer and replication bytes stay the formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from costopt.snapshot.cluster_snapshot import Broker, ClusterSnapshot, Topic, TopicBrokerTraffic


@dataclass(frozen=True)
class ZoneReads:
    """One topic's reads split by where they were served from."""

    topic: str
    bytes_out_per_second: float  # all consumers, every broker
    leader_read_bytes_per_second: float  # read from leaders (cross with (Z-1)/Z)
    rack_aware_read_bytes_per_second: float  # read from the replica in the reader's zone

    @property
    def rack_aware_share(self) -> float:
        if self.bytes_out_per_second <= 0:
            return 0.0
        return min(self.rack_aware_read_bytes_per_second / self.bytes_out_per_second, 1.0)


def selector_is_rack_aware(selector: str | None) -> bool | None:
    """Whether the brokers' `replica.selector.class` lets consumers fetch from a follower in
    their zone: the rack-aware selector (or a custom one, which may), not none. None where the
    setting was not read."""
    if selector is None:
        return None
    return bool(selector.strip())


def zone_reads(traffic: Iterable[TopicBrokerTraffic], brokers: Iterable[Broker],
               leaders: Mapping[str, tuple[int, ...]], selector_on: bool
               ) -> dict[str, ZoneReads]:
    """Per topic with bytes out, its reads split into leader reads and in-zone reads (see the
    module's docstring). With the selector off, every read is a leader read: brokers do not
    serve consumers from followers then."""
    rack = {b.broker_id: b.rack or "" for b in brokers}
    by_topic: dict[str, list[TopicBrokerTraffic]] = {}
    for row in traffic:
        by_topic.setdefault(row.topic, []).append(row)
    out: dict[str, ZoneReads] = {}
    for topic, rows in by_topic.items():
        total_out = sum(max(r.bytes_out_per_second, 0.0) for r in rows)
        if total_out <= 0:
            continue
        if not selector_on:
            out[topic] = ZoneReads(topic, total_out, total_out, 0.0)
            continue
        zone_out: dict[str, float] = {}
        zone_in: dict[str, float] = {}
        for r in rows:
            zone = rack.get(r.broker_id, f"broker-{r.broker_id}")
            zone_out[zone] = zone_out.get(zone, 0.0) + max(r.bytes_out_per_second, 0.0)
            zone_in[zone] = zone_in.get(zone, 0.0) + max(r.bytes_in_per_second, 0.0)
        weights = _leader_weights(zone_in, leaders.get(topic, ()), rack)
        leader_reads = min((zone_out.get(z, 0.0) / w for z, w in weights.items() if w > 0),
                           default=total_out)
        leader_reads = min(leader_reads, total_out)
        out[topic] = ZoneReads(topic, total_out, leader_reads, total_out - leader_reads)
    return out


def _leader_weights(zone_in: Mapping[str, float], leaders: tuple[int, ...],
                    rack: Mapping[int, str]) -> dict[str, float]:
    """Each zone's share of the topic's leader traffic: its share of the bytes produced
    (producers write to leaders only), else its share of the partitions it leads."""
    produced = sum(zone_in.values())
    if produced > 0:
        return {zone: value / produced for zone, value in zone_in.items()}
    counts: dict[str, float] = {}
    for leader in leaders:
        if leader >= 0:
            zone = rack.get(leader, f"broker-{leader}")
            counts[zone] = counts.get(zone, 0.0) + 1.0
    led = sum(counts.values())
    return {zone: count / led for zone, count in counts.items()} if led else {}


def with_zone_reads(snapshot: ClusterSnapshot, selector_on: bool | None) -> ClusterSnapshot:
    """The snapshot with each topic's measured in-zone reads filled in, where the brokers span
    zones and whether they run a rack-aware selector is known: with it off, none (the brokers
    serve consumers from leaders only); with it on, from the brokers' traffic where it was
    measured. Elsewhere left unmeasured (None): the setting then decides, by formula."""
    if selector_on is None or snapshot.zones < 2:
        return snapshot
    reads = zone_reads(snapshot.broker_traffic, snapshot.brokers, snapshot.leaders,
                       selector_on)
    measured = {row.topic for row in snapshot.broker_traffic}

    def local(topic: Topic) -> float | None:
        if topic.name in reads:
            return reads[topic.name].rack_aware_share * topic.bytes_out_per_second
        if not selector_on or topic.bytes_out_per_second <= 0 or topic.name in measured:
            return 0.0
        return None

    topics = tuple(replace(t, rack_aware_read_bytes_per_second=local(t))
                   for t in snapshot.topics)
    return replace(snapshot, topics=topics)


def read_shares(snapshot: ClusterSnapshot) -> dict[str, dict[str, float]]:
    """Per consumer group, the share of each topic's bytes out it reads: by its measured reads
    where any reader of the topic is measured, else split evenly over the topic's groups with
    members (over all its groups where none has). What a group's `client.rack` moves in-zone."""
    by_topic: dict[str, list[tuple[str, float | None, int]]] = {}
    for group in snapshot.groups:
        by_topic.setdefault(group.topic, []).append(
            (group.group, group.bytes_out_per_second, group.members))
    shares: dict[str, dict[str, float]] = {}
    for topic, readers in by_topic.items():
        measured = sum(max(r or 0.0, 0.0) for _, r, _ in readers)
        if measured > 0:
            split = {g: max(r or 0.0, 0.0) / measured for g, r, _ in readers}
        else:
            live = [g for g, _, members in readers if members > 0] or [g for g, _, _ in readers]
            split = {g: 1.0 / len(live) if g in live else 0.0 for g, _, _ in readers}
        for name, share in split.items():
            shares.setdefault(name, {})[topic] = share
    return shares
