"""Floor 1, records: the plain records the store keeps and the floors above fill (bills,
anomalies, budgets), kept below the store so the store imports no floor above it."""
