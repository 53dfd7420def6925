"""What-if changes: which topics (a selector) and what to set on them.

Every recommendation states its change in these terms, so its saving can be reproduced by
`POST /v1/whatif`. Validation happens here, once, so every caller (API, CLI, rules) refuses
the same bad input with the same message naming the field.

Changes come in three scopes:
- topic changes (retention, codec, partitions, RF, tiering, growth, deleting the topic, one
  shared read instead of many, the storage lane) act on the selected topics' rows;
- group changes (`delete_group`) act on the topics the selected group reads;
- cluster changes (`rack_aware_fetch`, brokers, disks, catalog, a Dedicated cluster's
  `cku_count`, and the cluster lanes `express` and `freight`) act on every selected cluster.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from costopt.base.compression_ratios import CODECS
from costopt.base.patterns import compile_pattern

MAX_RETENTION_MS = 100 * 365 * 86_400_000  # a century; beyond that is a typo
TOPIC_FIELDS = ("retention_ms", "compression", "partitions", "replication_factor",
                "tiered_storage", "local_retention_ms", "growth_pct", "delete_topic",
                "read_once", "lane")
GROUP_FIELDS = ("delete_group", "client_rack")
CLUSTER_FIELDS = ("rack_aware_fetch", "broker_count", "broker_type", "broker_disk_bytes",
                  "catalog", "cku_count")
CAPACITY_FIELDS = ("broker_count", "broker_type", "broker_disk_bytes", "catalog", "cku_count")
# Storage lanes (docs/cost-model.md, "Lanes"): per topic, or a whole cluster's offering.
TOPIC_LANES = ("classic", "tiered", "diskless")
CLUSTER_LANES = ("express", "freight")
Lane = Literal["classic", "tiered", "diskless", "express", "freight"]


class Selector(BaseModel):
    """All given fields must match. `pattern` is a regular expression over the topic name, in
    RE2's linear-time subset (`costopt/base/patterns.py`); `group` selects the topics that
    consumer group reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    cluster: str | None = Field(None, min_length=1, max_length=255)
    topic: str | None = Field(None, min_length=1, max_length=512)
    pattern: str | None = Field(None, min_length=1, max_length=512)
    owner: str | None = Field(None, min_length=1, max_length=255)
    group: str | None = Field(None, min_length=1, max_length=512)
    all: bool = Field(False, description="select every topic (must be explicit)")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            compile_pattern(value)  # PatternError (a ValueError) names what is wrong
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Selector:
        if not self.all and not any((self.cluster, self.topic, self.pattern, self.owner,
                                     self.group)):
            raise ValueError("an empty selector matches nothing; give cluster, topic, pattern, "
                             "owner or group, or set all: true")
        return self

    @property
    def selects_topics_only_by_cluster(self) -> bool:
        return not any((self.topic, self.pattern, self.owner, self.group))


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    selector: Selector
    retention_ms: int | None = Field(
        None, description="new retention.ms; -1 keeps data forever")
    compression: Literal["none", "gzip", "snappy", "lz4", "zstd"] | None = None
    partitions: int | None = Field(None, ge=1, le=100_000)
    replication_factor: int | None = Field(None, ge=1, le=10)
    tiered_storage: bool | None = None
    local_retention_ms: int | None = Field(None, ge=60_000, le=MAX_RETENTION_MS)
    growth_pct: float | None = Field(None, gt=-100, le=100_000, allow_inf_nan=False)
    delete_topic: bool | None = Field(
        None, description="delete the selected topics: they stop using anything")
    read_once: bool | None = Field(
        None, description="the topics' consumer groups are served by one shared read (a "
        "shared consumer or push proxy): bytes out fall to one read of bytes in")
    delete_group: bool | None = Field(
        None, description="delete the consumer group named by selector.group: its reads stop")
    client_rack: bool | None = Field(
        None, description="the consumer group named by selector.group sets client.rack to its "
        "zone: its reads are served in-zone (brokers with the rack-aware selector, KIP-392)")
    rack_aware_fetch: bool | None = Field(
        None, description="consumers fetch from a replica in their own zone (KIP-392)")
    broker_count: int | None = Field(None, ge=1, le=10_000)
    broker_type: str | None = Field(None, min_length=1, max_length=128)
    broker_disk_bytes: int | None = Field(
        None, ge=1024**3, le=1024**5, description="disk (volume) size of every broker")
    catalog: str | None = Field(None, min_length=1, max_length=512)
    lane: Lane | None = Field(
        None, description="the storage lane: per topic `classic` (local disks, replicated), "
        "`tiered` (KIP-405, as tiered_storage: true) or `diskless` (KIP-1150: one copy on "
        "object storage); per cluster `express` (MSK Express brokers) or `freight` "
        "(Confluent Freight)")
    cku_count: int | None = Field(
        None, ge=1, le=10_000, description="CKUs a Confluent Cloud Dedicated cluster is "
        "provisioned with (its catalog's provisioned_units); refused on any other cluster")

    @field_validator("retention_ms")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        if value is not None and value != -1 and not 60_000 <= value <= MAX_RETENTION_MS:
            raise ValueError(f"must be -1 (forever) or between 60000 (1 minute) and "
                             f"{MAX_RETENTION_MS} (100 years)")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> Change:
        fields = (*TOPIC_FIELDS, *GROUP_FIELDS, *CLUSTER_FIELDS)
        if all(getattr(self, name) is None for name in fields):
            raise ValueError(f"a change must set at least one of: {', '.join(fields)}")
        if self.delete_group and self.selector.group is None:
            raise ValueError("delete_group needs selector.group naming the group")
        if self.client_rack and self.selector.group is None:
            raise ValueError("client_rack needs selector.group naming the group")
        if self.delete_topic is False or self.delete_group is False or self.read_once is False \
                or self.client_rack is False:
            raise ValueError("delete_topic, delete_group, read_once and client_rack can only "
                             "be true")
        if (self.lane == "tiered" and self.tiered_storage is False) or (
                self.lane in ("classic", "diskless") and self.tiered_storage):
            raise ValueError(f"lane {self.lane!r} contradicts tiered_storage: "
                             f"{self.tiered_storage}")
        scoped = [name for name in (*CLUSTER_FIELDS,) if getattr(self, name) is not None]
        if self.lane in CLUSTER_LANES:
            scoped.append("lane")
        if scoped and not self.selector.selects_topics_only_by_cluster:
            raise ValueError(f"{', '.join(scoped)} change a whole cluster: select it by "
                             "cluster (or all: true), not by topic, pattern, owner or group")
        return self

    @property
    def touches_capacity(self) -> bool:
        return (any(getattr(self, name) is not None for name in CAPACITY_FIELDS)
                or self.lane in CLUSTER_LANES)

    @property
    def touches_cluster(self) -> bool:
        """Changes the cluster's prices, zones' use or capacity, not only selected rows."""
        return (any(getattr(self, name) is not None for name in CLUSTER_FIELDS)
                or self.lane in CLUSTER_LANES)

    @property
    def touches_topics(self) -> bool:
        return any(getattr(self, name) is not None for name in (*TOPIC_FIELDS, *GROUP_FIELDS))

    def applies_to(self, cluster: str) -> bool:
        return self.selector.cluster in (None, cluster)


assert set(CODECS) == {"none", "gzip", "snappy", "lz4", "zstd"}
