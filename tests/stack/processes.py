"""Process plumbing shared by the stack's servers: free ports, bounded starts, clean stops,
and a lock for the caches that several test processes may fill at once.

A server that fails to come up must fail the run with its own words (the tail of its log), not
with a timeout somewhere later, so every start is bounded and reports the log tail.

`make test` runs the suite in several pytest-xdist workers at once. A port the OS hands out
(bind to 0) is free only until the server binds it, and another worker may be handed the
same one meanwhile; so each worker takes its ports from a block of its own (`free_port`),
below the kernel's ephemeral range, which the OS never hands to anyone else.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import itertools
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"

# Worker gwN takes its ports from [PORT_BLOCKS_START + N × PORT_BLOCK_SIZE, + PORT_BLOCK_SIZE):
# twelve workers fit below 32768, where Linux's ephemeral range (32768-60999) begins.
PORT_BLOCKS_START = 20000
PORT_BLOCK_SIZE = 1000
PORT_BLOCKS = 12


@functools.cache
def _worker_ports() -> Iterator[int] | None:
    """This xdist worker's block, from a random place in it and round (None outside xdist, or
    past the twelfth worker: the OS picks then)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw") or not worker[2:].isdigit() or int(worker[2:]) >= PORT_BLOCKS:
        return None
    first = PORT_BLOCKS_START + int(worker[2:]) * PORT_BLOCK_SIZE
    start = random.randrange(PORT_BLOCK_SIZE)
    return itertools.cycle([first + (start + n) % PORT_BLOCK_SIZE for n in range(PORT_BLOCK_SIZE)])


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port that was free on loopback a moment ago: the next bindable one of this xdist
    worker's block, so no other worker is handed it; outside xdist the OS picks it."""
    block = _worker_ports()
    if block is not None:
        for port in itertools.islice(block, PORT_BLOCK_SIZE):
            if _bindable(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def cache_lock(lock_file: Path) -> Iterator[None]:
    """Held (an exclusive `flock` on `lock_file`) while a cache entry is built, so that two
    test processes never build the same one at once; the second waits, then finds it built."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def port_open(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"(no log at {path})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


class StartError(RuntimeError):
    """A server did not become ready in time; the message carries its log tail."""


class ManagedProcess:
    """One child process with its output in a log file; started in its own process group."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path,
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, ready: Callable[[], bool], timeout_s: float = 90.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=self.env, cwd=self.cwd, start_new_session=True,
        )
        log.close()
        self.wait_ready(ready, timeout_s)

    def wait_ready(self, ready: Callable[[], bool], timeout_s: float = 90.0) -> None:
        """Poll `ready` until it holds; a process that exits meanwhile fails with its log tail.
        Apart from `start` so that servers that need each other (a controller quorum) can all
        be launched before any is waited for."""
        assert self.proc is not None, "start() first"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise StartError(
                    f"{self.name} exited with code {self.proc.returncode} while starting; "
                    f"log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            with contextlib.suppress(Exception):
                if ready():
                    return
            time.sleep(0.25)
        self.stop()
        raise StartError(
            f"{self.name} not ready after {timeout_s:.0f}s; log {self.log_path}:\n"
            f"{log_tail(self.log_path)}"
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM the group, then SIGKILL whatever is left after the timeout."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL, for fault tests that need an unclean death."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self.proc = None


class ServerLifecycle:
    """Stop, kill and `running` for a test server that holds one ManagedProcess; each server
    says how it starts."""

    _process: ManagedProcess | None
    stop_timeout_s: float = 20.0

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(timeout_s=self.stop_timeout_s)
            self._process = None

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.running
