"""Presenters: one module per resource turns the domain's objects into the API's response
models (`api/schemas.py`), so a route reads its inputs, calls the domain and returns what its
presenter builds. The models are the API's promise to scripts and dashboards; the presenters
are the one place that maps the domain onto them."""
