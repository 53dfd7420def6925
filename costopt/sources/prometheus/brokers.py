"""Each topic's bytes per broker: what tells which replica served a topic's readers.

Prometheus scrapes every broker's exporter as its own target (`instance`), so the brokers'
per-topic byte counters can be read apart. To know the rack a target's bytes came from, each
target is mapped to a broker id:

1. the id the broker itself exports: the JMX exporter rule for the `kafka.server:type=
   app-info,id=<broker id>` MBean gives `kafka_server_app_info_start_time_ms{broker_id}` on
   each target (the rule is in `tests/stack/jmx-exporter-kafka.yaml`; add it to yours);
2. else the target's host, where exactly one broker advertises that host (brokers on separate
   machines or pods, the exporter on another port of the same host).

A target that maps to no broker, or two targets mapping to one broker, and its bytes are left
out: the result is then incomplete and the caller measures nothing from it (`complete`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.queries import (
    BROKER_ID_OF_TARGET,
    BROKER_TOPIC_BYTES,
    BROKER_TOPIC_DIALECTS,
    render,
)

COLUMNS = ["topic", "broker_id", "bytes_in_per_second", "bytes_out_per_second"]


@dataclass(frozen=True)
class BrokerTopics:
    frame: pd.DataFrame  # COLUMNS: one row per topic × broker
    targets: dict[str, int]  # scrape target (instance) -> broker id
    unmapped: tuple[str, ...]  # targets with bytes that map to no single broker

    @property
    def complete(self) -> bool:
        return not self.unmapped and not self.frame.empty


def empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def target_brokers(client: PrometheusClient, sel: str, at: datetime, lookback_seconds: int,
                   brokers: Iterable[tuple[int, str]]) -> dict[str, int]:
    """Scrape target -> broker id: as each target says (app-info), else by unique host.
    `brokers` are (broker id, advertised host:port) pairs from the Admin API."""
    reported: dict[str, int] = {}
    for item in client.instant(render(BROKER_ID_OF_TARGET, sel=sel,
                                      lookback_seconds=lookback_seconds), at):
        labels = item["metric"]
        try:
            reported[labels["instance"]] = int(labels["broker_id"])
        except (KeyError, ValueError):
            continue
    by_host: dict[str, list[int]] = {}
    for broker_id, address in brokers:
        by_host.setdefault(address.rsplit(":", 1)[0], []).append(broker_id)
    return {**{host: ids[0] for host, ids in by_host.items() if len(ids) == 1}, **reported}


def broker_topic_bytes(client: PrometheusClient, sel: str, dialect: str, at: datetime,
                       window_seconds: int, lookback_seconds: int,
                       brokers: Iterable[tuple[int, str]]) -> BrokerTopics:
    """Bytes in and out per topic × broker over the window, for the JMX dialects."""
    if dialect not in BROKER_TOPIC_DIALECTS:
        return BrokerTopics(empty(), {}, ())
    mapping = target_brokers(client, sel, at, lookback_seconds, list(brokers))
    values: dict[tuple[str, str], dict[str, float]] = {}
    for column, query in BROKER_TOPIC_BYTES.items():
        text = render(query, sel=sel, window_seconds=window_seconds,
                      lookback_seconds=lookback_seconds)
        for item in client.instant(text, at):
            labels = item["metric"]
            topic, instance = labels.get("topic", ""), labels.get("instance", "")
            if not topic:
                continue
            values.setdefault((instance, topic), {})[column] = float(item["value"][1])
    rows: list[dict[str, object]] = []
    unmapped: set[str] = set()
    seen: dict[int, str] = {}
    for (instance, topic), figures in values.items():
        broker = mapping.get(instance, mapping.get(instance.rsplit(":", 1)[0]))
        if broker is None or seen.setdefault(broker, instance) != instance:
            unmapped.add(instance)
            continue
        rows.append({"topic": topic, "broker_id": broker,
                     "bytes_in_per_second": figures.get("bytes_in_per_second", 0.0),
                     "bytes_out_per_second": figures.get("bytes_out_per_second", 0.0)})
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else empty()
    targets = {instance: broker for broker, instance in seen.items()}
    return BrokerTopics(frame, targets, tuple(sorted(unmapped)))
