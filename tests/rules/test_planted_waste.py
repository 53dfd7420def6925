"""On a simulated `wix` fleet the recommendations find the waste the simulator planted."""

from __future__ import annotations

import pytest

from tests.fleets import analyzed, fleet

# simulator's name for the waste -> the recommendation kind that should find it
KINDS = {"idle_topic": "idle_topic", "over_partitioned": "partitions",
         "over_retained": "retention", "abandoned_group": "abandoned_group"}


@pytest.mark.parametrize("planted_kind", sorted(KINDS))
def test_recall_and_precision_on_the_wix_fleet(planted_kind: str) -> None:
    planted = fleet("wix").planted[planted_kind]
    kind = KINDS[planted_kind]
    found = {(r.cluster, r.target) for r in analyzed("wix").recommendations
             if r.kind == kind and not (kind == "partitions"
                                        and r.proposed["partitions"] > r.current["partitions"])}
    true_positives = len(planted & found)
    recall = true_positives / len(planted)
    precision = true_positives / max(len(found), 1)
    assert len(planted) > 100  # a real test, not a handful
    assert recall >= 0.9, f"recall {recall:.3f}"
    assert precision >= 0.9, f"precision {precision:.3f}"
