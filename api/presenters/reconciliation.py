"""A month's reconciliation as the API shows it: estimate against bill per cluster, and the
month's allocation by owner, split into producer, consumer and shared cost."""

from __future__ import annotations

from api.billing_schemas import OwnerCost, Reconciliation
from costopt.base.money import rounded
from costopt.billing.reconcile import MonthAllocation, owner_summary


def owner_costs(allocation: MonthAllocation) -> list[OwnerCost]:
    return [OwnerCost(owner=row.owner, basis=row.basis, producer=rounded(row.producer),
                      consumer=rounded(row.consumer), shared=rounded(row.shared),
                      monthly_cost=rounded(row.monthly_cost_micros),
                      measured_share=round(float(row.measured_share), 4),
                      currency=allocation.currency, period="month")
            for row in owner_summary(allocation.rows).itertuples(index=False)]


def reconciliation(allocation: MonthAllocation) -> Reconciliation:
    return Reconciliation.model_validate({**allocation.to_dict(),
                                          "owners": owner_costs(allocation)})
