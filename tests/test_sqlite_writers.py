"""SQLite: writers of one process queue on a lock (not in SQLite's sleeping busy handler), and every way a write
transaction can end lets the next writer in."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from marketplace.core.db import make_engine


def _engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"))
    return engine


def _write_in_thread(engine, value: int) -> float:
    """Insert from another thread; seconds it took."""
    took: list[float] = []

    def run():
        t0 = time.monotonic()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
        took.append(time.monotonic() - t0)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(10)
    assert took, "the other writer never got in"
    return took[0]


def test_concurrent_writers_all_commit(tmp_path):
    engine = _engine(tmp_path)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO t (id, v) VALUES (1, 0)"))
    errors: list[Exception] = []

    def writer(k: int):
        try:
            for i in range(50):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": k * 1000 + i})
                    conn.execute(text("UPDATE t SET v = v + 1 WHERE id = 1"))  # a read-modify-write counter
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t WHERE id > 1")).scalar() == 400
        assert conn.execute(text("SELECT v FROM t WHERE id = 1")).scalar() == 400  # no increment lost


def test_a_waiting_writer_gets_in_when_the_holder_commits(tmp_path):
    engine = _engine(tmp_path)
    conn = engine.connect()
    conn.execute(text("INSERT INTO t (v) VALUES (1)"))  # holds the write lock until commit
    timer = threading.Timer(0.3, conn.commit)
    timer.start()
    took = _write_in_thread(engine, 2)
    assert took >= 0.25  # it waited for the commit ...
    conn.close()
    with engine.connect() as c:
        assert sorted(c.execute(text("SELECT v FROM t")).scalars()) == [1, 2]  # ... and both rows are there


def test_rollback_and_close_without_commit_release_the_writer_lock(tmp_path):
    engine = _engine(tmp_path)
    conn = engine.connect()
    conn.execute(text("INSERT INTO t (v) VALUES (1)"))
    conn.rollback()
    _write_in_thread(engine, 2)

    conn.execute(text("INSERT INTO t (v) VALUES (3)"))
    conn.close()  # back to the pool, which rolls back what was left open
    _write_in_thread(engine, 4)
    with engine.connect() as c:
        assert sorted(c.execute(text("SELECT v FROM t")).scalars()) == [2, 4]


def test_reads_do_not_wait_for_a_writer(tmp_path):
    engine = _engine(tmp_path)
    writer = engine.connect()
    writer.execute(text("INSERT INTO t (v) VALUES (1)"))
    got: list = []
    thread = threading.Thread(target=lambda: got.append(engine.connect().execute(text("SELECT count(*) FROM t"))
                                                        .scalar()))
    thread.start()
    thread.join(5)
    assert got == [0]  # WAL: the reader sees the last commit without waiting
    writer.commit()
    writer.close()
