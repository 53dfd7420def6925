"""Hypothesis on the what-if engine: any input is refused with a clear error or projected to a
finite, non-negative cost; never a crash, never NaN."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from costopt.base.errors import InvalidInput, NotFound
from costopt.prices.catalog import load_builtin_catalog
from costopt.whatif import Change, run_whatif
from tests.fleets import analyzed

numbers = st.one_of(st.none(), st.integers(-10**15, 10**15),
                    st.floats(allow_nan=True, allow_infinity=True))
selectors = st.fixed_dictionaries({}, optional={
    "cluster": st.sampled_from(["use1-main", "euw1-events", "nope", ""]),
    "topic": st.text(max_size=30),
    "pattern": st.sampled_from([".*", "^payments", "(", "v1$", "[a-"]),
    "owner": st.sampled_from(["payments", "reviews", "nobody"]),
    "all": st.booleans(),
})
changes = st.fixed_dictionaries({"selector": selectors}, optional={
    "retention_ms": numbers, "partitions": numbers, "replication_factor": numbers,
    "growth_pct": numbers, "local_retention_ms": numbers,
    "compression": st.sampled_from(["zstd", "lz4", "gzip", "snappy", "none", "brotli", None]),
    "tiered_storage": st.one_of(st.none(), st.booleans()),
    "broker_count": st.one_of(st.none(), st.integers(-2, 50)),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(changes, max_size=3), st.integers(-5, 4000))
def test_any_change_is_refused_clearly_or_projected_to_finite_money(
        raw: list[dict], horizon_days: int) -> None:
    models = analyzed("small").models
    try:
        parsed = [Change.model_validate(item) for item in raw]
    except ValidationError as exc:
        assert exc.errors()  # names the field(s)
        return
    try:
        result = run_whatif(models, parsed, horizon_days, resolve_catalog=load_builtin_catalog)
    except NotFound as exc:
        assert "unknown cluster" in str(exc)
        return
    except InvalidInput as exc:
        assert "horizon_days" in str(exc) or "catalog" in str(exc)
        return
    for money in (result.baseline, result.projected, result.projected_at_horizon):
        assert math.isfinite(float(money.amount)) and money.amount >= 0
    assert result.baseline.amount == result.baseline.amount  # not NaN
