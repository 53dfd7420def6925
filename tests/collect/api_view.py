"""What the API says of the collects recorded in a store, read in-process."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from costopt.config import ApiSettings, Settings
from costopt.store import Store


def api_view(settings: Settings, store: Store) -> tuple[dict, dict[str, str]]:
    """(the newest job run from `/v1/jobs`, the checks of `/readyz`), with auth off: these
    tests are about what is recorded, not who may read it."""
    open_settings = settings.model_copy(update={"api": ApiSettings(auth_enabled=False)})
    with TestClient(create_app(open_settings, store)) as client:
        jobs = client.get("/v1/jobs").json()
        ready = client.get("/readyz").json()
    return jobs["items"][0], ready["checks"]
