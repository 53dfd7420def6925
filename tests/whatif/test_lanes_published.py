"""Published lane figures, reproduced through the path a user's what-if takes: a cluster
snapshot with the published workload, costed at the built-in catalog, and `run_whatif` with
a `lane` change (what `POST /v1/whatif` calls).

Conventions, for every case here (they move results by a few percent, so they are stated):
- Prices: the built-in `aws-self-managed` catalog, us-east-1: cross-zone $0.02 per GB crossing
  ($0.01 out + $0.01 in), S3 $0.023/GB-month, PUT $0.005 and GET $0.0004 per 1,000. Its GB is
  2^30 bytes (AWS's usage reports count GB as GiB).
- A year is 12 months of 730 hours (8,760 h, 365 days).
- Three zones, brokers spread over them, RF 3; classic producers and consumers spread evenly
  over the zones, so (Z-1)/Z of their bytes cross.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from costopt.cost.allocation import allocate
from costopt.cost.cluster_model import ClusterModel
from costopt.prices.catalog import load_builtin_catalog
from costopt.snapshot.cluster_snapshot import Broker, ClusterSnapshot, Topic
from costopt.whatif import Change, Selector, run_whatif
from costopt.whatif.engine import WhatIfResult

GIB = 1024**3
MIB = 1024**2
NETWORK = ("network_replication", "network_producer", "network_consumer")


def _model(bytes_in: float, bytes_out: float, retention_ms: int, brokers: int,
           instance_type: str, disk_bytes: int, rack_aware_fetch: bool = False,
           local_retention_ms: int | None = None) -> dict[str, ClusterModel]:
    catalog = load_builtin_catalog("aws-self-managed")
    tiered = local_retention_ms is not None
    log_bytes = bytes_in * retention_ms / 1000
    local_bytes = bytes_in * local_retention_ms / 1000 if tiered else log_bytes
    snapshot = ClusterSnapshot(
        cluster="published", taken_at=datetime(2026, 12, 1, tzinfo=UTC), window_seconds=3600,
        brokers=tuple(Broker(broker_id=i, rack="abc"[i % 3], instance_type=instance_type,
                             disk_capacity_bytes=disk_bytes) for i in range(brokers)),
        topics=(Topic(name="workload", partitions=brokers * 32, replication_factor=3,
                      retention_ms=retention_ms, bytes_in_per_second=bytes_in,
                      bytes_out_per_second=bytes_out, remote_storage_enable=tiered,
                      local_retention_ms=local_retention_ms if tiered else -2,
                      log_size_bytes=int(local_bytes),
                      remote_log_size_bytes=int(log_bytes - local_bytes)),),
        rack_aware_fetch=rack_aware_fetch)
    return {"published": ClusterModel(snapshot, catalog, allocate(snapshot, catalog), {}, {})}


def _yearly(result: WhatIfResult, components: tuple[str, ...], projected: bool) -> float:
    side = result.projected_by_component if projected else result.baseline_by_component
    return float(sum(side[c].amount for c in components)) * 12


def test_aiven_cross_zone_transfer_removed_by_diskless() -> None:
    """Aiven, "Benchmarking Diskless Topics: Part 1" (aiven.io/blog/benchmarking-diskless-
    inkless-topics-part-1): 1 GiB/s in, 3 GiB/s out, 3 zones, RF 3; diskless "removes
    $3,088,272 a year of cross-AZ replication costs". Classic crosses 2/3 of produce, 2× the
    bytes in replication and 2/3 of the 3 GiB/s read (no follower fetching): 4.67 GiB/s.
    Diskless keeps the coordination traffic (1.4 MiB/s per GiB/s written, the catalog's
    default), which this figure is net of. Ours: $2.94M (GiB priced as GB), 4.7% under."""
    models = _model(1 * GIB, 3 * GIB, 86_400_000, 6, "m7g.4xlarge", 4096 * GIB)
    result = run_whatif(models, [Change(selector=Selector(all=True), lane="diskless")])
    removed = _yearly(result, NETWORK, projected=False) - _yearly(result, NETWORK, True)
    assert removed == pytest.approx(3_088_272, rel=0.05)
    # And nothing is left crossing zones but the coordination traffic.
    coordination = 1.4 * MIB * 730 * 3600 * 12 / GIB * 0.02
    assert _yearly(result, NETWORK, projected=True) == pytest.approx(coordination, rel=1e-6)


# AKalculator's published assumptions (2minutestreaming.com/apache-kafka-calculator/resources/
# assumptions/tldr), the classic napkin total's sizing rules: one vCPU handles 5 MiB/s of produce
# and 15 MiB/s of consume at the same time; tiered storage keeps 60 minutes locally; at most 50%
# of a disk is used; RF 3.
AKALC_PRODUCE_MIBPS_PER_VCPU = 5
AKALC_CONSUME_MIBPS_PER_VCPU = 15
AKALC_LOCAL_RETENTION_MS = 3_600_000
AKALC_MAX_DISK_USED = 0.5
NAPKIN_BROKERS = 6  # the write-up's diskless napkin: "a 6-broker Kafka cluster"
M7G_4XLARGE_VCPUS = 16  # AWS EC2 instance types: m7g.4xlarge has 16 vCPUs


def test_napkin_model_networking_removed_by_diskless() -> None:
    """The napkin model ("KIP-1150 vs Freight", topicpartition.io/blog/kip-1150-vs-freight):
    500 MB/s in (decimal), 1,500 MB/s out, 7 days retention; classic Kafka with tiered
    storage, fetch from follower and gp3; "the major cost drivers (800k in networking) are
    removed" by diskless. With follower fetching the reads cross nothing, so classic crosses 2/3
    of produce and 2× it in replication.

    The fleet and disks come from AKalculator's documented rules (above), not from the totals:
    6 brokers (the napkin's count) of 16 vCPUs cover the 95.4 vCPUs the vCPU rule asks for
    (500 MB/s is 476.8 MiB/s of produce, 1,430.5 MiB/s of consume); each disk holds its share of
    60 minutes × RF 3 at 50% use (1.8 TB).

    Its totals ($1,056,048 classic, about $190,000 diskless) are not asserted: the classic
    figure is an image of the calculator's output, and the stored copy of the napkin ends after
    its broker count and per-broker rate, so the compute line behind both is not in our
    sources. Line by line (docs/cost-model.md, "Lanes"): ours $904,807 classic and $117,712
    diskless; the gap is compute only."""
    produce_mibps, consume_mibps = 500e6 / MIB, 1500e6 / MIB
    vcpus_needed = max(produce_mibps / AKALC_PRODUCE_MIBPS_PER_VCPU,
                       consume_mibps / AKALC_CONSUME_MIBPS_PER_VCPU)
    assert vcpus_needed <= NAPKIN_BROKERS * M7G_4XLARGE_VCPUS
    local_bytes = 500e6 * AKALC_LOCAL_RETENTION_MS / 1000 * 3
    disk_bytes = int(local_bytes / AKALC_MAX_DISK_USED / NAPKIN_BROKERS)
    models = _model(500e6, 1500e6, 7 * 86_400_000, NAPKIN_BROKERS, "m7g.4xlarge", disk_bytes,
                    rack_aware_fetch=True, local_retention_ms=AKALC_LOCAL_RETENTION_MS)
    result = run_whatif(models, [Change(selector=Selector(all=True), lane="diskless")])
    removed = _yearly(result, NETWORK, projected=False) - _yearly(result, NETWORK, True)
    assert removed == pytest.approx(800_000, rel=0.05)
    # The gp3 line is the rule's disks at $0.08 per GiB-month.
    ebs = NAPKIN_BROKERS * disk_bytes / GIB * 0.08 * 12
    assert _yearly(result, ("storage_local",), projected=False) == pytest.approx(ebs, rel=1e-6)
    # What it pays instead, by hand: 7 days of 500 MB/s, one copy, at $0.023 per GiB-month;
    # a PUT per broker every 250 ms at $0.005 per 1,000; each of 3 zones GETs every object
    # once at $0.0004 per 1,000.
    stored = 500e6 * 7 * 86_400 / GIB * 0.023
    puts = NAPKIN_BROKERS * 4 * 730 * 3600
    expected = (stored + puts / 1000 * 0.005 + 3 * puts / 1000 * 0.0004) * 12
    assert _yearly(result, ("storage_tiered",), projected=True) == pytest.approx(
        expected, rel=1e-6)
