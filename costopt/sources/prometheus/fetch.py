"""Running a plan's requests: concurrently, asking again in smaller parts when the server
refuses one as too large, and putting the parts' answers back together per question."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from costopt.sources.prometheus.client import PrometheusClient
from costopt.sources.prometheus.query_plan import PART_LABEL, Census, Piece, Request, smaller
from costopt.sources.source_errors import BadSourceData, QueryTooBig, SourceError

Item = dict[str, Any]
MAX_SPLITS = 8  # halvings of one piece before giving up


@dataclass
class Outcome:
    results: dict[str, list[Item]]  # merged answers per spec name
    requests: int = 0  # HTTP queries sent (refused ones included)
    refused: int = 0  # answers "too large" that were asked again in parts
    refusals: list[str] = field(default_factory=list)


def execute(client: PrometheusClient, requests: list[Request], census: Census,
            spread: Callable[[str, str], dict[str, int]],
            progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Answer every request; `spread(metric, label)` fetches a label's spread when a refused
    piece must be split into shards it was not planned with."""
    answers: dict[str, list[tuple[Piece, list[Item]]]] = {}
    outcome = Outcome(results={})
    total = len(requests)
    done = 0
    pool = ThreadPoolExecutor(max_workers=client.settings.max_concurrency,
                              thread_name_prefix="promql")
    try:
        futures: dict[Future[list[Item]], Request] = {
            pool.submit(_send, client, request): request for request in requests}
        while futures:
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                request = futures.pop(future)
                outcome.requests += 1
                try:
                    result = future.result()
                except QueryTooBig as exc:
                    outcome.refused += 1
                    outcome.refusals.append(str(exc))
                    retries = _retries(request, census, spread, exc)
                    total += len(retries)
                    futures.update({pool.submit(_send, client, r): r for r in retries})
                    continue
                for piece, items in zip(request.pieces, _unfold(request, result), strict=True):
                    answers.setdefault(piece.spec.name, []).append((piece, items))
                done += 1
                if progress is not None:
                    progress(done, total)
    finally:
        # On the first failure, queries not yet sent are dropped: a collect that cannot
        # succeed fails after one timeout, not after every query has timed out in turn.
        pool.shutdown(wait=True, cancel_futures=True)
    outcome.results = {name: merge(parts) for name, parts in answers.items()}
    return outcome


def _send(client: PrometheusClient, request: Request) -> list[Item]:
    instant, first, points, step = request.grid
    text = request.text()
    start = datetime.fromtimestamp(first, UTC)
    if instant:
        return client.instant(text, start)
    end = datetime.fromtimestamp(first + (points - 1) * step, UTC)
    return client.range(text, start, end, step)


def _retries(request: Request, census: Census, spread: Callable[[str, str], dict[str, int]],
             refusal: QueryTooBig) -> list[Request]:
    if len(request.pieces) > 1:
        return [Request((piece,)) for piece in request.pieces]
    piece = request.pieces[0]
    label = piece.spec.query.shard_label
    if piece.points == 1 and label is not None and (
            (piece.spec.query.reads, label) not in census.by_label):
        census.by_label[(piece.spec.query.reads, label)] = spread(piece.spec.query.reads, label)
    parts = smaller(piece, census) if piece.depth < MAX_SPLITS else None
    if parts is None:
        raise SourceError(f"{refusal} — and it cannot be asked in smaller parts "
                          f"({piece.points} point(s), "
                          f"{len(piece.shard) if piece.shard else 'all'} value(s) of "
                          f"{label or 'no shard label'}): lower the cluster's "
                          "lookback or history, raise the server's limits, or load "
                          "costopt's recording rules") from None
    return [Request((part,)) for part in parts]


def _unfold(request: Request, result: list[Item]) -> list[list[Item]]:
    if len(request.pieces) == 1:
        return [result]
    parts: list[list[Item]] = [[] for _ in request.pieces]
    for item in result:
        tag = item["metric"].pop(PART_LABEL, None)
        try:
            index = int(tag) if tag is not None else -1
        except ValueError:
            index = -1
        if not 0 <= index < len(parts):
            raise BadSourceData(f"a folded answer without its part label {PART_LABEL!r} "
                                f"(got {tag!r}) for: {request.text()[:300]}")
        parts[index].append(item)
    return parts


def _key(metric: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(metric.items()))


def merge(parts: list[tuple[Piece, list[Item]]]) -> list[Item]:
    """One answer from a spec's pieces: time chunks joined, shards combined per point."""
    if len(parts) == 1:
        return parts[0][1]
    instant = parts[0][0].spec.instant
    combine = max if parts[0][0].spec.query.combine == "max" else _add
    sharded = any(piece.shard is not None for piece, _ in parts)
    if not instant and not sharded:
        joined: dict[tuple[tuple[str, str], ...], Item] = {}
        for _, items in sorted(parts, key=lambda part: part[0].first):
            for item in items:
                key = _key(item["metric"])
                if key in joined:
                    joined[key]["values"].extend(item["values"])
                else:
                    joined[key] = {"metric": item["metric"], "values": list(item["values"])}
        return list(joined.values())
    points: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], dict[float, float]]] = {}
    for _, items in parts:
        for item in items:
            _, series = points.setdefault(_key(item["metric"]), (item["metric"], {}))
            pairs = [item["value"]] if instant else item["values"]
            for stamp, value in pairs:
                number = _number(value)
                series[stamp] = combine(series[stamp], number) if stamp in series else number
    if instant:
        return [{"metric": metric, "value": [stamp, repr(value)]}
                for metric, series in points.values() for stamp, value in series.items()]
    return [{"metric": metric, "values": [[stamp, repr(series[stamp])]
                                         for stamp in sorted(series)]}
            for metric, series in points.values()]


def _add(a: float, b: float) -> float:
    return a + b


def _number(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BadSourceData(f"non-numeric sample {value!r}") from None
