"""Planning a collect's queries so that each one fits the server's limits.

A Prometheus query fails past two limits: `--query.max-samples` (50M by default), which the
engine counts as the points it holds at once (a range function's output, series × steps), and
`--query.timeout` (2 min by default), which in practice bounds the raw samples a query reads
(series × range ÷ scrape interval; Prometheus reads some millions a second per core).
At real exporter cardinality a single daily point of log size can read more than either
allows. So every question (`Spec`) is costed from a census of the cluster's series and, where
it is over `Budget`, split: into time chunks, and where one step alone is too large, into
shards of a label (partitions, brokers, groups) whose results combine into the whole answer.
Small pieces that share a time grid are folded into one request (`or` of tagged parts), which
keeps their round trips few; a piece over many series (a figure per topic) is asked alone, as
tagging and matching its answer in a fold costs the server more than the round trip.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from costopt.sources.prometheus.client import MAX_POINTS_PER_SERIES
from costopt.sources.prometheus.queries import Query, render, shard_selector

PART_LABEL = "costopt_part"


@dataclass(frozen=True)
class Budget:
    max_samples: int  # points one query may hold (the server's --query.max-samples)
    max_samples_read: int  # raw samples one query may read within the server's timeout
    max_query_chars: int = 8_000  # a folded query stays short enough for proxies and VM
    # A piece reading more series than this is asked alone: folding costs the server a
    # relabelled copy and an `or` match of every answer series (40% more of Prometheus's
    # CPU for the wix fleet's per-topic figures), which outweighs a round trip saved.
    max_fold_series: int = 1_000


@dataclass
class Census:
    """What the planner knows of the cluster's series: how many each metric has now, how
    often a raw series is sampled, and where needed how a metric's series spread over a
    label's values."""

    series: dict[str, int]
    samples_per_second: float
    by_label: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    counted_at: float | None = None  # Unix seconds the raw metrics' series were counted

    def count(self, metric: str) -> int:
        return self.series.get(metric, 0)

    def record(self) -> dict[str, Any]:
        """What a later collect may reuse (JSON): the counts and when they were made."""
        return {"series": dict(self.series), "samples_per_second": self.samples_per_second,
                "counted_at": self.counted_at}

    @classmethod
    def from_record(cls, record: object) -> Census | None:
        """A census `record()` wrote, or None for anything else (an older run's detail)."""
        if not isinstance(record, dict):
            return None
        series, rate, at = (record.get(key) for key in ("series", "samples_per_second",
                                                         "counted_at"))
        if not (isinstance(series, dict) and all(
                isinstance(k, str) and isinstance(v, int) for k, v in series.items())
                and isinstance(rate, int | float) and isinstance(at, int | float)):
            return None
        return cls(series=dict(series), samples_per_second=float(rate), counted_at=float(at))


@dataclass(frozen=True)
class Spec:
    """One question: a query on a grid of `points` evaluation times `step` apart."""

    name: str
    query: Query
    sel: str
    spans: dict[str, int]  # seconds for each span placeholder (window, lookback, ...)
    first: float  # Unix seconds of the first point
    points: int
    step: int  # 0 for an instant query
    instant: bool

    @property
    def span_seconds(self) -> int:
        return self.spans[self.query.span]

    def samples_per_series(self, census: Census) -> float:
        """Raw samples one series holds within the query's range function."""
        rate = (1 / self.query.grain_seconds if self.query.grain_seconds
                else census.samples_per_second)
        return self.span_seconds * rate


@dataclass(frozen=True)
class Piece:
    """A spec's share of the work: some of its points, some of its series."""

    spec: Spec
    first: float
    points: int
    shard: tuple[str, ...] | None = None  # values of the spec's shard label
    series: int = 0  # estimated series read
    depth: int = 0  # how many times it was split after a refusal

    def text(self) -> str:
        spec = self.spec
        sel = spec.sel
        if self.shard is not None and spec.query.shard_label is not None:
            sel = f"{sel},{shard_selector(spec.query.shard_label, list(self.shard))}"
        return render(spec.query, sel=sel, window_seconds=spec.spans["window"],
                      lookback_seconds=spec.spans["lookback"],
                      history_seconds=spec.spans["history"],
                      rec_lookback_seconds=spec.spans["rec_lookback"])

    def cost(self, census: Census) -> tuple[float, float]:
        """(raw samples read, points held at once)."""
        window = self.spec.samples_per_series(census)
        return self.series * self.points * window, self.series * self.points + window

    @property
    def last(self) -> float:
        return self.first + (self.points - 1) * self.spec.step


@dataclass(frozen=True)
class Request:
    """One HTTP query: one piece, or several pieces on the same time grid folded together."""

    pieces: tuple[Piece, ...]

    @property
    def grid(self) -> tuple[bool, float, int, int]:
        piece = self.pieces[0]
        return piece.spec.instant, piece.first, piece.points, piece.spec.step

    def text(self) -> str:
        if len(self.pieces) == 1:
            return self.pieces[0].text()
        return fold([piece.text() for piece in self.pieces])


def fold(texts: list[str]) -> str:
    """Several queries as one: each result tagged with its part's index."""
    return " or ".join(f'label_replace({text}, "{PART_LABEL}", "{i}", "", "")'
                       for i, text in enumerate(texts))


def plan(specs: Iterable[Spec], census: Census, budget: Budget) -> list[Request]:
    """Requests answering every spec, each within the budget as far as the census tells.
    Specs that need shards must have their label's spread in `census.by_label`
    (`shards_needed` says which)."""
    pieces = [piece for spec in specs for piece in split(spec, census, budget)]
    return pack(pieces, census, budget)


def shards_needed(specs: Iterable[Spec], census: Census, budget: Budget
                  ) -> set[tuple[str, str]]:
    """(metric, label) pairs whose spread over the label's values the planner needs."""
    needed = set()
    for spec in specs:
        label = spec.query.shard_label
        if label is not None and _shard_count(spec, census, budget) > 1:
            needed.add((spec.query.reads, label))
    return needed


def _shard_count(spec: Spec, census: Census, budget: Budget) -> int:
    series = census.count(spec.query.reads)
    window = spec.samples_per_series(census)
    by_read = series * window / budget.max_samples_read
    room = budget.max_samples * 0.9 - window
    by_peak = series / room if room > 0 else 1.0
    return max(1, math.ceil(max(by_read, by_peak)))


def split(spec: Spec, census: Census, budget: Budget) -> list[Piece]:
    shards: list[tuple[tuple[str, ...] | None, int]] = [(None, census.count(spec.query.reads))]
    label = spec.query.shard_label
    wanted = _shard_count(spec, census, budget)
    spread = census.by_label.get((spec.query.reads, label)) if label else None
    if wanted > 1 and spread:
        shards = balance(spread, wanted)
    pieces = []
    for shard, series in shards:
        for first, points in chunks(spec, series, census, budget):
            pieces.append(Piece(spec, first, points, shard, series))
    return pieces


def chunks(spec: Spec, series: int, census: Census, budget: Budget
           ) -> list[tuple[float, int]]:
    """(first point, points) runs of the spec's grid, each within the budget."""
    if spec.instant:
        return [(spec.first, 1)]
    window = spec.samples_per_series(census)
    per_point_read = max(series * window, 1.0)
    room = budget.max_samples * 0.9 - window
    per_chunk = min(budget.max_samples_read / per_point_read,
                    room / max(series, 1) if room > 0 else 1, MAX_POINTS_PER_SERIES)
    size = max(1, int(per_chunk))
    return [(spec.first + start * spec.step, min(size, spec.points - start))
            for start in range(0, spec.points, size)]


def balance(spread: dict[str, int], shards: int) -> list[tuple[tuple[str, ...] | None, int]]:
    """Label values in `shards` groups of about equal series (largest first, into the
    lightest group)."""
    groups: list[tuple[int, list[str]]] = [(0, []) for _ in range(min(shards, len(spread)))]
    for value, count in sorted(spread.items(), key=lambda item: (-item[1], item[0])):
        lightest = min(range(len(groups)), key=lambda i: groups[i][0])
        total, values = groups[lightest]
        groups[lightest] = (total + count, [*values, value])
    return [(tuple(sorted(values)), total) for total, values in groups if values]


def pack(pieces: list[Piece], census: Census, budget: Budget) -> list[Request]:
    """Fold pieces on the same time grid into requests while their sum stays in budget;
    a piece over `max_fold_series` series goes alone."""
    requests: list[Request] = []
    open_: dict[tuple[bool, float, int, int], tuple[list[Piece], float, float, int]] = {}
    for piece in pieces:
        if piece.series > budget.max_fold_series:
            requests.append(Request((piece,)))
            continue
        grid = (piece.spec.instant, piece.first, piece.points, piece.spec.step)
        read, peak = piece.cost(census)
        chars = len(piece.text()) + 60
        current = open_.get(grid)
        if current is not None:
            members, read_sum, peak_sum, chars_sum = current
            if (read_sum + read <= budget.max_samples_read
                    and peak_sum + peak <= budget.max_samples * 0.9
                    and chars_sum + chars <= budget.max_query_chars):
                open_[grid] = ([*members, piece], read_sum + read, peak_sum + peak,
                               chars_sum + chars)
                continue
            requests.append(Request(tuple(members)))
        open_[grid] = ([piece], read, peak, chars)
    requests.extend(Request(tuple(members)) for members, _, _, _ in open_.values())
    return requests


def smaller(piece: Piece, census: Census) -> list[Piece] | None:
    """The piece in two after the server refused it, or None when it cannot be split
    (one point of one label value, or a query without a shard label)."""
    depth = piece.depth + 1
    if piece.points > 1:
        half = piece.points // 2
        return [replace(piece, points=half, depth=depth),
                replace(piece, first=piece.first + half * piece.spec.step,
                        points=piece.points - half, depth=depth)]
    label = piece.spec.query.shard_label
    if label is None:
        return None
    spread = census.by_label.get((piece.spec.query.reads, label), {})
    if piece.shard is not None:
        spread = {value: spread.get(value, 1) for value in piece.shard}
    if len(spread) < 2:
        return None
    return [replace(piece, shard=values, series=series, depth=depth)
            for values, series in balance(spread, 2) if values is not None]
