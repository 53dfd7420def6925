"""`make test` runs in pytest-xdist workers: each worker's ports are its own, and the tests that
share a server are grouped onto one worker (tests/parallel.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.stack.processes import LOOPBACK, PORT_BLOCK_SIZE, PORT_BLOCKS_START

ROOT = Path(__file__).resolve().parents[1]

PORTS = """
import json, socket
from tests.stack.processes import free_port
held = socket.socket(); held.bind(("127.0.0.1", free_port()))
ports = [free_port() for _ in range(50)]
print(json.dumps({"held": held.getsockname()[1], "ports": ports}))
"""


def _ports_of(worker: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PORTS], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTEST_XDIST_WORKER": worker},
                          timeout=60, check=True)
    return dict(json.loads(done.stdout))


def test_each_worker_takes_free_ports_from_its_own_block() -> None:
    # The last block: no worker of make test's own run uses it.
    block = range(PORT_BLOCKS_START + 11 * PORT_BLOCK_SIZE,
                  PORT_BLOCKS_START + 12 * PORT_BLOCK_SIZE)
    got = _ports_of("gw11")
    ports = got["ports"]
    assert isinstance(ports, list)
    assert all(port in block for port in ports), ports
    assert len(set(ports)) == len(ports), "a port handed out twice"
    assert got["held"] not in ports, "a port in use was handed out"
    for port in ports:  # free when handed out, and still free (nothing else takes the block)
        with socket.socket() as sock:
            sock.bind((LOOPBACK, port))


GROUPS = """
def pytest_collection_finish(session):
    import json
    marks = {item.nodeid: [m.args[0] for m in item.iter_markers("xdist_group")]
             for item in session.items}
    print("GROUPS" + json.dumps(marks))
"""


def test_tests_sharing_a_server_share_a_group(tmp_path: Path) -> None:
    (tmp_path / "groups_plugin.py").write_text(GROUPS)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "groups_plugin",
         "tests/zones", "tests/collect/test_real_stack.py", "tests/test_stack_smoke.py",
         "tests/api/test_plan_replay.py", "tests/pricing"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
        env={**os.environ, "PYTHONPATH": str(tmp_path)})
    line = next(x for x in done.stdout.splitlines() if x.startswith("GROUPS"))
    marks: dict[str, list[str]] = json.loads(line.removeprefix("GROUPS"))

    def groups(prefix: str) -> set[str]:
        return {g for nodeid, names in marks.items() if nodeid.startswith(prefix)
                for g in names or ["(none)"]}

    assert len(groups("tests/zones/")) == 1 and groups("tests/zones/") != {"(none)"}
    kafka = groups("tests/collect/test_real_stack.py")
    assert len(kafka) == 1 and kafka == groups("tests/test_stack_smoke.py")
    assert kafka != groups("tests/zones/")
    assert len(groups("tests/api/test_plan_replay.py")) == 1  # a module-scoped fixture
    assert groups("tests/pricing/") == {"(none)"}  # nothing shared: spread one by one


def test_a_result_is_computed_by_the_first_worker_and_read_back_by_the_others(
        tmp_path: Path) -> None:
    from tests.parallel import SHARED_DIRECTORY

    script = ("import os\nfrom tests.parallel import computed_once\n"
              "print(computed_once('pid', os.getpid))")
    env = {**os.environ, SHARED_DIRECTORY: str(tmp_path)}
    first, second = (subprocess.run([sys.executable, "-c", script], capture_output=True,
                                    text=True, cwd=ROOT, env=env, timeout=60, check=True)
                     for _ in range(2))
    assert first.stdout == second.stdout  # the second process's own pid was never computed
    alone = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           cwd=ROOT, timeout=60, check=True,
                           env={k: v for k, v in os.environ.items() if k != SHARED_DIRECTORY})
    assert alone.stdout != first.stdout  # outside xdist: computed in the process


SUITE_CONFTEST = """
import pytest
from tests.parallel import configure, mark_groups

def pytest_configure(config):
    configure(config)

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    mark_groups(config, items)

@pytest.fixture(scope="session")
def stack():
    return "a server"
"""


def test_under_xdist_the_tests_of_one_server_run_on_one_worker(tmp_path: Path) -> None:
    """Through xdist itself: `-n 2 --dist loadgroup`, two modules using the `stack` fixture."""
    (tmp_path / "conftest.py").write_text(SUITE_CONFTEST)
    for name in ("a", "b"):
        (tmp_path / f"test_{name}.py").write_text(
            "import time, pytest\n"
            "@pytest.mark.parametrize('n', range(4))\n"
            "def test_server(stack, n): time.sleep(0.2)\n"
            "@pytest.mark.parametrize('n', range(4))\n"
            "def test_alone(n): time.sleep(0.2)\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2",
         "--dist", "loadgroup", "-v", "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    workers = {line.split()[0]: line for line in done.stdout.splitlines() if "PASSED" in line}
    server = {line.split()[0] for line in done.stdout.splitlines()
              if "PASSED" in line and "test_server" in line}
    assert len(server) == 1, done.stdout  # all eight on one worker
    assert len(workers) == 2, done.stdout  # the others spread
