"""Topic rows + idle + unallocated equal each cluster's bill to the cent on the `wix` fleet."""

from __future__ import annotations

from costopt.cost import COMPONENTS, IDLE, UNALLOCATED, rollup
from costopt.simulate.fleet import PLATFORM_TOPICS
from tests.fleets import analyzed, fleet


def test_wix_fleet_reconciles_exactly_per_cluster_and_component() -> None:
    analysis = analyzed("wix")
    assert len(analysis.costs) == 12
    topics = 0
    for cost in analysis.costs:
        for component in COMPONENTS:
            assert int(cost.rows[f"{component}_micros"].sum()) == cost.bill_micros[component]
        assert int(cost.rows["monthly_cost_micros"].sum()) == sum(cost.bill_micros.values())
        assert set(cost.rows["topic"]) >= {IDLE, UNALLOCATED}
        topics += len(cost.topic_rows())
        # Disk used beyond the topics' logs (the simulator adds 3%) shows as unallocated.
        unallocated = cost.rows.loc[cost.rows["topic"] == UNALLOCATED, "storage_local_micros"]
        assert int(unallocated.iloc[0]) > 0
    assert topics == len(fleet("wix").topics) == 50_000 + 12 * len(PLATFORM_TOPICS)
    by_owner = rollup(analysis.costs, "owner")
    assert int(by_owner["monthly_cost_micros"].sum()) == analysis.monthly_cost_micros()
