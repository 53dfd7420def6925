"""Sample record payloads per simulated topic, so compression is measured on bytes, not assumed.

Three kinds, as found on real fleets: JSON events (repetitive keys, ids, timestamps, enums),
Avro-like binary (varints, short strings, no field names) and already-compressed blobs (images,
encrypted or pre-compressed data), which no codec shrinks further.
"""

from __future__ import annotations

import json
import zlib

import numpy as np

from costopt.simulate.fleet import Fleet, stable_seed

STATUSES = ("CREATED", "PENDING", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED")
COUNTRIES = ("US", "DE", "IL", "GB", "FR", "BR", "IN", "JP", "CA", "AU")
CURRENCIES = ("USD", "EUR", "ILS", "GBP", "BRL", "INR", "JPY")


def _json_record(rng: np.random.Generator, target_bytes: int, sequence: int) -> bytes:
    event: dict[str, object] = {
        "eventId": f"{rng.integers(0, 2**63):016x}-{rng.integers(0, 2**31):08x}",
        "eventType": str(rng.choice(STATUSES)),
        "timestamp": 1_764_000_000_000 + sequence * 137 + int(rng.integers(0, 50)),
        "userId": int(rng.integers(1, 5_000_000)),
        "country": str(rng.choice(COUNTRIES)),
        "currency": str(rng.choice(CURRENCIES)),
        "amount": round(float(rng.lognormal(3, 1)), 2),
        "source": {"service": "checkout-api", "version": "4.12.1",
                   "host": f"checkout-{rng.integers(1, 40)}"},
        "items": [],
    }
    # ~95 bytes per item once serialised: size the list in one go.
    count = max(0, (target_bytes - 330) // 95)
    skus = rng.integers(10_000, 99_999, size=count)
    quantities = rng.integers(1, 5, size=count)
    prices = np.round(rng.lognormal(2, 1, size=count), 2)
    event["items"] = [{"sku": f"SKU-{sku}", "quantity": int(q), "price": float(p),
                       "category": "apparel"} for sku, q, p in zip(skus, quantities, prices,
                                                                   strict=True)]
    return json.dumps(event, separators=(",", ":")).encode()


def _varint(value: int) -> bytes:
    value = (value << 1) ^ (value >> 63)  # zigzag, as Avro encodes longs
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _avro_record(rng: np.random.Generator, target_bytes: int, sequence: int) -> bytes:
    out = bytearray(_varint(1_764_000_000_000 + sequence * 137))
    fields = max(1, target_bytes // 22)  # one field group is ~22 bytes
    ids = rng.integers(0, 5_000_000, size=fields)
    statuses = rng.integers(0, len(STATUSES), size=fields)
    amounts = rng.integers(0, 100_000, size=fields)
    doubles = rng.bytes(8 * fields)
    for i in range(fields):
        status = STATUSES[statuses[i]].encode()
        out += _varint(int(ids[i])) + _varint(len(status)) + status + _varint(int(amounts[i]))
        out += doubles[8 * i:8 * i + 8]
    return bytes(out[:max(target_bytes, 16)])


def _blob_record(rng: np.random.Generator, target_bytes: int, _sequence: int) -> bytes:
    # Already-compressed content: compress random-ish text so it has a real deflate structure.
    raw = rng.bytes(target_bytes * 2)
    return zlib.compress(raw, 6)[:target_bytes]


BUILDERS = {"json": _json_record, "avro": _avro_record, "blob": _blob_record}


def sample_records(fleet: Fleet, cluster: str, topic: str, count: int = 200) -> list[bytes]:
    """`count` records of one topic, raw (before any producer compression), newest last."""
    rows = fleet.topics[(fleet.topics["cluster"] == cluster) & (fleet.topics["topic"] == topic)]
    if rows.empty:
        raise KeyError(f"unknown topic {topic!r} in simulated cluster {cluster!r}")
    row = rows.iloc[0]
    rng = np.random.default_rng(stable_seed(fleet.spec.seed, cluster, topic, "payload"))
    build = BUILDERS[str(row["payload_kind"])]
    target = int(row["raw_record_bytes"])
    return [build(rng, target, sequence) for sequence in range(count)]
