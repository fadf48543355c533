from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool
from sqlmodel import SQLModel

from marketplace import models  # noqa: F401  (registers every table on SQLModel.metadata)
from marketplace.catalog import search
from marketplace.core.config import get_settings
from marketplace.core.db import normalise_url

config = context.config
target_metadata = SQLModel.metadata
# the full-text search indexes live outside the models (see marketplace/catalog/search.py)
_FILTERS = {"include_name": search.include_name, "include_object": search.include_object}


def _url() -> str:
    return config.attributes.get("url") or normalise_url(get_settings().effective_database_url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, compare_type=True,
                      render_as_batch=True, **_FILTERS)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                          render_as_batch=True, **_FILTERS)
        with context.begin_transaction():
            context.run_migrations()
        return
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = _url()
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, compare_type=True,
                          render_as_batch=True, **_FILTERS)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
