"""Broker sizing an SRE would sign: how many brokers, and how large their disks, a cluster
needs for its busy moments, its growth over a horizon, and the loss of a zone.

- Disk: the `percentile` (p95) of the cluster's stored bytes over the window relative to now,
  grown by each topic's measured growth over `horizon_days` (as the what-if engine grows it), must
  fit in `max_disk_fill` of the disks that survive losing a zone (or N brokers, in one zone).
- CPU: the brokers' measured CPU, scaled by the load after any changes, by the p95 of hourly
  throughput over its mean, and by throughput growth, must stay under `max_cpu` on the
  surviving brokers.
- Partition replicas per broker stay under `max_partition_replicas_per_broker`.
- Never fewer brokers than the largest replication factor, nor than min.insync.replicas + 1;
  counts are whole multiples of the zone count, so racks stay balanced.
- Where disks can be resized, the volume follows what the brokers need, in `volume_step_gib`
  steps: self-managed block storage shrinks (a rolling volume swap) or grows; MSK storage only
  grows; on-premises disks stay. Short of disk only, larger volumes come before more brokers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from costopt.cost import formulas
from costopt.cost.allocation import local_stored_bytes
from costopt.cost.cluster_model import ClusterModel
from costopt.rules.base import GIB
from costopt.rules.history import History

DEFAULTS: dict[str, Any] = {
    "percentile": 0.95,
    "horizon_days": 90,
    "max_disk_fill": 0.85,
    "max_cpu": 0.7,
    "max_partition_replicas_per_broker": 4000,
    "survive_zone_loss": True,
    "survive_broker_loss": 1,  # where there is one zone, or survive_zone_loss is off
    "volume_step_gib": 128,
}
RESOURCES = ("disk", "cpu", "partitions", "replication", "min_insync")
MAX_VOLUME_BYTES = 16 * 1024**4  # the largest EBS gp3 / MSK broker volume


@dataclass(frozen=True)
class Sizing:
    cluster: str
    zones: int
    current_brokers: int
    current_disk_bytes: int  # per broker
    proposed_brokers: int
    proposed_disk_bytes: int
    brokers_needed: dict[str, int]  # per resource, at today's disk size
    disk_need_bytes: float  # at the horizon, at the percentile, overhead included
    cpu_need_brokers: float | None  # broker-equivalents of CPU at the limit
    disk_growth_per_day: float
    volume_resizable: bool

    @property
    def binding(self) -> str:
        """The resource that sets the count (the first of equals, in RESOURCES order)."""
        most = max(self.brokers_needed.values())
        return next(k for k in RESOURCES if self.brokers_needed.get(k) == most)

    @property
    def changed(self) -> bool:
        return (self.proposed_brokers, self.proposed_disk_bytes) != (
            self.current_brokers, self.current_disk_bytes)

    def surviving(self, brokers: int, settings: Mapping[str, Any]) -> float:
        return surviving_brokers(brokers, self.zones, settings)

    def disk_fill_after_loss(self, settings: Mapping[str, Any]) -> float:
        usable = self.surviving(self.proposed_brokers, settings) * self.proposed_disk_bytes
        return self.disk_need_bytes / usable if usable else math.inf


def surviving_brokers(brokers: int, zones: int, settings: Mapping[str, Any]) -> float:
    if settings["survive_zone_loss"] and zones > 1:
        return brokers * (zones - 1) / zones
    return float(max(brokers - int(settings["survive_broker_loss"]), 1))


def _smallest_count(need: float, zones: int, settings: Mapping[str, Any]) -> int:
    """The smallest whole-zone broker count whose survivors hold `need` (in brokers)."""
    count = zones
    while surviving_brokers(count, zones, settings) < need - 1e-9 and count < 100_000:
        count += zones
    return count


def size_cluster(model: ClusterModel, history: History, settings: Mapping[str, Any],
                 columns: Mapping[str, np.ndarray] | None = None) -> Sizing:
    """The sizing of `model`'s cluster for its topics as in `columns` (default: as they are:
    the savings plan passes the columns after its topic changes)."""
    columns = columns if columns is not None else model.columns
    brokers = model.snapshot.brokers
    zones = model.snapshot.zones
    horizon = float(settings["horizon_days"])
    disk_each = max(b.disk_capacity_bytes for b in brokers)
    # The what-if engine's growth model (each topic's measured rate, capped at 100×), so a
    # sizing holds under the engine's own projection of the horizon.
    growth = np.exp(np.minimum(model.growth * horizon, np.log(100.0)))
    stored = local_stored_bytes(columns)
    measured = [b.disk_used_bytes for b in brokers if b.disk_used_bytes is not None]
    overhead = max(float(sum(measured)) - float(local_stored_bytes(model.columns).sum()), 0.0) \
        if measured else 0.0
    disk_peak = history.percentile_ratio("log_size_bytes", settings["percentile"], 86_400,
                                         reference="last")
    disk_need = float((stored * growth).sum()) * disk_peak + overhead
    total_stored = float(stored.sum())
    disk_growth = (math.log(float((stored * growth).sum()) / total_stored) / horizon
                   if total_stored > 0 else 0.0)
    fill = float(settings["max_disk_fill"])
    needs = {"disk": _smallest_count(disk_need / (disk_each * fill), zones, settings)}
    cpu_need = _cpu_need(model, history, settings, columns, growth)
    if cpu_need is not None:
        needs["cpu"] = _smallest_count(cpu_need, zones, settings)
    replicas = float((columns["partitions"] * columns["replication_factor"]).sum())
    needs["partitions"] = math.ceil(
        replicas / settings["max_partition_replicas_per_broker"] / zones) * zones
    live = [t for t in model.snapshot.topics
            if t.partitions > 0 and t.min_insync_replicas < len(brokers)]
    # A replication factor above today's broker count is a data error (flagged as a risk),
    # not a need.
    placeable = [int(rf) for rf, p in zip(columns["replication_factor"], columns["partitions"],
                                          strict=True) if p > 0 and rf <= len(brokers)]
    needs["replication"] = math.ceil(max(placeable or [1]) / zones) * zones
    needs["min_insync"] = math.ceil(
        max([t.min_insync_replicas + 1 for t in live] or [1]) / zones) * zones
    others = max(v for k, v in needs.items() if k != "disk")
    proposed = max(needs.values())
    volume = disk_each
    step = int(settings["volume_step_gib"]) * GIB
    kind = model.catalog.kind
    provisioned = model.catalog.storage_billing == "provisioned"
    can_shrink = provisioned and kind == "self_managed"
    can_grow = provisioned and kind in ("self_managed", "msk")
    if needs["disk"] > max(others, len(brokers)) and can_grow:
        # Short of disk only: larger volumes cost less than brokers bought for their disks.
        proposed = max(others, len(brokers))
        wanted = disk_need / (surviving_brokers(proposed, zones, settings) * fill)
        volume = math.ceil(wanted / step) * step
        if volume > MAX_VOLUME_BYTES:
            volume = MAX_VOLUME_BYTES
            proposed = max(proposed, _smallest_count(disk_need / (volume * fill), zones,
                                                     settings))
    elif can_shrink:
        wanted = disk_need / (surviving_brokers(proposed, zones, settings) * fill)
        candidate = max(step, math.ceil(wanted / step) * step)
        if candidate < disk_each * 0.9:
            volume = candidate
    return Sizing(model.cluster, zones, len(brokers), disk_each, proposed, volume, needs,
                  disk_need, cpu_need, disk_growth, can_shrink or can_grow)


def _cpu_need(model: ClusterModel, history: History, settings: Mapping[str, Any],
              columns: Mapping[str, np.ndarray], growth: np.ndarray) -> float | None:
    """Broker-equivalents of CPU the cluster needs at the limit, or None where no broker
    reports CPU."""
    cpu = [b.cpu_utilisation for b in model.snapshot.brokers if b.cpu_utilisation is not None]
    if not cpu:
        return None
    cpu_in_use = float(np.mean(cpu)) * len(model.snapshot.brokers)
    basis = model.cost.basis
    throughput = columns["bytes_in_per_second"] + columns["bytes_out_per_second"]
    load = float(formulas.compute_share(
        throughput, columns["partitions"] * columns["replication_factor"],
        basis.throughput_total, basis.partition_replicas_total, basis.weight_throughput,
        basis.weight_partitions).sum()) if (basis.throughput_total or
                                           basis.partition_replicas_total) else 1.0
    total = float(throughput.sum())
    throughput_growth = float((throughput * growth).sum()) / total if total > 0 else 1.0
    peak = history.percentile_ratio("throughput", settings["percentile"], 3600)
    return cpu_in_use * load * throughput_growth * peak / float(settings["max_cpu"])


def runway_days(sizing: Sizing, settings: Mapping[str, Any]) -> int | None:
    """Days until today's disks, less a lost zone, pass the fill limit at the measured growth
    (None: not within ten years, 0: already past)."""
    usable = (surviving_brokers(sizing.current_brokers, sizing.zones, settings)
              * sizing.current_disk_bytes * float(settings["max_disk_fill"]))
    horizon = float(settings["horizon_days"])
    now = sizing.disk_need_bytes / math.exp(sizing.disk_growth_per_day * horizon)
    if now >= usable:
        return 0
    if sizing.disk_growth_per_day <= 0:
        return None
    days = math.log(usable / now) / sizing.disk_growth_per_day
    return int(days) if days < 3650 else None
