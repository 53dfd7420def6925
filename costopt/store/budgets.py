"""Budgets set over REST, in the store: put (create or replace) and delete are one
transaction each, so a refused budget leaves nothing behind and a replaced one never shows
half-written."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select

from costopt.base.money import decimal_to_micros, micros_to_decimal
from costopt.records.budget_spec import ConfiguredBudget
from costopt.store import Store, schema


class BudgetStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def budgets(self) -> list[ConfiguredBudget]:
        """Every stored budget, by name."""
        table = schema.budgets
        with self.store.engine.connect() as connection:
            rows = connection.execute(select(table).order_by(table.c.name)).mappings().all()
        return [ConfiguredBudget(name=row["name"], scope=row["scope"], target=row["target"],
                                 amount=micros_to_decimal(int(row["amount_micros"])),
                                 currency=row["currency"], thresholds=list(row["thresholds"]))
                for row in rows]

    def put(self, budget: ConfiguredBudget) -> bool:
        """Store the budget under its name; True if it replaced one."""
        table = schema.budgets
        with self.store.transaction() as connection:
            replaced = connection.execute(delete(table).where(
                table.c.name == budget.name)).rowcount > 0
            connection.execute(insert(table).values(
                name=budget.name, scope=budget.scope, target=budget.target,
                amount_micros=decimal_to_micros(budget.amount), currency=budget.currency,
                thresholds=list(budget.thresholds), updated_at=datetime.now(UTC)))
        return replaced

    def delete(self, name: str) -> bool:
        """Remove the named budget; False if there was none."""
        table = schema.budgets
        with self.store.transaction() as connection:
            return connection.execute(delete(table).where(table.c.name == name)).rowcount > 0
