"""Reconcile a month's bills with the estimate, and allocate the billed totals.

For each cluster and calendar month:

1. **Estimate.** The chargeback rows of the cluster's last snapshot taken before the month
   ends (the analysis's own where that is the latest), prorated from the 730-hour month to
   the month's hours: a 28-day month of the same usage costs 672/730 of the monthly rate.
2. **Bill.** The month's lines tied to the cluster, by what they pay for (`lines.TARGETS`).
   A bill's lines tied to no cluster (support, tax, credits, connectors) are spread over the
   clusters that bill does name, in proportion to their billed amounts.
3. **Billed allocation.** Each billed amount is split over the cells of the components it
   pays for (every row: topics' producer and consumer sides, idle, unallocated) in proportion
   to their estimated cost: the model's usage shares, the bill's total. What the bill names
   that the estimate has nothing for goes to `__unallocated__`; components the bill does not
   name get nothing (they were not billed). Unattributable lines (`other`) go to
   `__unallocated__`, or are spread over the topics' rows by their billed cost
   (`allocation.unattributed: proportional`).
4. Rows are `basis: billed` for a cluster with a bill that month, `basis: estimated`
   otherwise. Every split is of integer micro-units, so per cluster the rows add up to the
   bill (or the prorated estimate) exactly.

The error is signed, in percent of the estimate: +7.0 means the bill is 7% above it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from costopt.base.money import CENT, micros_to_decimal
from costopt.billing.lines import OTHER, TARGETS
from costopt.cost import formulas, links
from costopt.cost.allocation import COMPONENTS, UNALLOCATED
from costopt.cost.apportion import apportion
from costopt.cost.chargeback import (
    AMOUNT_COLUMNS,
    CONSUMER,
    PRODUCER,
    SHARED,
    empty_rows,
    finish,
)
from costopt.prices.catalog import PriceCatalog

BILLED, ESTIMATED = "billed", "estimated"
# The one pattern of a month's text (the API's query parameters validate with it too).
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)


@dataclass(frozen=True)
class Month:
    """A calendar month, UTC: `start` inclusive, `end` exclusive."""

    label: str
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, text: str) -> Month:
        found = _MONTH.match(text.strip())
        if not found:
            raise ValueError(f"month must be YYYY-MM, got {text!r}")
        year, month = int(found.group(0)[:4]), int(found.group(1))
        if not 1 <= year <= 9998:
            raise ValueError(f"month must be between 0001-01 and 9998-12, got {text!r}")
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return cls(text.strip(), start, end)

    @classmethod
    def of(cls, moment: datetime) -> Month:
        return cls.parse(f"{moment.year:04d}-{moment.month:02d}")

    @property
    def hours(self) -> float:
        return formulas.hours_in_period((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class Estimate:
    """A cluster's chargeback rows at the monthly rate, the snapshot they come from, and the
    catalog that priced them."""

    cluster: str
    rows: pd.DataFrame
    taken_at: datetime
    catalog: PriceCatalog
    mirrored: Mapping[str, float] = field(default_factory=dict)  # topic → weight (links.py)


@dataclass(frozen=True)
class TargetReconciliation:
    target: str  # a component, a group of them (network, storage), or other
    estimate_micros: int
    bill_micros: int
    note: str | None = None  # where the billed amount went, where that is not by estimate

    @property
    def error_pct(self) -> float | None:
        if self.target == OTHER:
            return None
        return formulas.bill_error_pct(self.estimate_micros, self.bill_micros)


@dataclass(frozen=True)
class ClusterReconciliation:
    cluster: str
    basis: str
    estimate_micros: int | None
    bill_micros: int | None
    unattributed_micros: int
    lines: int
    estimated_from: datetime | None
    targets: list[TargetReconciliation] = field(default_factory=list)

    @property
    def error_pct(self) -> float | None:
        if self.estimate_micros is None or self.bill_micros is None:
            return None
        return formulas.bill_error_pct(self.estimate_micros, self.bill_micros)

    @property
    def total_micros(self) -> int:
        """What its rows add up to: the bill where there is one, else the estimate."""
        return self.bill_micros if self.bill_micros is not None else (self.estimate_micros or 0)


@dataclass(frozen=True)
class MonthAllocation:
    """A month's allocation over the fleet: rows (chargeback columns, `basis`) and the
    reconciliation per cluster, in `currency`."""

    month: Month
    currency: str
    rows: pd.DataFrame
    clusters: list[ClusterReconciliation]
    catalogs: Mapping[str, PriceCatalog]
    unassigned_micros: int = 0  # bill lines of no cluster, on bills that name none
    accounts: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # provider, account

    @property
    def total_micros(self) -> int:
        return int(self.rows["monthly_cost_micros"].sum()) if len(self.rows) else 0

    def to_dict(self) -> dict[str, Any]:
        def money(micros: int | None) -> str | None:
            return None if micros is None else str(micros_to_decimal(micros).quantize(CENT))

        def pct(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        billed = [c for c in self.clusters if c.basis == BILLED]
        estimate = sum(c.estimate_micros or 0 for c in billed)
        bill = sum(c.bill_micros or 0 for c in billed)
        return {
            "month": self.month.label, "currency": self.currency, "period": "month",
            "hours": self.month.hours,
            "total": money(self.total_micros),
            "billed_clusters": len(billed),
            "estimate_of_billed": money(estimate) if billed else None,
            "bill": money(bill) if billed else None,
            "error_pct": pct(formulas.bill_error_pct(estimate, bill)) if billed else None,
            "unassigned": money(self.unassigned_micros),
            "clusters": [{
                "cluster": c.cluster, "basis": c.basis, "month": self.month.label,
                "currency": self.currency, "period": "month",
                "estimate": money(c.estimate_micros), "bill": money(c.bill_micros),
                "error_pct": pct(c.error_pct), "unattributed": money(c.unattributed_micros),
                "lines": c.lines,
                "estimated_from": c.estimated_from.isoformat() if c.estimated_from else None,
                "components": [{"target": t.target, "estimate": money(t.estimate_micros),
                                "bill": money(t.bill_micros), "error_pct": pct(t.error_pct),
                                "note": t.note}
                               for t in c.targets],
            } for c in self.clusters],
        }


def prorate(rows: pd.DataFrame, hours: float) -> pd.DataFrame:
    """Rows at the monthly rate (730 h) → the same usage over `hours`, each column's total
    rounded once and split back over its cells exactly."""
    out = rows.copy()
    for column in AMOUNT_COLUMNS:
        values = out[column].to_numpy(dtype=np.int64)
        total = round(formulas.prorated_to_hours(float(values.sum()), hours))
        if total == 0 or not len(values):
            out[column] = np.zeros(len(values), dtype=np.int64)
            continue
        weights = np.abs(values) if (values < 0).any() and values.sum() <= 0 else values
        out[column] = apportion(total, weights)
    return finish(out)


def _with_unallocated(rows: pd.DataFrame, cluster: str) -> tuple[pd.DataFrame, int]:
    """The rows and the position of the cluster's `__unallocated__` row (added if absent)."""
    rows = rows.reset_index(drop=True)
    found = np.flatnonzero((rows["topic"] == UNALLOCATED).to_numpy())
    if len(found):
        return rows, int(found[0])
    extra = empty_rows()
    extra.loc[0] = {"cluster": cluster, "topic": UNALLOCATED, "topic_owner": UNALLOCATED,
                    "owner": UNALLOCATED, "side": SHARED, "group": "", "principal": "",
                    "split": "own",
                    "measured_share": 1.0, **dict.fromkeys(AMOUNT_COLUMNS, 0),
                    "monthly_cost_micros": 0}
    rows = pd.concat([rows, extra], ignore_index=True) if len(rows) else extra
    return rows, len(rows) - 1


def billed_rows(estimate: pd.DataFrame | None, cluster: str, targets: Mapping[str, int],
                other_micros: int, unattributed: str = "unallocated",
                mirrored: Mapping[str, float] | None = None) -> pd.DataFrame:
    """The cluster's rows carrying its billed amounts: each target's amount over the cells of
    its components by their estimated cost (Cluster Linking over the mirrored topics,
    `cost/links.py`), `other` as configured (module docstring)."""
    rows, unallocated = _with_unallocated(
        estimate if estimate is not None else empty_rows(), cluster)
    rows["estimated_micros"] = rows[AMOUNT_COLUMNS].sum(axis=1).astype(np.int64)
    billed = {column: np.zeros(len(rows), dtype=np.int64) for column in AMOUNT_COLUMNS}
    for target, amount in targets.items():
        if amount == 0 or target == OTHER:
            continue
        columns = [f"{c}_micros" for c in TARGETS[target]]
        weights = (links.row_weights(rows, mirrored or {}, PRODUCER)[:, None]
                   if target == links.COMPONENT
                   else rows[columns].to_numpy(dtype=np.float64).clip(0))
        if weights.sum() > 0:
            parts = apportion(amount, weights.ravel()).reshape(weights.shape)
            for j, column in enumerate(columns):
                billed[column] += parts[:, j]
        else:  # billed for something the estimate has nothing for
            billed[columns[0]][unallocated] += amount
    if other_micros:
        topics = rows["side"].isin([PRODUCER, CONSUMER]).to_numpy()
        usage = np.sum([billed[c] for c in AMOUNT_COLUMNS], axis=0).astype(np.float64)
        weights = np.where(topics, usage, 0.0).clip(0)
        if unattributed == "proportional" and weights.sum() > 0:
            billed["other_micros"] += apportion(other_micros, weights)
        else:
            billed["other_micros"][unallocated] += other_micros
    for column in AMOUNT_COLUMNS:
        rows[column] = billed[column]
    return finish(rows)


def _spread_unassigned(lines: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Lines tied to no cluster, spread over the clusters their bill names (by those
    clusters' billed amounts) as `other` lines; what a bill naming no cluster holds is left
    unassigned."""
    named = lines[lines["cluster"].notna()]
    loose = lines[lines["cluster"].isna()]
    if loose.empty:
        return named, 0
    unassigned = 0
    spread = []
    for bill_id, part in loose.groupby("bill_id", sort=True):
        amount = int(part["amount_micros"].sum())
        owners = named[named["bill_id"] == bill_id].groupby("cluster")["amount_micros"].sum()
        if owners.empty or not (owners.abs() > 0).any():
            unassigned += amount
            continue
        parts = apportion(amount, owners.abs().to_numpy(dtype=np.float64))
        spread.append(pd.DataFrame({"bill_id": bill_id, "cluster": owners.index,
                                    "target": OTHER, "amount_micros": parts, "line_number": 0}))
    merged = pd.concat([named, *spread], ignore_index=True) if spread else named
    return merged, unassigned


def allocate_month(month: Month, currency: str, estimates: Mapping[str, Estimate],
                   lines: pd.DataFrame, unattributed: str = "unallocated") -> MonthAllocation:
    """The month's rows and reconciliation from the clusters' estimates (at the monthly rate)
    and the month's bill lines (`BillStore.lines`)."""
    for row in lines.drop_duplicates("bill_id").itertuples(index=False):
        if row.currency != currency:
            raise ValueError(f"the {row.provider} bill of {month.label} is in {row.currency}; "
                             f"costopt's estimates are in {currency}: price the clusters with "
                             f"catalogs in {row.currency} to reconcile it")
    named, unassigned = _spread_unassigned(lines)
    clusters = sorted(set(estimates) | set(named["cluster"].dropna()))
    frames, results = [], []
    for cluster in clusters:
        estimate = estimates.get(cluster)
        prorated = prorate(estimate.rows, month.hours) if estimate is not None else None
        mine = named[named["cluster"] == cluster]
        estimate_micros = int(prorated["monthly_cost_micros"].sum()) \
            if prorated is not None else None
        if mine.empty:
            if prorated is None:
                continue
            frames.append(prorated.assign(basis=ESTIMATED,
                                          estimated_micros=prorated["monthly_cost_micros"]))
            results.append(ClusterReconciliation(
                cluster, ESTIMATED, estimate_micros, None, 0, 0, estimate.taken_at
                if estimate is not None else None))
            continue
        by_target = mine.groupby("target")["amount_micros"].sum()
        targets = {str(t): int(v) for t, v in by_target.items()}
        other = targets.pop(OTHER, 0)
        mirrored = estimate.mirrored if estimate is not None else {}
        rows = billed_rows(prorated, cluster, targets, other, unattributed, mirrored)
        frames.append(rows.assign(basis=BILLED))
        results.append(ClusterReconciliation(
            cluster, BILLED, estimate_micros, int(mine["amount_micros"].sum()), other,
            int((mine["line_number"] > 0).sum()),
            estimate.taken_at if estimate is not None else None,
            _targets(prorated, targets, other, mirrored)))
    rows = pd.concat(frames, ignore_index=True) if frames else \
        empty_rows().assign(basis="", estimated_micros=0)
    if unassigned:
        extra, _ = _with_unallocated(empty_rows(), "")
        extra["other_micros"] = unassigned
        rows = pd.concat([rows, finish(extra).assign(basis=BILLED, estimated_micros=0)],
                         ignore_index=True)
    rows = rows.assign(month=month.label)
    catalogs = {name: e.catalog for name, e in estimates.items()}
    accounts = {str(row.cluster): (str(row.provider), str(row.billing_account))
                for row in lines[lines["cluster"].notna()].drop_duplicates("cluster")
                .itertuples(index=False)}
    return MonthAllocation(month, currency, rows, results, catalogs, unassigned, accounts)


def _targets(prorated: pd.DataFrame | None, targets: Mapping[str, int], other: int,
             mirrored: Mapping[str, float]) -> list[TargetReconciliation]:
    """Per target on the bill: estimate and bill; components with an estimate that no line
    names are listed with a bill of 0. Cluster Linking says where its bill went."""
    def estimated(components: tuple[str, ...]) -> int:
        if prorated is None:
            return 0
        return int(sum(prorated[f"{c}_micros"].sum() for c in components))

    def note(target: str) -> str | None:
        if target != links.COMPONENT:
            return None
        weights = (links.row_weights(prorated, mirrored, PRODUCER) if prorated is not None
                   else np.zeros(0))
        return links.allocated_note(mirrored, weights)

    order = list(TARGETS)
    out = [TargetReconciliation(t, estimated(TARGETS[t]), targets[t], note(t))
           for t in sorted(targets, key=order.index)]
    covered = {c for t in targets for c in TARGETS[t]}
    out += [TargetReconciliation(c, estimated((c,)), 0) for c in COMPONENTS
            if c not in covered and estimated((c,)) != 0]
    if other:
        out.append(TargetReconciliation(OTHER, 0, other))
    return out



def owner_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per owner: producer, consumer and shared micro-units, the total, the basis of its rows
    and the measured share of its cost (by magnitude), most expensive first."""
    if rows.empty:
        return pd.DataFrame(columns=["owner", "basis", "producer", "consumer", "shared",
                                     "monthly_cost_micros", "measured_share"])
    weight = rows["monthly_cost_micros"].abs().astype(np.float64)
    frame = rows.assign(_weight=weight, _measured=weight * rows["measured_share"])
    sides = frame.pivot_table(index="owner", columns="side", values="monthly_cost_micros",
                              aggfunc="sum", fill_value=0)
    out = pd.DataFrame({side: sides.get(side, 0)
                        for side in (PRODUCER, CONSUMER, SHARED)}, index=sides.index)
    out = out.astype(np.int64)
    out["monthly_cost_micros"] = out.sum(axis=1)
    sums = frame.groupby("owner")[["_weight", "_measured"]].sum()
    out["measured_share"] = np.where(sums["_weight"] > 0, sums["_measured"]
                                     / sums["_weight"].where(sums["_weight"] > 0, 1.0), 1.0)
    out["basis"] = frame.groupby("owner")["basis"].agg(lambda b: "+".join(sorted(set(b))))
    return out.reset_index().sort_values("monthly_cost_micros", ascending=False,
                                         ignore_index=True)
