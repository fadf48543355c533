"""The job helper on a real table: claims never overlap, releases and retries free the right rows, settle is once."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, insert, select, text
from sqlmodel import Session

from marketplace.core.db import make_engine, utcnow
from marketplace.jobs import lease

metadata = MetaData()
JOBS = Table(
    "test_job", metadata,
    Column("id", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(500)),
    Column("claimed_by", String(64)),
    Column("claimed_until", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
)
READY = JOBS.c.status == "pending"


def _jobs_engine(url: str, count: int):
    """An engine on `url` with a fresh jobs table of `count` pending rows (ids 1..count)."""
    engine = make_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(insert(JOBS), [{"id": i, "status": "pending", "attempts": 0} for i in range(1, count + 1)])
        session.commit()
    return engine


@pytest.fixture
def engine(db_url):
    engine = _jobs_engine(db_url, 100)
    yield engine
    metadata.drop_all(engine)
    engine.dispose()


def _rows(engine):
    with Session(engine) as session:
        return {r.id: r for r in session.execute(select(JOBS)).all()}


def test_concurrent_claims_never_take_a_row_twice(engine):
    def take(worker: str) -> list[int]:
        taken = []
        while True:
            with Session(engine) as session:
                rows = lease.claim(session, JOBS, ready=READY, worker=worker, lease=timedelta(minutes=1), limit=7)
                session.commit()
            if not rows:
                return taken
            taken += [r.id for r in rows]

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(take, [f"w{i}" for i in range(4)]))
    everything = [i for ids in results for i in ids]
    assert sorted(everything) == list(range(1, 101))  # all taken, none twice
    rows = _rows(engine)
    for worker, ids in zip([f"w{i}" for i in range(4)], results, strict=True):
        assert all(rows[i].claimed_by == worker for i in ids)


def test_a_claim_is_free_again_after_its_lease_and_held_rows_wait(engine):
    with Session(engine) as session:
        first = lease.claim(session, JOBS, ready=READY, worker="a", lease=timedelta(seconds=-1), limit=3)
        session.commit()
    with Session(engine) as session:  # the lease of "a" is over: "b" takes the same oldest rows
        again = lease.claim(session, JOBS, ready=READY, worker="b", lease=timedelta(minutes=1), limit=3)
        assert lease.release(session, JOBS, [r.id for r in again], worker="a") == 0  # not a's any more
        assert lease.release(session, JOBS, [again[0].id], worker="b", hold=timedelta(minutes=5)) == 1
        session.commit()
    assert [r.id for r in first] == [r.id for r in again] == [1, 2, 3]
    with Session(engine) as session:
        later = lease.claim(session, JOBS, ready=READY, worker="c", lease=timedelta(minutes=1), limit=1)
    assert [r.id for r in later] == [4]  # 1 is held, 2 and 3 are b's


def test_retry_later_backs_off_by_attempts(engine):
    backoff = lease.Backoff(base_s=2.0, cap_s=10.0)
    assert [backoff.delay(n).total_seconds() for n in (0, 1, 2, 3, 4, 10)] == [0, 2, 4, 8, 10, 10]
    assert lease.Backoff().delay(5) == timedelta(0)
    before = utcnow()
    with Session(engine) as session:
        lease.retry_later(session, JOBS, [5], attempts=3, backoff=backoff, error="lost", status="pending")
        session.commit()
    row = _rows(engine)[5]
    until = row.claimed_until if row.claimed_until.tzinfo else row.claimed_until.replace(tzinfo=before.tzinfo)
    assert row.last_error == "lost" and row.claimed_by is None
    assert timedelta(seconds=7.5) < until - before < timedelta(seconds=9)


def test_settle_moves_each_row_once(engine):
    with Session(engine) as session:
        assert lease.settle(session, JOBS, [1, 2, 3], from_=("pending",), to="done") == [1, 2, 3]
        assert lease.settle(session, JOBS, [2, 3, 4], from_=("pending",), to="done") == [4]
        session.commit()
    rows = _rows(engine)
    assert [rows[i].status for i in (1, 2, 3, 4, 5)] == ["done"] * 4 + ["pending"]


@pytest.mark.postgres
def test_postgres_claims_skip_the_rows_another_session_is_claiming(pg_database_url):
    """(SQLite has one writer: its claims queue on it, test_concurrent_claims_never_take_a_row_twice.)"""
    engine = _jobs_engine(pg_database_url, 20)
    holder, other = Session(engine), Session(engine)
    try:
        held = lease.claim(holder, JOBS, ready=READY, worker="a", lease=timedelta(minutes=1), limit=5)
        assert [r.id for r in held] == [1, 2, 3, 4, 5]  # locked until `holder` commits
        # a claim that waited for those row locks would hit this timeout and raise
        other.execute(text("SET LOCAL lock_timeout = '200ms'"))
        started = time.monotonic()
        taken = lease.claim(other, JOBS, ready=READY, worker="b", lease=timedelta(minutes=1), limit=5)
        waited = time.monotonic() - started
        other.commit()
        holder.commit()
    finally:
        holder.close()
        other.close()
    assert [r.id for r in taken] == [6, 7, 8, 9, 10]  # disjoint, and the next oldest
    assert waited < 0.2
    rows = _rows(engine)
    assert {i for i, r in rows.items() if r.claimed_by == "a"} == {1, 2, 3, 4, 5}
    assert {i for i, r in rows.items() if r.claimed_by == "b"} == {6, 7, 8, 9, 10}
    metadata.drop_all(engine)
    engine.dispose()
