"""costopt: Kafka cost and capacity optimization.

This package is the domain: sources, snapshots, pricing, cost, forecasts, rules and what-if.
It holds no web or scheduler code; `jobs`, `api` and `reports` build on it, never the reverse.
"""

__version__ = "0.1.0"
