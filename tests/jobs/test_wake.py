"""Workers in one process are woken by another process's commit (LISTEN/NOTIFY), long before their poll."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select, update
from sqlmodel import Session

from marketplace.core import db
from marketplace.jobs import lease, runner

metadata = MetaData()
JOBS = Table(
    "test_wake_job", metadata,
    Column("id", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("claimed_by", String(64)),
    Column("claimed_until", DateTime(timezone=True)),
)


class DoneWorker(runner.BackgroundWorker):
    """Claims pending rows and marks them done."""

    kind = "testwake"

    def run_once(self) -> int:
        with Session(db.get_engine()) as session:
            rows = lease.claim(session, JOBS, ready=JOBS.c.status == "pending", worker=self.name,
                               lease=timedelta(minutes=1), limit=50)
            if rows:
                session.execute(update(JOBS).where(JOBS.c.id.in_([r.id for r in rows])).values(status="done"))
            session.commit()
        return len(rows)


OTHER_PROCESS = textwrap.dedent("""
    import sys
    from sqlalchemy import text
    from marketplace.core import db
    from marketplace.jobs import runner
    db.init_engine(sys.argv[1])
    with db.get_engine().begin() as conn:
        conn.execute(text("INSERT INTO test_wake_job (id, status) VALUES (1, 'pending'), (2, 'pending')"))
    runner.wake("testwake")
""")


@pytest.mark.postgres
def test_a_worker_is_woken_by_another_process_commit_before_its_poll(pg_database_url):
    db.init_engine(pg_database_url)
    metadata.drop_all(db.get_engine())
    metadata.create_all(db.get_engine())
    worker = DoneWorker(poll_interval_s=120.0)  # polling alone would leave the rows pending for two minutes
    worker.start()
    try:
        listener = runner.listener()
        assert listener is not None and listener.ready.wait(10)
        assert "testwake" in listener.listening
        time.sleep(0.3)  # the worker's first run found nothing: it sleeps its poll interval now
        subprocess.run([sys.executable, "-c", OTHER_PROCESS, pg_database_url], check=True, timeout=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with Session(db.get_engine()) as session:
                statuses = session.scalars(select(JOBS.c.status).order_by(JOBS.c.id)).all()
            if statuses == ["done", "done"]:
                break
            time.sleep(0.05)
        assert statuses == ["done", "done"]
    finally:
        worker.stop()
        metadata.drop_all(db.get_engine())
        db.get_engine().dispose()
    assert runner.listener() is None  # the last worker stopped: the listening connection goes too

