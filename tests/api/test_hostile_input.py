"""Input that once hung or misled a real `costopt serve`: catastrophic regular expressions (a
fixed set and a fuzzed one) through `/v1/topics` and what-if selectors, a chunked body over
the limit, and SIGTERM while requests are in flight."""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import READ_TOKEN, Server, serve_tiny_fleet

CATASTROPHIC = [
    r"^([a-z0-9.-]+)+!$", r"^(a+)+$", r"(.*a){20}", r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"(\w+\s?)+$", r"^(\d+)*$", r"(x+x+)+y", r"^(.*?,){30}P", r"((a|b|ab)*)*c",
]
ATOMS = ["a", "b", ".", "[a-z]", r"\w", r"\d", "(", ")", "+", "*", "?", "{2,}", "|", "^",
         "$", r"\1", "(?=a)", "(?<!b)", "[", "]", r"\.", "-", "v1"]


def fuzzed(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(ATOMS) for _ in range(rng.randint(1, 12)))
            for _ in range(count)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    served = serve_tiny_fleet(Path(tmp_path_factory.mktemp("hostile")))
    yield served
    served.process.stop()


def test_no_pattern_hangs_the_server_and_healthz_answers_throughout(server: Server) -> None:
    stop = threading.Event()
    health: list[int | str] = []

    def probe() -> None:
        while not stop.is_set():
            try:
                health.append(httpx.get(f"{server.url}/healthz", timeout=10).status_code)
            except httpx.HTTPError as exc:
                health.append(type(exc).__name__)
            time.sleep(0.2)

    prober = threading.Thread(target=probe)
    prober.start()
    answers: dict[str, int] = {}
    try:
        with server.client(READ_TOKEN) as client:
            for pattern in CATASTROPHIC + fuzzed(120):
                topics = client.get("/v1/topics", params={"pattern": pattern}, timeout=30)
                whatif = client.post("/v1/whatif", timeout=30, json={"changes": [
                    {"selector": {"pattern": pattern}, "partitions": 6}]})
                assert topics.status_code in (200, 422), (pattern, topics.text)
                assert whatif.status_code in (200, 422), (pattern, whatif.text)
                if topics.status_code == 422:
                    assert "pattern" in topics.text
                answers[pattern] = topics.status_code
    finally:
        stop.set()
        prober.join()
    assert set(health) == {200}, health
    assert answers[r"^([a-z0-9.-]+)+!$"] == 200  # answered, not refused: RE2 runs it
    refused = [p for p, status in answers.items() if status == 422]
    assert refused and all(any(x in p for x in (r"\1", "(?=", "(?<!", "(", ")", "[", "]",
                                                  "+", "*", "?", "{"))
                           for p in refused)


def test_a_chunked_body_over_the_limit_is_413(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(32):
            yield b" " * 65_536  # 2 MiB in all, no Content-Length

    with server.client(READ_TOKEN) as client:
        answer = client.post("/v1/whatif", content=chunks(),
                             headers={"content-type": "application/json"})
    assert answer.status_code == 413, answer.text
    assert "larger than" in answer.json()["detail"]


def test_sigterm_ends_the_server_while_requests_are_in_flight(
        tmp_path: Path) -> None:
    served = serve_tiny_fleet(tmp_path)
    proc = served.process.proc
    assert proc is not None
    stop = threading.Event()

    def busy() -> None:
        with served.client(READ_TOKEN) as client:
            while not stop.is_set():
                try:
                    client.post("/v1/whatif", json={"changes": [
                        {"selector": {"all": True}, "growth_pct": 10}]}, timeout=5)
                except httpx.HTTPError:
                    return

    threads = [threading.Thread(target=busy) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        served.process.stop()
    # uvicorn lets in-flight requests finish for api.shutdown_seconds (3): 10 s is room for a
    # busy machine, where the old server never stopped at all.
    assert time.monotonic() - sent < 10
