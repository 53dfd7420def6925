"""Every cost formula in costopt, in one place, with units in the names.

Inputs are numpy arrays (one element per topic) or scalars, so the same formula serves a single
topic in a test and 50,000 topics in one vectorised pass. Results are amounts of money per month
as floats; `allocation.py` turns them into exact integer micro-units before anything is summed.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeVar

import numpy as np
import numpy.typing as npt

HOURS_PER_MONTH = 730.0  # 8,760 h / 12, the cloud billing convention
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600.0

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Number = TypeVar("Number", float, FloatArray)


def bytes_per_month(bytes_per_second: Number) -> Number:
    return bytes_per_second * SECONDS_PER_MONTH


def stored_bytes(log_size_bytes: Number, replication_factor: Number,
                 counts_replicas: bool) -> Number:
    """Bytes billed as storage: every replica on broker disks, or one copy where the vendor
    bills logical bytes (Confluent Cloud)."""
    return log_size_bytes * replication_factor if counts_replicas else log_size_bytes * 1.0


def storage_cost_per_month(stored_bytes: Number, price_per_gb_month: float,
                           gb_bytes: int) -> Number:
    return stored_bytes / gb_bytes * price_per_gb_month


def transfer_cost_per_month(bytes_per_second: Number, price_per_gb: float,
                            gb_bytes: int) -> Number:
    return bytes_per_month(bytes_per_second) / gb_bytes * price_per_gb


def compute_cost_per_month(price_per_hour: float) -> float:
    return price_per_hour * HOURS_PER_MONTH


def partition_cost_per_month(partitions: Number, price_per_partition_hour: float) -> Number:
    return partitions * price_per_partition_hour * HOURS_PER_MONTH


def throughput_fee_share_per_month(disk_write_bytes_per_second: Number,
                                   disk_write_total_bytes_per_second: float,
                                   throughput_fee_per_month: float) -> Number:
    """A topic's share of the provisioned disk-throughput fee (EBS gp3 above the included
    MiB/s), by its share of the cluster's disk writes (bytes in × RF)."""
    if disk_write_total_bytes_per_second <= 0 or throughput_fee_per_month <= 0:
        return disk_write_bytes_per_second * 0.0
    return (disk_write_bytes_per_second / disk_write_total_bytes_per_second
            * throughput_fee_per_month)


def compute_weights(throughput_total: float, partition_replicas_total: float,
                    weight_throughput: float, weight_partitions: float) -> tuple[float, float]:
    """The throughput/partition weights of compute, all on the one that exists when the
    other is zero (a cluster with no traffic still pays for its partitions)."""
    if partition_replicas_total <= 0:
        return 1.0, 0.0
    if throughput_total <= 0:
        return 0.0, 1.0
    return weight_throughput, weight_partitions


def hourly_bill_per_month(price_per_hour: Decimal) -> Decimal:
    """An hourly price as a month's bill, exact (capacity bills are summed as decimals)."""
    return price_per_hour * Decimal(str(HOURS_PER_MONTH))


def disk_bill_per_month(capacity_bytes: int, gb_bytes: int,
                        price_per_gb_month: Decimal) -> Decimal:
    """Provisioned disk is billed on its size, whatever is stored on it."""
    return Decimal(capacity_bytes) / gb_bytes * price_per_gb_month


def tiered_disk_bill_per_month(capacity_bytes: int,
                               tiers: Sequence[tuple[int, Decimal]]) -> Decimal:
    """A disk sold in size tiers (Azure Premium SSD: P30 1 TiB, P40 2 TiB, ...) is billed as the
    smallest tier that holds it, whatever is stored on it. `tiers` are (size bytes, price per
    month), smallest first. Capacity beyond the largest tier is more disks: whole disks of the
    largest tier, and the smallest tier holding the rest."""
    largest_bytes, largest_price = tiers[-1]
    whole, rest = divmod(capacity_bytes, largest_bytes)
    bill = whole * largest_price
    if rest > 0:
        bill += next(price for size, price in tiers if size >= rest)
    return bill


def throughput_fee_per_month(provisioned_mibps: Decimal, included_mibps: Decimal,
                             price_per_mibps_month: Decimal) -> Decimal:
    """A volume's provisioned throughput above what its price includes (EBS gp3: 125 MiB/s)."""
    return max(Decimal(0), provisioned_mibps - included_mibps) * price_per_mibps_month


def compute_share(throughput_bytes_per_second: Number, partition_replicas: Number,
                  throughput_total: float, partition_replicas_total: float,
                  weight_throughput: float, weight_partitions: float) -> Number:
    """A topic's share of the brokers' used compute: a weighted mix of its share of the
    cluster's throughput (bytes in + out) and of its partition replicas. With every topic's
    share summed, 1 (at the totals the shares are taken against)."""
    throughput_share = (throughput_bytes_per_second / throughput_total if throughput_total
                        else throughput_bytes_per_second * 0.0)
    replica_share = (partition_replicas / partition_replicas_total if partition_replicas_total
                     else partition_replicas * 0.0)
    return weight_throughput * throughput_share + weight_partitions * replica_share


def cross_zone_client_share(zones: int) -> float:
    """Share of client bytes that cross a zone when clients and leaders are spread evenly."""
    return (zones - 1) / zones if zones > 1 else 0.0


def consumer_cross_zone_bytes_per_second(bytes_out_per_second: Number,
                                         rack_aware_read_share: Number,
                                         cross_zone_share: float) -> Number:
    """Consumer bytes that cross a zone. Reads by consumers fetching from the replica in their
    own zone (KIP-392, measured as a share of bytes out; NaN: not measured, none) cross
    nothing; the rest are served by leaders and cross with `cross_zone_share`, (Z-1)/Z when
    readers and leaders are spread evenly over the zones."""
    local = np.nan_to_num(rack_aware_read_share, nan=0.0)
    result: Number = bytes_out_per_second * (1.0 - local) * cross_zone_share
    return result


def replication_cross_zone_share(zones: int, replication_factor: Number) -> Number:
    """Share of follower fetch bytes that cross a zone.

    With rack-aware placement and at least as many zones as replicas, every follower sits in
    another zone than its leader (share 1). With fewer zones than replicas some followers share
    the leader's zone; we take the even-spread share (zones-1)/zones for those.
    """
    if zones <= 1:
        return replication_factor * 0.0
    even_spread = (zones - 1) / zones
    return np.where(replication_factor <= zones, 1.0, even_spread)  # type: ignore[return-value]


def replication_bytes_per_second(bytes_in_per_second: Number,
                                 replication_factor: Number) -> Number:
    result: Number = bytes_in_per_second * np.maximum(replication_factor - 1, 0)
    return result


def retained_bytes_estimate(bytes_in_per_second: Number, retention_ms: Number,
                            retention_bytes_per_partition: Number, partitions: Number) -> Number:
    """Bytes one replica keeps at steady state: rate × retention time, capped by
    retention.bytes per partition. -1 means no limit on either."""
    by_time = np.where(retention_ms < 0, np.inf, bytes_in_per_second * retention_ms / 1000.0)
    by_size = np.where(retention_bytes_per_partition < 0, np.inf,
                       retention_bytes_per_partition * partitions)
    return np.minimum(by_time, by_size)  # type: ignore[return-value]


# A log at this share of its steady-state size or more has run for its retention at least once
# (rates move through the day, so a full log is rarely exactly rate × retention).
STEADY_STATE_SHARE = 0.8


def log_bytes_after_retention_cut(log_bytes: FloatArray, bytes_in_per_second: FloatArray,
                                  old_retention_ms: FloatArray, new_retention_ms: FloatArray,
                                  retention_bytes_per_partition: FloatArray,
                                  partitions: FloatArray
                                  ) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """What one replica's log keeps when its time limit goes from `old_retention_ms` to a
    shorter `new_retention_ms` (a retention cut, or the local part of tiering), per topic:
    (bytes kept, bytes freed at steady state, bytes freed now, whether the log has run for its
    retention).

    - At steady state the cut frees the difference of `retained_bytes_estimate` before and
      after, capped by retention.bytes per partition: where the size limit binds, a shorter
      time limit frees nothing.
    - Now it frees the bytes older than the new limit and within the current limits: the log
      (up to its steady-state size) less what the rate wrote within the new limit, capped by
      the size limit too. A log younger than the new limit frees nothing now.
    - The bytes kept are the steady state's only where the log has run for its retention at
      least once (it holds `STEADY_STATE_SHARE` of its steady-state size or more); else now's.
    """
    log = np.asarray(log_bytes, dtype=np.float64)
    rate = np.asarray(bytes_in_per_second, dtype=np.float64)
    cap = np.asarray(retention_bytes_per_partition, dtype=np.float64)
    parts = np.asarray(partitions, dtype=np.float64)
    before = retained_bytes_estimate(rate, np.asarray(old_retention_ms, dtype=np.float64), cap,
                                     parts)
    after = retained_bytes_estimate(rate, np.asarray(new_retention_ms, dtype=np.float64), cap,
                                    parts)
    finite = np.isfinite(before)
    steady_freed = np.where(finite, np.maximum(np.where(finite, before, 0.0)
                                               - np.where(np.isfinite(after), after, 0.0),
                                               0.0), 0.0)
    # Older than the new limit, within the current one (bytes past a size limit already go).
    newer = np.minimum(log, after)  # after is rate × new limit, capped by the size limit
    now_freed: FloatArray = np.maximum(np.minimum(log, before) - newer, 0.0)
    ran_full = finite & (before > 0) & (log >= STEADY_STATE_SHARE * np.where(finite, before,
                                                                              0.0))
    kept: FloatArray = np.where(ran_full, np.maximum(log - steady_freed, 0.0),
                                log - now_freed)
    steady: FloatArray = np.asarray(steady_freed, dtype=np.float64)
    full: BoolArray = np.asarray(ran_full, dtype=bool)
    return kept, steady, now_freed, full


def object_requests_per_month(tiered_bytes_in_per_second: Number, segment_bytes: Number,
                              objects_per_segment: int) -> Number:
    """PUT requests tiering makes: every closed segment of one copy (the leader's) is copied
    with its indexes and snapshots, `objects_per_segment` objects in all (KIP-405)."""
    requests: Number = (bytes_per_month(tiered_bytes_in_per_second)
                        / np.maximum(segment_bytes, 1.0) * objects_per_segment)
    return requests


def request_cost_per_month(requests_per_month: Number, price_per_1000: float) -> Number:
    return requests_per_month / 1000.0 * price_per_1000


def remote_read_share(local_retention_ms: float, max_lag_seconds: float) -> float:
    """Share of a reader's bytes served from tiered storage: a reader up to `max_lag_seconds`
    behind reads what is older than the local retention from the remote tier, so a weekly
    batch over 24 h local retention reads 6/7 of a week remotely. Unknown lag: none."""
    if max_lag_seconds <= 0 or local_retention_ms < 0:
        return 0.0
    return max(0.0, 1.0 - local_retention_ms / (max_lag_seconds * 1000.0))


def elastic_units_needed(bytes_in_per_second: float, bytes_out_per_second: float,
                         partitions: float, ingress_per_unit: float, egress_per_unit: float,
                         partitions_per_unit: float, min_units: int) -> int:
    """Elastic capacity units (Confluent eCKUs) a month's average load keeps running: the
    most any one dimension needs, whole units, at least `min_units`."""
    needed = max(bytes_in_per_second / ingress_per_unit, bytes_out_per_second / egress_per_unit,
                 partitions / partitions_per_unit)
    return max(int(np.ceil(needed - 1e-9)), min_units)


def billed_units(units: int, free_units: int) -> int:
    """Units billed after the free ones (the first eCKU on Confluent Basic)."""
    return max(units - free_units, 0)


def fetch_compute_share(bytes_out_per_second: Number, throughput_total: float,
                        weight_throughput: float) -> Number:
    """The part of a topic's compute share its reads cause: the bytes-out half of the
    throughput term of `compute_share` (fetch load). Partition replicas and bytes in stay with
    the producing side."""
    if throughput_total <= 0:
        return bytes_out_per_second * 0.0
    return weight_throughput * bytes_out_per_second / throughput_total


def hours_in_period(seconds: float) -> float:
    """Billing hours of a period (a calendar month has 672 to 744)."""
    return seconds / 3600.0


def prorated_to_hours(monthly_amount: Number, hours: float) -> Number:
    """A monthly-rate amount (730 h) over a period of `hours`: what a calendar month of the
    same usage costs."""
    return monthly_amount * (hours / HOURS_PER_MONTH)


def bill_error_pct(estimate: float, billed: float) -> float | None:
    """How far the bill is from the estimate, signed, in percent of the estimate: +7.0 means
    the bill is 7% above what costopt estimated. None where nothing was estimated."""
    if estimate == 0:
        return None
    return (billed - estimate) / abs(estimate) * 100.0


def diskless_objects_per_month(brokers: float, batch_interval_ms: float) -> float:
    """Objects a diskless cluster writes in a month: each broker uploads what it buffered
    every batch interval (KIP-1150, Inkless; WarpStream's 250 ms default), one PUT each."""
    return brokers * SECONDS_PER_MONTH * 1000.0 / max(batch_interval_ms, 1.0)


def diskless_put_requests_per_month(bytes_in_per_second: Number, bytes_in_total: float,
                                    objects_per_month: float) -> Number:
    """A diskless topic's share of the cluster's object PUTs, by its share of the bytes
    written: objects mix every topic a broker received in the interval."""
    if bytes_in_total <= 0:
        return bytes_in_per_second * 0.0
    result: Number = bytes_in_per_second / bytes_in_total * objects_per_month
    return result


def diskless_get_requests_per_month(put_requests_per_month: Number, zones: int,
                                    cache_hit_share: float) -> Number:
    """GETs of a diskless topic's objects: each zone's brokers fetch every object once for
    the readers in that zone (they share the zone's cache), less the share found in cache."""
    result: Number = put_requests_per_month * max(zones, 1) * (1.0 - cache_hit_share)
    return result


def diskless_coordination_bytes_per_second(bytes_in_per_second: Number,
                                           coordination_share: float) -> Number:
    """Cross-zone bytes a diskless topic still causes (batch metadata to the coordinator and
    back): a share of the bytes written (Aiven measured 1.4 MiB/s per 1 GiB/s)."""
    result: Number = bytes_in_per_second * coordination_share
    return result


def units_per_month(rate_per_second: Number, unit_size: float) -> Number:
    """How many units (a million messages: 1e6; a GB: the catalog's `gb_bytes`) a rate per
    second adds up to over the 730-hour month."""
    return rate_per_second * SECONDS_PER_MONTH / unit_size


def cost_per_unit_micros(monthly_cost_micros: int, units_per_month: float) -> int | None:
    """The monthly cost over the month's units, in micro-units; None where there is nothing
    to divide by (a quotient over no traffic is not zero, it does not exist)."""
    if units_per_month <= 0:
        return None
    return round(monthly_cost_micros / units_per_month)
