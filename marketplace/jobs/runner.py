"""A polling background worker in a thread: run_once() until stopped, sleeping when idle, woken on demand.

Domain services wake the workers of a kind by name (`wake("mint")` after a mint request): they never hold the
worker objects, which the composition root (marketplace.services) builds and starts.

Across processes (PostgreSQL): wake() also sends `NOTIFY wake_<kind>` (after the caller's commit, so the rows are
there when it arrives), and each process running workers keeps one listening connection (WakeListener: `LISTEN` on
the channels of its running kinds, waiting on the socket) that wakes its local workers. The poll interval stays as
the fallback for a notification lost with a connection. SQLite: one process, the local wake only."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import psycopg
from psycopg import sql
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from marketplace.core import db
from marketplace.core.exceptions import ServiceUnavailable
from marketplace.jobs.lease import Backoff

log = logging.getLogger(__name__)

_running: dict[str, set[BackgroundWorker]] = {}
_running_lock = threading.Lock()
_listener: WakeListener | None = None


def wake(kind: str) -> None:
    """Wake the running workers of `kind`: this process's at once and, on PostgreSQL, every other process's through
    NOTIFY (none running anywhere: the work waits in its table for whichever worker polls next). Call it after the
    commit that made the work ready."""
    wake_local(kind)
    _publish(kind)


def wake_local(kind: str) -> None:
    with _running_lock:
        workers = list(_running.get(kind, ()))
    for worker in workers:
        worker.wake()


def channel(kind: str) -> str:
    return f"wake_{kind}"


def _postgres_engine():
    try:
        engine = db.get_engine()
    except RuntimeError:  # no database configured (a unit test of one worker)
        return None
    return engine if engine.dialect.name == "postgresql" else None


def _publish(kind: str) -> None:
    engine = _postgres_engine()
    if engine is None:
        return
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": channel(kind)})
            conn.commit()
    except SQLAlchemyError as exc:  # the others poll: a lost notification only delays them
        log.warning("wake(%s): NOTIFY failed: %s", kind, exc)


class WakeListener:
    """One connection per process LISTENing on wake_<kind> for the kinds of its running workers; a notification
    wakes the local workers of that kind. Reconnects after a lost connection (and then wakes every local worker:
    notifications sent meanwhile were lost)."""

    def __init__(self, url: str, *, idle_s: float = 0.5) -> None:
        self.url = url
        self.idle_s = idle_s  # how soon a newly started kind is listened to
        self.listening: set[str] = set()
        self.ready = threading.Event()  # set once the running kinds are listened to (tests wait on it)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="wake-listener", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    self.listening = set()
                    self._listen(conn)
                    for kind in self.listening:  # anything sent while no connection listened
                        wake_local(kind)
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=self.idle_s):
                            wake_local(note.channel.removeprefix("wake_"))
                        self._listen(conn)
            except (psycopg.Error, OSError) as exc:  # the database went away: poll meanwhile, listen again later
                self.ready.clear()
                log.warning("wake listener: %s; reconnecting", exc)
                self._stop.wait(1.0)

    def _listen(self, conn) -> None:
        with _running_lock:
            kinds = set(_running)
        for kind in sorted(kinds - self.listening):
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel(kind))))
        self.listening |= kinds
        self.ready.set()


def _ensure_listener() -> None:
    global _listener
    engine = _postgres_engine()
    if engine is None:
        return
    with _running_lock:
        if _listener is not None:
            return
        _listener = WakeListener(db.libpq_url(engine))
        _listener.start()


def _stop_listener_if_idle() -> None:
    global _listener
    with _running_lock:
        idle = not any(_running.values())
        listener, _listener = (_listener, None) if idle else (None, _listener)
    if listener is not None:
        listener.stop(timeout=0)  # it ends within idle_s; nobody needs to wait for that


def listener() -> WakeListener | None:
    """This process's wake listener (None: no worker running, or SQLite)."""
    return _listener


@contextmanager
def nonce_freed_on_error(signer, nonce: int | None = None) -> Iterator[None]:
    """Around the write-ahead of a signed transaction: when recording it fails (say, the database connection
    died), it is never sent, so its nonce is free again (signer.free; no nonce given: the signer re-reads the
    pending count); else every later transaction of the key would wait behind the gap forever."""
    try:
        yield
    except BaseException:
        if nonce is None:
            signer.resync()
        else:
            signer.free(nonce)
        raise


class BackgroundWorker:
    """Subclasses implement run_once() -> how much work moved (0 = idle: sleep poll_interval_s or until wake())."""

    kind = "worker"
    # periodic work that runs in one process only (jobs.scheduler.SchedulerLock; None: in every process)
    scheduler = None

    def __init__(
        self,
        *,
        batch_size: int = 50,
        max_attempts: int = 5,
        poll_interval_s: float = 0.2,
        lease_s: float = 120.0,
        stale_submit_s: float = 15.0,
        receipt_timeout_s: float = 60.0,
        retry_backoff_s: float = 0.0,
        name: str | None = None,
    ) -> None:
        """The settings every chain worker shares: how much it claims, how long a claim (lease) holds, when a
        submitted transaction counts as lost (stale_submit), how long to wait for a receipt."""
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.poll_interval_s = poll_interval_s
        self.lease = timedelta(seconds=lease_s)
        self.stale_submit = timedelta(seconds=stale_submit_s)
        self.receipt_timeout_s = receipt_timeout_s
        self.backoff = Backoff(base_s=retry_backoff_s)  # a failed attempt's job waits this long before the next
        self.name = name or f"{self.kind}-{os.getpid()}-{id(self):x}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
            self._thread.start()
            with _running_lock:
                _running.setdefault(self.kind, set()).add(self)
            _ensure_listener()

    def stop(self, timeout: float = 10.0) -> None:
        with _running_lock:
            _running.get(self.kind, set()).discard(self)
        _stop_listener_if_idle()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        if self.scheduler is not None:
            self.scheduler.release()  # another process takes the periodic work over

    def wake(self) -> None:
        self._wake.set()

    def scheduled_here(self) -> bool:
        """Does this process run the periodic part of this worker now? (No scheduler lock: yes.)"""
        return self.scheduler is None or self.scheduler.held()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except ServiceUnavailable as exc:
                log.warning("%s: %s", self.name, exc.message)
                busy = 0
            except Exception:  # keep the worker alive; the database rows keep the truth
                log.exception("%s: iteration failed", self.name)
                busy = 0
            if not busy:
                self._wake.wait(self.poll_interval_s)
                self._wake.clear()
