"""Periodic work on one scheduler across processes: a PostgreSQL session-level advisory lock per periodic task.

The indexer and the chain watcher's re-verification run every few seconds in every worker process; with several
processes they would each do the same reads and writes (the guarded writes keep that correct, but it is wasted
work and noise). A SchedulerLock names the task; `held()` answers whether this process runs it now:
`pg_try_advisory_lock` on a connection of its own, kept open while the process holds the lock. Whichever process
asks first gets it; the others ask again at their next period, so when the holder's process dies (or its
connection does) PostgreSQL drops the lock with the session and the next one to ask takes over. On SQLite (one
process) there is no lock: every period runs (`held()` is always true).
"""

from __future__ import annotations

import hashlib
import logging
import threading

import psycopg

from marketplace.core import db

log = logging.getLogger(__name__)


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a task name (the same in every process)."""
    return int.from_bytes(hashlib.sha256(f"marketplace:{name}".encode()).digest()[:8], "big", signed=True)


class SchedulerLock:
    def __init__(self, name: str, url: str) -> None:
        """`url`: a libpq URL of the database (postgresql://...)."""
        self.name = name
        self.url = url
        self.key = lock_key(name)
        self._conn: psycopg.Connection | None = None
        self._held = False
        self._mutex = threading.Lock()

    @classmethod
    def for_engine(cls, name: str, engine) -> SchedulerLock | None:
        """The lock of `name` on this engine's database; None on SQLite (one process: nothing to share)."""
        url = db.libpq_url(engine)
        return None if url is None else cls(name, url)

    def held(self) -> bool:
        """Does this process run the task now? Takes the lock when it is free; False when another holds it or the
        database cannot be reached."""
        with self._mutex:
            try:
                if self._conn is None or self._conn.closed:
                    self._held = False
                    self._conn = psycopg.connect(self.url, autocommit=True, connect_timeout=5)
                if self._held:
                    self._conn.execute("SELECT 1")  # still our session (a dead one lost the lock with it)
                    return True
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", [self.key]).fetchone()
                self._held = bool(row and row[0])
                if self._held:
                    log.info("scheduler: this process runs %s", self.name)
                return self._held
            except (psycopg.Error, OSError) as exc:
                if self._held:
                    log.warning("scheduler: lost %s (%s); another process may take it over", self.name, exc)
                self._drop()
                return False

    def release(self) -> None:
        """Let the task go (stop): unlocked at once, then the session closed (closing alone frees the lock only
        when the server has ended the session, so another process asking right after could still be refused)."""
        with self._mutex:
            if self._held and self._conn is not None and not self._conn.closed:
                try:
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", [self.key])
                except (psycopg.Error, OSError):  # a dead session holds nothing any more
                    pass
            self._drop()

    def backend_pid(self) -> int | None:
        """The PostgreSQL backend holding the lock for this process (tests terminate it)."""
        return self._conn.info.backend_pid if self._conn is not None and self._held else None

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            try:
                self._conn.close()
            except (psycopg.Error, OSError):  # pragma: no cover - closing a dead connection
                pass
        self._conn = None
