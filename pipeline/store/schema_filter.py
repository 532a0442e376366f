"""Which database objects Alembic's autogenerate may compare with the tables.

Full-text search objects are created by raw DDL (migration 0002): the SQLite FTS5 table and
its shadow tables, the PostgreSQL tsvector column and its GIN index. Autogenerate must
never propose dropping them.
"""

from __future__ import annotations

FULL_TEXT_OBJECTS = {"search_vector", "ix_articles_search_vector"}


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    if name is None:
        return True
    if type_ == "table" and name.startswith("articles_fts"):
        return False
    return name not in FULL_TEXT_OBJECTS
