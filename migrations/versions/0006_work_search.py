"""work search: full-text indexes (SQLite FTS5, PostgreSQL tsvector + GIN) kept by triggers; indexes for the
gallery's filters and sorts

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Text search was `lower(col) LIKE '%word%'` over three columns of two tables: no index can serve it. Each database
now keeps a full-text document per work (title, description, the creator's name), written by triggers on every
insert and update of a work and on every change of an account's display name (see marketplace/catalog/search.py).
On SQLite a "batch" migration that recreates `work` or `account` drops these triggers: recreate them there.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0006'
down_revision: Union[str, None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_CREATOR_OF_NEW = "(SELECT display_name FROM account WHERE id = new.creator_id)"

SQLITE_UP = [
    "CREATE VIRTUAL TABLE work_fts USING fts5(title, description, creator, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')",
    f"""CREATE TRIGGER work_fts_insert AFTER INSERT ON work BEGIN
        INSERT INTO work_fts(rowid, title, description, creator)
        VALUES (new.id, new.title, new.description, {_CREATOR_OF_NEW});
    END""",
    f"""CREATE TRIGGER work_fts_update AFTER UPDATE OF title, description, creator_id ON work BEGIN
        UPDATE work_fts SET title = new.title, description = new.description, creator = {_CREATOR_OF_NEW}
        WHERE rowid = new.id;
    END""",
    """CREATE TRIGGER work_fts_delete AFTER DELETE ON work BEGIN
        DELETE FROM work_fts WHERE rowid = old.id;
    END""",
    """CREATE TRIGGER account_fts_update AFTER UPDATE OF display_name ON account BEGIN
        UPDATE work_fts SET creator = new.display_name WHERE rowid IN (SELECT id FROM work WHERE creator_id = new.id);
    END""",
    """INSERT INTO work_fts(rowid, title, description, creator)
       SELECT work.id, work.title, work.description, account.display_name FROM work JOIN account
       ON account.id = work.creator_id""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS account_fts_update",
    "DROP TRIGGER IF EXISTS work_fts_delete",
    "DROP TRIGGER IF EXISTS work_fts_update",
    "DROP TRIGGER IF EXISTS work_fts_insert",
    "DROP TABLE IF EXISTS work_fts",
]

POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "ALTER TABLE work ADD COLUMN search_document tsvector",
    # 'simple': lowercase words, no stemming and no stop words (the catalog is in many languages); everything but
    # letters and digits separates words, on both sides (as SQLite's unicode61 tokenizer does: "sea-salt" finds
    # "sea salt", "3.5" finds "3.5")
    """CREATE FUNCTION work_search_document(title text, description text, creator text) RETURNS tsvector
       LANGUAGE sql STABLE PARALLEL SAFE AS $$
         SELECT to_tsvector('simple', regexp_replace(unaccent(coalesce(title, '') || ' ' || coalesce(description, '')
                                                              || ' ' || coalesce(creator, '')),
                                                     '[^[:alnum:]]+', ' ', 'g'))
       $$""",
    # every word of the query as a prefix term, all required: plainto_tsquery quotes the lexemes, ':*' is added
    # after each closing quote. No word at all: NULL (matches nothing).
    r"""CREATE FUNCTION work_search_query(q text) RETURNS tsquery LANGUAGE sql STABLE PARALLEL SAFE AS $$
         SELECT nullif(regexp_replace(plainto_tsquery('simple', regexp_replace(unaccent(q), '[^[:alnum:]]+', ' ', 'g'))::text,
                                     '''( |$)', ''':*\1', 'g'),
                       '')::tsquery
       $$""",
    f"""CREATE FUNCTION work_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          new.search_document := work_search_document(new.title, new.description, {_CREATOR_OF_NEW});
          RETURN new;
        END
       $$""",
    """CREATE TRIGGER work_search_sync BEFORE INSERT OR UPDATE OF title, description, creator_id ON work
       FOR EACH ROW EXECUTE FUNCTION work_search_sync()""",
    """CREATE FUNCTION account_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          UPDATE work SET search_document = work_search_document(title, description, new.display_name)
          WHERE creator_id = new.id;
          RETURN NULL;
        END
       $$""",
    """CREATE TRIGGER account_search_sync AFTER UPDATE OF display_name ON account FOR EACH ROW
       WHEN (old.display_name IS DISTINCT FROM new.display_name) EXECUTE FUNCTION account_search_sync()""",
    """UPDATE work SET search_document = work_search_document(work.title, work.description, account.display_name)
       FROM account WHERE account.id = work.creator_id""",
    "CREATE INDEX ix_work_search_document ON work USING gin (search_document)",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS account_search_sync ON account",
    "DROP TRIGGER IF EXISTS work_search_sync ON work",
    "DROP FUNCTION IF EXISTS account_search_sync()",
    "DROP FUNCTION IF EXISTS work_search_sync()",
    "DROP FUNCTION IF EXISTS work_search_query(text)",
    "DROP FUNCTION IF EXISTS work_search_document(text, text, text)",
    "DROP INDEX IF EXISTS ix_work_search_document",
    "ALTER TABLE work DROP COLUMN IF EXISTS search_document",
]


def _statements(up: bool) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        return POSTGRES_UP if up else POSTGRES_DOWN
    if dialect == "sqlite":
        return SQLITE_UP if up else SQLITE_DOWN
    raise NotImplementedError(f"work search has no index for {dialect}")


def upgrade() -> None:
    with op.batch_alter_table('work', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_discipline'))
        batch_op.create_index('ix_work_discipline_created_at', ['discipline', 'created_at'], unique=False)
        batch_op.create_index('ix_work_discipline_price_cents', ['discipline', 'price_cents'], unique=False)
    op.create_index('ix_work_lower_title', 'work', [sa.text('lower(title)')], unique=False)
    for statement in _statements(up=True):
        op.execute(statement)


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
    op.drop_index('ix_work_lower_title', table_name='work')
    with op.batch_alter_table('work', schema=None) as batch_op:
        batch_op.drop_index('ix_work_discipline_price_cents')
        batch_op.drop_index('ix_work_discipline_created_at')
        batch_op.create_index(batch_op.f('ix_work_discipline'), ['discipline'], unique=False)
