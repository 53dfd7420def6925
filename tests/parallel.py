"""Which tests must share a pytest-xdist worker, so that `make test` starts each real server once.

`make test` runs the suite in several workers (`pytest -n N --dist loadgroup`). A worker that
runs one test of a session fixture starts that fixture itself, so a Kafka or a three-zone
cluster spread over four workers would start four times. So every test that uses one of the
servers below, or a fixture its module (or package) builds once, is put in a group, and tests
that share any of those end up in the same group (joined transitively): each group runs on one
worker and starts what it needs once. A test that uses two servers joins the group of the
costlier only (the other starts once more, on that worker), so that one such test does not
pull two long groups onto one worker. The rest spread over the workers one by one.

The groups are `xdist_group` marks, but pytest 9.2 keeps node ids where xdist 3.8 can no
longer append the group to them (pytest-dev/pytest-xdist#1386: `loadgroup` then silently groups
nothing). So the workers also write the groups to the run's shared directory, and the
controller schedules with `GroupScheduling`, which reads them there. Like xdist's own, it hands
out the biggest groups first, so the long real-server groups start at once and the single
tests fill the workers around them.

What a worker computes for itself and others would compute again (the `wix` fleet analysed in
memory: about a minute of CPU on this machine, and a 2-core machine has little to spare) is
built once per run by whichever worker asks first and read back by the rest (`computed_once`).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
from xdist.scheduler import LoadGroupScheduling

from tests.stack.processes import cache_lock

# A directory all processes of one xdist run share (the workers inherit the controller's
# environment); unset outside xdist.
SHARED_DIRECTORY = "COSTOPT_TESTS_SHARED_DIR"
GROUPS_FILE = "groups.json"

T = TypeVar("T")


class GroupScheduling(LoadGroupScheduling):
    """xdist's `loadgroup` scheduling, each test's group read from what the workers wrote."""

    groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self.groups is None:  # the workers have all collected (and written) by now
            path = Path(os.environ[SHARED_DIRECTORY]) / GROUPS_FILE
            self.groups = json.loads(path.read_text()) if path.exists() else {}
        scope = super()._split_scope(nodeid)  # the group where xdist could append it
        return self.groups.get(nodeid, scope) if scope == nodeid else scope


class XdistController:
    """Registered in the controller of an xdist run: makes the shared directory and schedules
    the groups."""

    def __init__(self, config: pytest.Config) -> None:
        directory = tempfile.mkdtemp(prefix="costopt-tests-")
        os.environ[SHARED_DIRECTORY] = directory
        config.add_cleanup(lambda: shutil.rmtree(directory, ignore_errors=True))

    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        if config.getvalue("dist") == "loadgroup":
            return GroupScheduling(config, log)
        return None


def configure(config: pytest.Config) -> None:
    """The controller of an xdist run gets `XdistController`; workers and serial runs nothing."""
    if (config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput")
            and config.getoption("numprocesses", None)):
        config.pluginmanager.register(XdistController(config), "costopt-xdist-groups")


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


def mark_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Add `xdist_group(name)` to every test that shares a server or a wide fixture, and in a
    worker write the groups where `GroupScheduling` reads them."""
    groups = _Groups()
    shared = {item.nodeid: _shared_scopes(item) for item in items}
    for keys in shared.values():
        if keys:
            groups.join(keys)
    named = {item.nodeid: groups.find(keys[0]) for item in items
             if (keys := shared[item.nodeid])}
    for item in items:
        if item.nodeid in named:
            item.add_marker(pytest.mark.xdist_group(named[item.nodeid]))
    directory = os.environ.get(SHARED_DIRECTORY)
    if directory is not None and hasattr(config, "workerinput"):
        written = Path(directory) / f"{GROUPS_FILE}.{os.getpid()}"
        written.write_text(json.dumps(named))
        written.replace(Path(directory) / GROUPS_FILE)  # each worker writes the same
