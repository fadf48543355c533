"""Text search over works: every word of the query, as a word prefix, in the title, description or creator name.

Case and accents do not matter ("ete" finds "Été", "OCEAN" finds "ocean"), each word of the query must appear
somewhere in the work's title, description or its creator's name (not necessarily in the same one), and a word
matches the beginning of a word ("ocea" finds "Ocean", "cean" does not). Punctuation separates words.

Each database answers from its own full-text index, kept in sync by triggers (migration `0006`):
- SQLite: the FTS5 table `work_fts` (rowid = work.id; columns title, description, creator; tokenizer
  `unicode61 remove_diacritics 2`, prefix indexes for 2 and 3 characters);
- PostgreSQL: the column `work.search_document` (tsvector of `unaccent(title description creator)` with the
  `simple` configuration: no stemming, no stop words) under a GIN index; `work_search_query(q)` turns the words of
  a query into prefix terms joined by AND.

Both live outside the models (SQLAlchemy has no FTS5 table and no SQLite tsvector): `include_name` and
`include_object` below keep them out of Alembic's model comparison. Beware: an SQLite "batch" migration that
recreates `work` or `account` drops their triggers: recreate them there, as `0006` creates them.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import ColumnElement, Integer, column, false, func, literal_column, select, table, text

from marketplace.catalog.models import Work

FTS_TABLE = "work_fts"
PG_COLUMN = "search_document"
_WORD = re.compile(r"[^\W_]+")


def query_words(q: str) -> list[str]:
    """The words of a query, lowercased (NFC); punctuation and underscores separate words."""
    return _WORD.findall(unicodedata.normalize("NFC", q).lower())


def fts5_match(words: list[str]) -> str:
    """An FTS5 MATCH expression: each word a quoted prefix term, all of them required (implicit AND)."""
    return " ".join('"' + w.replace('"', '""') + '"*' for w in words)


def matches(q: str, dialect: str) -> ColumnElement[bool]:
    """A WHERE condition on `work`: the work's title, description or creator name holds every word of `q`.

    A query without any word (only punctuation) matches nothing."""
    words = query_words(q)
    if not words:
        return false()
    if dialect == "postgresql":
        # the words only (no NUL or control characters reach PostgreSQL); it folds accents as for the documents
        return literal_column(f"work.{PG_COLUMN}").op("@@")(func.work_search_query(" ".join(words)))
    fts = table(FTS_TABLE, column("rowid", Integer))
    hits = select(fts.c.rowid).where(text(f"{FTS_TABLE} MATCH :work_search_match").bindparams(
        work_search_match=fts5_match(words)))
    return Work.__table__.c.id.in_(hits)


# ------------------------------------------------------------------------------------------------ Alembic
_FTS_NAMES = {FTS_TABLE, *(f"{FTS_TABLE}_{part}" for part in ("data", "idx", "content", "docsize", "config"))}


def include_name(name, type_, parent_names) -> bool:  # noqa: ANN001 - Alembic's hook signature
    """Alembic `include_name`: leave the SQLite FTS5 table (and its shadow tables) out of the comparison."""
    return not (type_ == "table" and name in _FTS_NAMES)


def include_object(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001
    """Alembic `include_object`: leave PostgreSQL's `work.search_document` and its index out of the comparison."""
    if type_ == "column" and name == PG_COLUMN and getattr(getattr(obj, "table", None), "name", None) == "work":
        return False
    return not (type_ == "index" and name == "ix_work_search_document")
