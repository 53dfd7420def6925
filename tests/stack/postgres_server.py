"""A real PostgreSQL server (Debian's package) in a temporary directory, on a free loopback
port. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from pathlib import Path

from tests.stack.processes import LOOPBACK, ManagedProcess, free_port, port_open

DATABASE = "costopt"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise FileNotFoundError(f"PostgreSQL's {name} not found: install Debian's package "
                                "(`apt-get install -y postgresql`); `make test` does this")
    return found[-1]


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


class PostgresServer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data = workdir / "pgdata"
        self.port = free_port()
        self._process: ManagedProcess | None = None

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{LOOPBACK}:{self.port}/{DATABASE}"

    def _init(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres", "postgres")
        subprocess.run(_as_postgres([_bin("initdb"), "-D", str(self.data), "-U", "postgres",
                                     "-A", "trust", "--no-sync", "-E", "UTF8"]),
                       check=True, capture_output=True)

    def start(self, timeout_s: float = 60) -> None:
        first = not self.data.exists()
        if first:
            self._init()
        log = self.workdir / "postgres.log"
        if os.geteuid() == 0 and not log.exists():
            log.touch()
            shutil.chown(log, "postgres", "postgres")
        self._process = ManagedProcess("postgres", _as_postgres([
            _bin("postgres"), "-D", str(self.data), "-p", str(self.port),
            "-c", f"listen_addresses={LOOPBACK}", "-c", f"unix_socket_directories={self.workdir}",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]),
            log)
        self._process.start(lambda: port_open(self.port), timeout_s=timeout_s)
        if first:
            subprocess.run(_as_postgres([_bin("createdb"), "-h", LOOPBACK, "-p",
                                         str(self.port), "-U", "postgres", DATABASE]),
                           check=True, capture_output=True)

    def new_database(self) -> str:
        """A fresh, empty database's URL (one per test keeps tests independent)."""
        import uuid

        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"host={LOOPBACK} port={self.port} user=postgres dbname="
                             f"{DATABASE}", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@{LOOPBACK}:{self.port}/{name}"

    def stop(self) -> None:
        """A fast shutdown: SIGTERM would be "smart" and wait for every client to leave."""
        if self._process is not None:
            subprocess.run(_as_postgres([_bin("pg_ctl"), "stop", "-D", str(self.data), "-m",
                                         "fast", "-w", "-t", "30"]), capture_output=True,
                           check=False)
            self._process.stop()
            self._process = None
