"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from marketplace import models  # noqa: F401  (registers every table)
from marketplace.catalog import search
from marketplace.core import db


def test_migrations_match_the_models(db_url):
    with db.get_engine().connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            # the full-text indexes live outside the models (see marketplace/catalog/search.py)
            "include_name": search.include_name,
            "include_object": search.include_object,
        })
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == [], diff
