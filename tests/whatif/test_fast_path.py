"""The record path (`run_whatif`: only the rows a change touches, against the baseline's sums)
and the full projection (`project_cluster`: every row recomputed, the cost table rebuilt)
agree to the micro-unit on random changes over the `small` and `wix` fleets."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from costopt.cost.allocation import COMPONENTS
from costopt.whatif import Change, Selector, project_cluster, run_whatif
from tests.fleets import analyzed

FLEETS = ("small", "wix")


@st.composite
def topic_changes(draw: st.DrawFn, fleet: str) -> list[Change]:
    models = analyzed(fleet).models
    changes = []
    for _ in range(draw(st.integers(1, 4))):
        cluster = draw(st.sampled_from(sorted(models)))
        names = models[cluster].columns["topic"]
        topic = str(names[draw(st.integers(0, len(names) - 1))])
        values = draw(st.fixed_dictionaries({}, optional={
            "retention_ms": st.sampled_from([-1, 3_600_000, 86_400_000, 30 * 86_400_000]),
            "compression": st.sampled_from(["none", "lz4", "zstd", "gzip"]),
            "partitions": st.integers(1, 512),
            "replication_factor": st.integers(1, 3),
            "tiered_storage": st.booleans(),
            "growth_pct": st.floats(-90, 500),
            "delete_topic": st.just(True),
            "read_once": st.just(True),
        }))
        if not values:
            values = {"partitions": 6}
        changes.append(Change(selector=Selector(cluster=cluster, topic=topic), **values))
    if draw(st.booleans()):
        cluster = draw(st.sampled_from(sorted(models)))
        changes.append(Change(selector=Selector(cluster=cluster), rack_aware_fetch=True))
    return changes


def _full_micros(fleet: str, changes: list[Change]) -> dict[str, int]:
    totals = dict.fromkeys(COMPONENTS, 0)
    for model in analyzed(fleet).models.values():
        projected = project_cluster(model, changes)
        for component in COMPONENTS:
            totals[component] += projected.bill_micros[component]
    return totals


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(FLEETS).flatmap(lambda f: st.tuples(st.just(f), topic_changes(f))))
def test_record_path_and_full_projection_agree_to_the_micro_unit(
        case: tuple[str, list[Change]]) -> None:
    fleet, changes = case
    result = run_whatif(analyzed(fleet).models, changes)
    full = _full_micros(fleet, changes)
    for component in COMPONENTS:
        record = int(result.projected_by_component[component].amount * 1_000_000)
        assert record == full[component], component


def test_a_fleet_wide_change_takes_the_vectorised_path_and_agrees_too() -> None:
    changes = [Change(selector=Selector(all=True), compression="zstd", retention_ms=86_400_000)]
    result = run_whatif(analyzed("small").models, changes)
    full = _full_micros("small", changes)
    assert {c: int(m.amount * 1_000_000) for c, m in result.projected_by_component.items()} \
        == full
    assert len(result.topics) == sum(len(m.columns["topic"])
                                     for m in analyzed("small").models.values())
