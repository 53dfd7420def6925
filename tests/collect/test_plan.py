"""The planner's arithmetic, without a server: every piece it plans fits the budget the
census allows, pieces cover the question exactly once, and a refused piece halves."""

from __future__ import annotations

from costopt.snapshot.metrics import Figure
from costopt.sources.prometheus.queries import CATALOG
from costopt.sources.prometheus.query_plan import (
    Budget,
    Census,
    Spec,
    balance,
    plan,
    smaller,
    split,
)

LOG_SIZE = CATALOG["jmx"].history[Figure.LOG_SIZE]
assert LOG_SIZE is not None
SPANS = {"window": 86_400, "lookback": 600, "history": 30 * 86_400, "rec_lookback": 900}
# A cluster of 120,000 log-size series over 40,000 partitions, scraped every 30 s.
SPREAD = {str(p): 3 * (40 if p < 1000 else 1) for p in range(2000)}
CENSUS = Census(series={"kafka_log_log_size": sum(SPREAD.values())},
                samples_per_second=1 / 30,
                by_label={("kafka_log_log_size", "partition"): SPREAD})
BUDGET = Budget(max_samples=50_000_000, max_samples_read=100_000_000)


def _daily(points: int) -> Spec:
    return Spec("log_size_range@86400", LOG_SIZE, 'cluster="c"', SPANS, 1_700_000_000.0,
                points, 86_400, False)


def test_every_piece_fits_and_the_pieces_cover_each_point_and_series_once() -> None:
    spec = _daily(30)
    pieces = split(spec, CENSUS, BUDGET)
    for piece in pieces:
        read, held = piece.cost(CENSUS)
        assert read <= BUDGET.max_samples_read and held <= BUDGET.max_samples
    # One daily point of 123,000 series reads 354M samples: four shards at least.
    shards = {piece.shard for piece in pieces}
    assert len(shards) >= 4
    values = [value for shard in shards for value in shard or ()]
    assert sorted(values) == sorted(SPREAD) and len(values) == len(set(values))
    for shard in shards:
        points = sorted(piece.first for piece in pieces if piece.shard == shard)
        assert points == [spec.first + i * spec.step for i in range(30)]


def test_small_questions_on_one_grid_share_a_request() -> None:
    small = Census(series={"kafka_log_log_size": 300}, samples_per_second=1 / 30)
    specs = [_daily(3), Spec("other", LOG_SIZE, 'cluster="d"', SPANS, 1_700_000_000.0, 3,
                             86_400, False)]
    requests = plan(specs, small, BUDGET)
    assert len(requests) == 1 and len(requests[0].pieces) == 2
    assert requests[0].text().count("label_replace(") == 2


def test_a_question_over_many_series_is_asked_alone() -> None:
    """Folding a figure per topic costs the server more than the round trip it saves."""
    per_topic = Census(series={"kafka_log_log_size": 4_200}, samples_per_second=1 / 3600)
    specs = [_daily(3), Spec("other", LOG_SIZE, 'cluster="d"', SPANS, 1_700_000_000.0, 3,
                             86_400, False)]
    requests = plan(specs, per_topic, BUDGET)
    assert [len(r.pieces) for r in requests] == [1, 1]
    assert all("label_replace(" not in r.text() for r in requests)
    folded = plan(specs, per_topic, Budget(BUDGET.max_samples, BUDGET.max_samples_read,
                                           max_fold_series=5_000))
    assert len(folded) == 1 and len(folded[0].pieces) == 2


def test_a_refused_piece_halves_in_time_then_in_shards() -> None:
    small = Census(series={"kafka_log_log_size": 300}, samples_per_second=1 / 30)
    (piece,) = split(_daily(30), small, BUDGET)
    halves = smaller(piece, small)
    assert halves is not None and [h.points for h in halves] == [15, 15]
    assert halves[1].first == piece.first + 15 * 86_400
    one_point = split(_daily(1), CENSUS, BUDGET)[0]
    shards = smaller(one_point, CENSUS)
    assert shards is not None and len(shards) == 2
    assert set(shards[0].shard or ()) | set(shards[1].shard or ()) == set(one_point.shard or ())
    unsplittable = Census(series={"kafka_log_log_size": 3}, samples_per_second=1 / 30,
                          by_label={("kafka_log_log_size", "partition"): {"0": 3}})
    single = split(_daily(1), unsplittable, BUDGET)[0]
    assert smaller(single, unsplittable) is None


def test_balance_spreads_series_evenly() -> None:
    groups = balance({"a": 10, "b": 9, "c": 5, "d": 4, "e": 1}, 2)
    assert sorted(total for _, total in groups) == [14, 15]
