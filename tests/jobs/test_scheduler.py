"""Periodic work on one scheduler: of two processes' workers, only the advisory lock's holder runs each period;
when the holder's connection dies the other takes over."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from marketplace.core import db
from marketplace.jobs.runner import BackgroundWorker
from marketplace.jobs.scheduler import SchedulerLock

class Periodic(BackgroundWorker):
    """Counts the periods it ran its task in."""

    kind = "testperiodic"

    def __init__(self, scheduler: SchedulerLock, **settings) -> None:
        super().__init__(**settings)
        self.scheduler = scheduler
        self.runs = 0
        self._count = threading.Lock()

    def run_once(self) -> int:
        if self.scheduled_here():
            with self._count:
                self.runs += 1
        return 0


def _url(pg_database_url: str) -> str:
    return pg_database_url.replace("postgresql+psycopg://", "postgresql://")


def _wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@pytest.mark.postgres
def test_only_one_scheduler_runs_the_periodic_task_and_the_other_takes_over(pg_database_url):
    db.init_engine(pg_database_url)
    # two processes' locks: each has its own connection, as two processes would
    first, second = (Periodic(SchedulerLock("reconciliation", _url(pg_database_url)), poll_interval_s=0.02)
                     for _ in range(2))
    first.start()
    assert _wait(lambda: first.runs > 0)
    second.start()
    try:
        time.sleep(0.5)  # ~25 periods each
        assert first.runs > 10 and second.runs == 0  # only the holder ran the task
        # the holder's process dies: its session goes, PostgreSQL drops the lock with it
        with psycopg.connect(_url(pg_database_url), autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", [first.scheduler.backend_pid()]).fetchone()[0]
        assert _wait(lambda: second.runs > 0)
        held_by_second, first_runs = second.runs, first.runs
        time.sleep(0.3)
        assert second.runs > held_by_second  # the other one runs it now ...
        assert first.runs <= first_runs + 1  # ... and the old holder (reconnected) does not get it back
    finally:
        first.stop()
        second.stop()
    db.get_engine().dispose()


@pytest.mark.postgres
def test_a_stopped_scheduler_hands_the_task_over_at_once(pg_database_url):
    url = _url(pg_database_url)
    one, other = SchedulerLock("indexer", url), SchedulerLock("indexer", url)
    another_task = SchedulerLock("chainwatch", url)
    try:
        assert one.held() and one.held()  # kept while its session lives
        assert not other.held()
        assert another_task.held()  # one lock per task: another task is scheduled independently
        one.release()
        assert other.held()
        assert not one.held()
    finally:
        for lock in (one, other, another_task):
            lock.release()


def test_on_sqlite_there_is_no_lock_and_every_period_runs(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'one.db'}")
    assert SchedulerLock.for_engine("indexer", engine) is None
    worker = Periodic(None, poll_interval_s=0.02)  # type: ignore[arg-type]
    assert worker.scheduled_here()
    engine.dispose()
