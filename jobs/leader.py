"""One active scheduler per store: a leader lock.

On PostgreSQL it is a session-level advisory lock held on a dedicated connection, so it is
released the moment the leader's process dies (its connection drops) and a standby polling
for it takes over. On SQLite (one machine) it is an exclusive file lock beside the database.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger("costopt.leader")
LOCK_KEY = 0x636F73746F7074  # "costopt"


class LeaderLock:
    def __init__(self, store_url: str) -> None:
        self.url = make_url(store_url)
        self._connection: Any = None
        self._file: Any = None

    def try_acquire(self) -> bool:
        if self.url.get_backend_name() == "postgresql":
            if self._connection is None:
                engine = create_engine(self.url, pool_size=1, max_overflow=0)
                self._connection = engine.connect()
            acquired = bool(self._connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}).scalar())
            self._connection.commit()
            return acquired
        database = self.url.database or "costopt.db"
        path = Path(database + ".leader")
        self._file = self._file or path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def wait(self, poll_seconds: float = 5.0, stopped: Callable[[], bool] = lambda: False
             ) -> bool:
        """Block until this process leads (True) or `stopped()` says to give up (False)."""
        announced = False
        while not stopped():
            if self.try_acquire():
                log.info("this scheduler is the leader")
                return True
            if not announced:
                log.info("another scheduler leads; standing by")
                announced = True
            time.sleep(poll_seconds)
        return False
