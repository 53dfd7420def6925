"""The API's per-analysis memo: answers are reused while the analysis is current, dropped
when a new one replaces it, never hold an error, and stay within their budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from api import state as state_module
from api.state import AppState
from costopt.analyze.analysis import FleetAnalysis
from costopt.config import Settings
from costopt.store import Store, sqlite_url


def _state(tmp_path: Path) -> AppState:
    url = sqlite_url(tmp_path / "costopt.db")
    return AppState(Settings(store_url=url), Store.open(url))


def _analysis() -> FleetAnalysis:
    return cast(FleetAnalysis, object())  # the memo only compares identities


def test_reused_while_current_and_dropped_with_its_analysis(tmp_path: Path) -> None:
    state, first, second = _state(tmp_path), _analysis(), _analysis()
    built: list[int] = []

    def build() -> dict[str, Any]:
        built.append(1)
        return {"items": [len(built)]}

    assert state.memo(first, "k", build) == {"items": [1]}
    assert state.memo(first, "k", build) == {"items": [1]}
    assert state.memo(second, "k", build) == {"items": [2]}  # a new snapshot landed
    assert len(built) == 2


def test_errors_are_not_kept(tmp_path: Path) -> None:
    state, analysis = _state(tmp_path), _analysis()
    calls: list[int] = []

    def failing() -> dict[str, Any]:
        calls.append(1)
        raise ValueError("bad query")

    for _ in range(2):
        with pytest.raises(ValueError):
            state.memo(analysis, "k", failing)
    assert len(calls) == 2


def test_the_budget_bounds_what_is_kept(tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_module, "MEMO_BUDGET_ROWS", 25)
    state, analysis = _state(tmp_path), _analysis()
    built: list[str] = []

    def page(key: str) -> dict[str, Any]:
        built.append(key)
        return {"items": list(range(9))}  # 10 rows each

    for key in ("a", "b", "c", "a", "b", "c"):
        state.memo(analysis, key, lambda key=key: page(key))
    assert built == ["a", "b", "c", "c"]  # the third page did not fit
