"""Writing topic configs through the Admin API's incremental config alteration (KIP-339).

The only module that writes to a cluster, and only what `costopt apply` was told to: each
topic's named configs are set (or, to restore "not set", deleted); every other config of the
topic stays as it is, which a whole-config `AlterConfigs` would not guarantee.
"""

from __future__ import annotations

from collections.abc import Mapping

from confluent_kafka import KafkaException
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource

from costopt.config import ClusterSettings
from costopt.sources.kafka.admin import KafkaAdminSource


def alter_topic_configs(source: KafkaAdminSource,
                        changes: Mapping[str, Mapping[str, str | None]]) -> dict[str, str | None]:
    """Set each topic's configs (None: delete the override); per topic, None when the brokers
    took the change, else why they refused it."""
    resources = [ConfigResource(ConfigResource.Type.TOPIC, topic, incremental_configs=[
        ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
        if value is not None else
        ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE)
        for key, value in configs.items()]) for topic, configs in changes.items()]
    if not resources:
        return {}
    futures = source.admin.incremental_alter_configs(resources,
                                                     request_timeout=source.timeout)
    outcome: dict[str, str | None] = {}
    for resource, future in futures.items():
        try:
            future.result(timeout=source.timeout)
            outcome[resource.name] = None
        except KafkaException as exc:
            error = exc.args[0] if exc.args else exc
            outcome[resource.name] = error.str() if hasattr(error, "str") else str(error)
    return outcome


class AdminConfigAccess:
    """One cluster's topic configs through the Admin API: what `costopt apply` reads and
    writes."""

    def __init__(self, cluster: ClusterSettings) -> None:
        self.source = KafkaAdminSource(cluster)

    def read(self, topics: list[str]) -> dict[str, dict[str, str]]:
        return self.source.topic_configs(topics)

    def write(self, changes: Mapping[str, Mapping[str, str | None]]) -> dict[str, str | None]:
        return alter_topic_configs(self.source, changes)
