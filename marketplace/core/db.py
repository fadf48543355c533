"""Database engine and sessions. SQLite (embedded default) or PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, event, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, create_engine

_engine: Engine | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def normalise_url(url: str) -> str:
    """Accept postgres:// and postgresql:// and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - exercised by every SQLite run
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        _queue_sqlite_writers(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


_SQLITE_BUSY_S = 30.0
_READS = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")


def _queue_sqlite_writers(engine: Engine) -> None:
    """One writer at a time per process, queued on a lock instead of in SQLite's busy handler.

    SQLite lets one connection write at a time. A connection that finds the write lock taken sleeps in the busy
    handler (1, 2, 5, 10 ... 100 ms, rechecking in between), so under concurrent writes (webhooks arriving while
    the workers settle) most of the time went to sleeping past the moment the lock was free. Here a write
    transaction first takes a process-wide lock, from its first write statement (where pysqlite begins the
    transaction) until commit or rollback, and the next writer wakes the moment it is released. Reads never wait
    (WAL). Other processes on the same file still meet SQLite's own lock and busy timeout."""
    lock = threading.Lock()

    def release(info: dict) -> None:
        if info.pop("write_lock", False):
            lock.release()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn, cursor, statement, parameters, context, executemany):  # pragma: no cover - every SQLite write
        if conn.info.get("write_lock") or statement.lstrip()[:7].upper().startswith(_READS):
            return
        if not lock.acquire(timeout=_SQLITE_BUSY_S):
            raise OperationalError(statement, parameters, Exception("database is locked (writer queue)"))
        conn.info["write_lock"] = True

    @event.listens_for(engine, "commit")
    def _committed(conn):
        release(conn.info)

    @event.listens_for(engine, "rollback")
    def _rolled_back(conn):
        release(conn.info)

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_conn, record):  # the pool resets (rolls back) what was left open
        release(record.info)


def is_unavailable(exc: BaseException) -> bool:
    """Does this database error mean "the database is not there right now" (a connection lost or refused: a
    terminated backend, a restart, the network; SQLite's writer queue timing out), rather than a bug?"""
    return isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError)))


def init_engine(url: str) -> Engine:
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = make_engine(url)
    return _engine


def libpq_url(engine: Engine) -> str | None:
    """The engine's database as a plain libpq URL (for psycopg.connect: a LISTEN or advisory-lock connection of
    its own), or None when the database is not PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return None
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def get_engine() -> Engine:
    if _engine is None:
        raise RuntimeError("database engine not initialised; call init_engine() first")
    return _engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session for background work: commits on success, rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def transition_rows(session: Session, table: Table, ids: Sequence[int], *, from_: Sequence[str], to: str,
                    **values: Any) -> list[int]:
    """The guarded state change every state machine here uses: UPDATE ... WHERE id IN (ids) AND status IN (from_)
    SET status = to RETURNING id. The ids this call moved; the others were in another state already (a concurrent
    change, a duplicate event). A plain statement on the table, not the ORM's bulk update: loaded objects keep their
    old values, so callers decide from the returned ids."""
    return list(session.execute(
        update(table)
        .where(table.c.id.in_(list(ids)), table.c.status.in_([str(s) for s in from_]))
        .values(**{"updated_at": utcnow(), **values, "status": str(to)})
        .returning(table.c.id)
    ).scalars())
