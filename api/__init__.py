"""The REST API (FastAPI) over costopt's store, cost model and what-if engine."""
