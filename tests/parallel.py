"""Which tests must share a pytest-xdist worker, so that `make test` starts each real server once.

`make test` runs the suite in several workers (`pytest -n N --dist loadgroup`). A worker that
runs one test of a session fixture starts that fixture itself, so a Kafka or a three-zone
cluster spread over four workers would start four times. So every test that uses one of the
servers below, or a fixture its module (or package) builds once, gets an `xdist_group` mark,
and tests that share any of those end up in the same group (joined transitively): each group
runs on one worker and starts what it needs once. A test that uses two servers joins the group
of the costlier only (the other starts once more, on that worker), so that one such test does
not pull two long groups onto one worker. The rest spread over the workers one by one.

xdist hands out the biggest groups first, so the long real-server groups start at once and the
single tests fill the workers around them.

What a worker computes for itself and others would compute again (the `wix` fleet analysed in
memory: about a minute of CPU on this machine, and a 2-core machine has little to spare) is
built once per run by whichever worker asks first and read back by the rest (`computed_once`).
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tests.stack.processes import cache_lock

# Set in each worker: a folder of this run's temporary directory that all its workers share.
SHARED_DIRECTORY = "COSTOPT_TESTS_SHARED_DIR"

T = TypeVar("T")


def share_run_directory(config: pytest.Config) -> None:
    """In an xdist worker, point `SHARED_DIRECTORY` at the run's own temporary directory (the
    parent of the worker's `--basetemp`), which pytest removes with the run's other files."""
    if hasattr(config, "workerinput") and config.option.basetemp:
        os.environ[SHARED_DIRECTORY] = str(Path(config.option.basetemp).parent / "shared")


def computed_once(key: str, compute: Callable[[], T]) -> T:
    """`compute()`, or its result as the first worker of this run to ask computed it (pickled,
    under a lock so that the others wait for it instead of computing it too). Outside xdist,
    just `compute()`."""
    directory = os.environ.get(SHARED_DIRECTORY)
    if directory is None:
        return compute()
    path = Path(directory) / f"{key}.pickle"
    with cache_lock(Path(directory) / f"{key}.lock"):
        if path.exists():
            loaded: T = pickle.loads(path.read_bytes())
            return loaded
        value = compute()
        partial = path.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        partial.rename(path)
    return value

# The session fixtures that start a server (or build one's data), costliest first: worth a
# worker of their own.
SERVER_FIXTURES = ("three_zone", "stack", "fleet_prometheus", "fleet_victoriametrics",
                   "real_history", "postgres", "empty_prometheus", "api_server")


def _shared_scopes(item: pytest.Item) -> list[str]:
    """The costly things `item` shares with other tests: server fixtures by name, and fixtures
    of module or package scope by where they live."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return []
    servers = [name for name in SERVER_FIXTURES if name in info.names_closure]
    shared = servers[:1]
    for name in info.names_closure:
        definitions = info.name2fixturedefs.get(name)
        if not definitions or name in SERVER_FIXTURES:
            continue
        scope = definitions[-1].scope
        if scope == "module":
            shared.append(item.nodeid.split("::")[0])
        elif scope == "package":
            shared.append(item.nodeid.rsplit("/", 1)[0])
    return shared


class _Groups:
    """Union-find over shared things: two tests that share one are in one group."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def join(self, keys: list[str]) -> None:
        for other in keys[1:]:
            self.parent[self.find(other)] = self.find(keys[0])


def mark_groups(items: list[pytest.Item]) -> None:
    """Add `xdist_group(name)` to every test that shares a server or a wide fixture."""
    groups = _Groups()
    shared = {item.nodeid: _shared_scopes(item) for item in items}
    for keys in shared.values():
        if keys:
            groups.join(keys)
    for item in items:
        if shared[item.nodeid]:
            item.add_marker(pytest.mark.xdist_group(groups.find(shared[item.nodeid][0])))
