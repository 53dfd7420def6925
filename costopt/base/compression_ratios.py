"""Compression ratios measured on sampled records, batched the way Kafka producers batch them.

Kafka compresses a whole record batch (up to `batch.size`, 16 KiB by default), not single
records, and stores it with a 61-byte batch header and a small per-record header. Measuring on
batches matters: per-record compression of small JSON events is far worse than what the broker
actually stores.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import lz4.frame
import snappy
import zstandard

BATCH_HEADER_BYTES = 61
RECORD_OVERHEAD_BYTES = 12  # varint lengths, attributes, deltas, headers count (typical)
DEFAULT_BATCH_BYTES = 16_384
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")
# Used only when a topic has no samples: ratios of stored to raw bytes for JSON-like data,
# from published measurements (Conduktor docs); measured ratios always win.
DEFAULT_RATIOS = {"none": 1.0, "gzip": 0.25, "snappy": 0.32, "lz4": 0.35, "zstd": 0.28}



def _zstd(data: bytes) -> bytes:
    # A ZstdCompressor is not safe to share between threads (the API analyzes in several);
    # a new one per batch costs microseconds.
    return zstandard.ZstdCompressor(level=3).compress(data)


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "none": lambda data: data,
    "gzip": lambda data: gzip.compress(data, compresslevel=6, mtime=0),
    "snappy": snappy.compress,
    "lz4": lambda data: lz4.frame.compress(data),
    "zstd": _zstd,
}


@dataclass(frozen=True)
class CompressionEstimate:
    """Stored bytes per codec relative to uncompressed batches of the same records."""

    records: int
    raw_record_bytes: float  # mean payload size
    ratios: dict[str, float]  # codec -> stored bytes / uncompressed stored bytes

    def best_codec(self) -> str:
        return min(self.ratios, key=lambda codec: (self.ratios[codec], codec != "zstd"))


def _batches(records: Sequence[bytes], batch_bytes: int) -> list[bytes]:
    batches: list[bytes] = []
    current: list[bytes] = []
    size = 0
    for record in records:
        framed = len(record) + RECORD_OVERHEAD_BYTES
        if current and size + framed > batch_bytes:
            batches.append(b"".join(current))
            current, size = [], 0
        current.append(record)
        size += framed
    if current:
        batches.append(b"".join(current))
    return batches


def estimate(records: Sequence[bytes], batch_bytes: int = DEFAULT_BATCH_BYTES,
             codecs: Sequence[str] = CODECS) -> CompressionEstimate:
    if not records:
        raise ValueError("no sampled records to measure compression on")
    batches = _batches(records, batch_bytes)
    overhead = len(batches) * BATCH_HEADER_BYTES + len(records) * RECORD_OVERHEAD_BYTES
    uncompressed = sum(len(batch) for batch in batches) + overhead
    ratios = {}
    for codec in codecs:
        compress = COMPRESSORS[codec]
        if codec == "none":
            stored = uncompressed
        else:
            # Record headers are compressed with the records; approximate them as incompressible.
            stored = (sum(len(compress(batch)) for batch in batches)
                      + len(batches) * BATCH_HEADER_BYTES + len(records) * RECORD_OVERHEAD_BYTES)
        ratios[codec] = stored / uncompressed
    mean_raw = sum(len(record) for record in records) / len(records)
    return CompressionEstimate(len(records), mean_raw, ratios)


def estimates(samples: Mapping[str, Sequence[bytes]]) -> dict[str, CompressionEstimate]:
    """Each topic with sampled records, measured (a topic sampled with none has no estimate)."""
    return {topic: estimate(records) for topic, records in samples.items() if records}


def observed_ratio(bytes_in_per_second: float, messages_in_per_second: float,
                   raw_record_bytes: float) -> float | None:
    """The topic's current stored/raw ratio: bytes per message on the wire over the raw size of
    a sampled record (consumers see records decompressed). None when it cannot be told."""
    if messages_in_per_second <= 0 or raw_record_bytes <= 0:
        return None
    per_message = bytes_in_per_second / messages_in_per_second
    return min(1.5, per_message / (raw_record_bytes + RECORD_OVERHEAD_BYTES))
