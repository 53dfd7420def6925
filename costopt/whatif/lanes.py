"""Which lane a cluster's offering can take, and what a cluster lane changes.

Topic lanes (`classic`, `tiered`, `diskless`) change the topics' rows (`apply.py`); the
cluster lanes change the offering: `express` moves an MSK cluster onto Express brokers (the
`aws-msk-express` catalog: a charge per GB written, pay-as-you-go storage of one copy, no
provisioned volume, RF fixed at 3), `freight` moves a Confluent Cloud cluster onto Freight
eCKUs. A lane is refused, naming the cluster, where the offering has no such lane, and Freight
is priced only from a price line whose mark names its source (`verified: ...` or
`unverified: <source>`): Confluent's Freight rate is not public, and a stand-in price would be
a made-up saving.
"""

from __future__ import annotations

from costopt.base.errors import InvalidInput
from costopt.prices.catalog import UNVERIFIED, PriceCatalog, line_marks
from costopt.snapshot.cluster_snapshot import Broker
from costopt.whatif.changes import Change

# Where diskless topics run today: brokers you run (Apache Kafka with KIP-1150, Aiven's
# Inkless). Managed offerings have no diskless topic of their own (Confluent's answer is
# Freight, AWS's is Express), so the lane is refused there.
DISKLESS_KINDS = ("self_managed",)
EXPRESS_CATALOG = "aws-msk-express"
EXPRESS_FAMILY = "express.m7g."  # Express brokers come in one family
EXPRESS_SMALLEST = "express.m7g.large"
EXPRESS_SIZES = ("large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")
FREIGHT_UNIT = "eCKU.freight"


def check_lane(cluster: str, catalog: PriceCatalog, change: Change) -> None:
    """Refuse a lane the cluster's offering does not have, saying which offerings do."""
    lane = change.lane
    if lane == "diskless" and catalog.kind not in DISKLESS_KINDS:
        raise InvalidInput(f"lane: cluster {cluster!r} runs on {catalog.kind}, which has no "
                           "diskless topics; diskless (KIP-1150) needs brokers you run "
                           "(self_managed); on MSK try lane express, on Confluent freight")
    if lane == "express" and catalog.kind not in ("msk", "msk_express"):
        raise InvalidInput(f"lane: cluster {cluster!r} is not on Amazon MSK ({catalog.kind}): "
                           "express is an MSK broker type")
    if lane == "freight" and catalog.kind != "confluent_cloud":
        raise InvalidInput(f"lane: cluster {cluster!r} is not on Confluent Cloud "
                           f"({catalog.kind}): freight is a Confluent Cloud cluster type")


def express_type(instance_type: str) -> str:
    """The Express broker of the same size (kafka.m5.2xlarge → express.m7g.2xlarge)."""
    size = instance_type.rsplit(".", 1)[-1]
    return EXPRESS_FAMILY + size if size in EXPRESS_SIZES else EXPRESS_SMALLEST


NOT_SOURCED = ("not sourced", "no source", "stand-in", "stands in")


def freight_price_source(catalog: PriceCatalog) -> str | None:
    """Where the Freight eCKU price comes from (its line's mark: verified against the vendor,
    or `unverified: <source>`), or None where it could not be sourced (no mark naming a source,
    or one saying it is a stand-in)."""
    mark = line_marks(catalog).get(f"compute_per_hour[{FREIGHT_UNIT}]")
    if mark is None or mark == UNVERIFIED or any(word in mark.lower() for word in NOT_SOURCED):
        return None
    return mark


def cluster_lane_change(cluster: str, catalog: PriceCatalog, brokers: tuple[Broker, ...],
                        change: Change) -> Change:
    """A cluster lane as the capacity change it is: catalog and broker type (a broker type
    or count given with it wins)."""
    check_lane(cluster, catalog, change)
    if change.lane == "express":
        return change.model_copy(update={
            "lane": None, "catalog": change.catalog or EXPRESS_CATALOG,
            "broker_type": change.broker_type or express_type(brokers[0].instance_type)})
    if freight_price_source(catalog) is None:
        raise InvalidInput(
            f"lane: a price for Confluent Freight could not be sourced: catalog "
            f"{catalog.name!r} names no source for compute_per_hour[{FREIGHT_UNIT}] (no public "
            "Freight eCKU rate was found); put your contract's rate in your own catalog, its "
            "mark naming where it comes from, to price it")
    return change.model_copy(update={"lane": None, "broker_type": FREIGHT_UNIT})
