"""The three-zone, secured cluster and its authenticated Prometheus, started once for every test
in `tests/zones/` (package scope: about a minute of JVM starts, paid once).

A missing server is a failure, never a skip: the start raises with the server's log tail.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from tests.stack.stack import ZoneStack, new_zone_stack


@pytest.fixture(scope="package")
def three_zone() -> Iterator[ZoneStack]:
    """Three KRaft nodes (az-a, az-b, az-c; SASL_SSL SCRAM-SHA-512 and OAUTHBEARER, mTLS,
    SASL_SSL PLAIN, loopback PLAINTEXT) and a Prometheus scraping them behind TLS and basic
    auth. Tests that restart the brokers (`three_zone.kafka.restart(...)`) leave the selector
    as they found it."""
    running = new_zone_stack()
    running.start()
    yield running
    running.prometheus.stop()
    running.kafka.kill()  # its data is deleted next: no controlled shutdown to wait for
    shutil.rmtree(running.workdir, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`test_cross_zone.py` runs last of the three-zone tests: it restarts the brokers with the
    rack-aware selector, and last, need not restart them again to turn it off for the others
    (about 50 s)."""
    places = [n for n, item in enumerate(items) if item.nodeid.startswith("tests/zones/")]
    ordered = sorted((items[n] for n in places),
                     key=lambda item: item.nodeid.startswith("tests/zones/test_cross_zone.py"))
    for place, item in zip(places, ordered, strict=True):
        items[place] = item


def three_zone_tests_follow(request: pytest.FixtureRequest) -> bool:
    """Whether a test that uses the three-zone cluster runs after `request`'s module."""
    items = request.session.items
    last = max(n for n, item in enumerate(items) if item.module is request.module)
    return any("three_zone" in item.fixturenames for item in items[last + 1:])
