"""Load: 200 requests/s of mixed reads and what-ifs on loopback, 0 errors, and the server's
memory grows less than 10% after warm-up: for 60 s in `make test`, for 10 minutes in
`make soak` (`COSTOPT_LOAD_SECONDS`). Figures are in docs/reliability.md."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.conftest import READ_TOKEN, Server, serve_tiny_fleet

RATE = 200
SECONDS = float(os.environ.get("COSTOPT_LOAD_SECONDS", "60"))
WORKERS = 16


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (uvicorn's workers)."""
    total = 0
    children = Path(f"/proc/{pid}/task/{pid}/children")
    for child in (children.read_text().split() if children.exists() else []):
        total += rss_bytes(int(child))
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return total + int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`costopt serve --workers 2`: one worker per core, as the docs advise."""
    server = serve_tiny_fleet(Path(tmp_path_factory.mktemp("load")), workers=2)
    yield server
    server.process.stop()


@pytest.mark.timeout(int(SECONDS) + 180)
def test_mixed_load_without_errors_or_memory_growth(served: Server) -> None:
    api_server = served
    assert api_server.process.proc is not None
    pid = api_server.process.proc.pid
    with api_server.client(READ_TOKEN) as client:  # warm every worker's analysis
        for _ in range(8):
            assert client.get("/v1/clusters").status_code == 200
    with api_server.client(READ_TOKEN) as client:
        topic = client.get("/v1/topics", params={"limit": 1}).json()["items"][0]
    requests = [
        ("GET", "/v1/clusters", None), ("GET", "/v1/topics?limit=20", None),
        ("GET", "/v1/recommendations?limit=20", None), ("GET", "/v1/costs?group_by=owner", None),
        ("POST", "/v1/whatif", {"changes": [{"selector": {"topic": topic["topic"]},
                                             "retention_ms": 86_400_000}]}),
        ("GET", f"/v1/topics/{topic['cluster']}/{topic['topic']}", None),
    ]
    sent, errors, latencies = [0], [], []
    lock = threading.Lock()
    start = time.monotonic()

    def worker(index: int) -> None:
        with api_server.client(READ_TOKEN) as client:
            n = index
            while True:
                due = start + n / RATE
                if due > start + SECONDS:
                    return
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                method, path, body = requests[n % len(requests)]
                began = time.monotonic()
                try:
                    status = client.request(method, path, json=body).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with lock:
                    sent[0] += 1
                    latencies.append(time.monotonic() - began)
                    if status != 200:
                        errors.append(status)
                n += WORKERS

    warm = threading.Timer(min(10.0, SECONDS / 3), lambda: baseline.append(rss_bytes(pid)))
    baseline: list[int] = []
    warm.start()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    final = rss_bytes(pid)
    rate = sent[0] / elapsed
    print(f"\nload: {sent[0]} requests in {elapsed:.1f} s ({rate:.0f}/s), {len(errors)} errors, "
          f"p99 {sorted(latencies)[int(0.99 * len(latencies))] * 1000:.1f} ms, "
          f"RSS {baseline[0] / 2**20:.0f} → {final / 2**20:.0f} MiB")
    assert errors == []
    assert rate >= RATE * 0.95
    assert final < baseline[0] * 1.10
