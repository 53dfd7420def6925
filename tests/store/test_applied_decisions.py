"""An applied recommendation's decision, and undo reopening it: only `applied` decisions of
the named ids go, on both stores."""

from __future__ import annotations

from costopt.store import Store
from costopt.store.store import StatusStore


def _record(rec_id: str) -> dict[str, str]:
    return {"id": rec_id, "cluster": "c", "kind": "retention", "target": f"t-{rec_id}",
            "monthly_savings": "12.00"}


def test_undo_reopens_only_applied_decisions_of_the_named_recommendations(store: Store) -> None:
    statuses = StatusStore(store)
    statuses.set_status(_record("a1"), "applied", "applied by ops with costopt apply", "f")
    statuses.set_status(_record("a2"), "applied", "applied by ops with costopt apply", "f")
    statuses.set_status(_record("k1"), "accepted", "doing it by hand", "f")
    assert statuses.reopen({"a1", "k1"}, "applied") == 1
    assert {k: v["status"] for k, v in statuses.statuses().items()} == {
        "a2": "applied", "k1": "accepted"}
