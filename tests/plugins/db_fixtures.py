"""Databases for the tests: a fresh SQLite file per test, and one PostgreSQL database per session (truncated
between tests). Both are built by the real Alembic migrations."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from sqlalchemy import text

from marketplace.core import db
from marketplace.core.migrate import upgrade

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

def _tables() -> list[str]:
    """Every table of the models (a hand-kept list missed new ones, and their rows leaked between tests)."""
    from sqlmodel import SQLModel

    from marketplace import models  # noqa: F401 - registers every table

    return sorted(SQLModel.metadata.tables)


@pytest.fixture(scope="session")
def pg_database_url():
    name = f"marketplace_test_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:  # pragma: no cover - the machines here always have PostgreSQL
        pytest.fail(f"PostgreSQL is required for the tests ({PG_ADMIN_URL}): {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    upgrade(url)
    yield url
    if db._engine is not None:
        db._engine.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A migrated, empty database; the engine in marketplace.core.db points at it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("pg_database_url")
        engine = db.make_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(_tables())} RESTART IDENTITY CASCADE"))
        engine.dispose()
    db.init_engine(url)
    yield url
    db.get_engine().dispose()
