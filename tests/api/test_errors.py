"""Each class of costopt's errors gets its own HTTP status, whatever route raises it: not
found 404, invalid input 422, unreachable 503, bad data from a source 502; a database that
stops answering is 503; anything else is a 500 without a stack trace."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from api.app import create_app
from costopt.base.errors import BadData, CostoptError, InvalidInput, NotFound, Unreachable
from costopt.base.patterns import PatternError
from costopt.config import ApiSettings, ConfigError, Settings
from costopt.prices.catalog import CatalogError
from costopt.sources.source_errors import BadSourceData, SourceUnavailable
from costopt.store import Store
from costopt.store.store import NothingStored, RefusedData

CASES = [
    (NotFound("unknown cluster 'x'"), 404), (NothingStored("no snapshot"), 404),
    (InvalidInput("bad"), 422), (CatalogError("catalog 'x': field"), 422),
    (ConfigError("field 'y'"), 422), (PatternError("not RE2"), 422),
    (RefusedData("NaN"), 422), (Unreachable("store down"), 503),
    (SourceUnavailable("Prometheus at http://p unreachable"), 503),
    (BadData("block"), 502), (BadSourceData("malformed"), 502),
    (OperationalError("SELECT 1", {}, Exception("down")), 503),
    (RuntimeError("boom"), 500),
]


def _raiser(error: Exception) -> Callable[[], None]:
    def route() -> None:
        raise error
    return route


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('errors') / 'costopt.db'}")
    app = create_app(Settings(api=ApiSettings(auth_enabled=False, warm_at_start=False)), store)
    raising = APIRouter()
    for index, (error, _) in enumerate(CASES):
        raising.add_api_route(f"/raise/{index}", _raiser(error))
    app.include_router(raising)
    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{type(e).__name__}-{s}" for e, s in CASES])
def test_each_error_class_maps_to_its_status(client: TestClient, index: int) -> None:
    error, status = CASES[index]
    answer = client.get(f"/raise/{index}")
    assert answer.status_code == status
    detail = answer.json()["detail"]
    if isinstance(error, CostoptError):
        assert detail == str(error)  # the message names what is wrong
    assert "Traceback" not in answer.text
