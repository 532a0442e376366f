"""All database access of compactwatch, as methods on one `Store`.

Stages never see a session: they hand records in and get records out. Write transactions
are short and, on SQLite, take the write lock up front (see db.py).
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import StoreError
from pipeline.store.articles import ArticleFilter, ArticleStore, SavedArticle, stored_article_from_rows
from pipeline.store.base import LABELS, friendly_error, utcnow
from pipeline.store.db import DEFAULT_CONNECT_TIMEOUT, create_store_engine
from pipeline.store.feeds import FeedStore
from pipeline.store.outbox import OutboxStore

__all__ = [
    "LABELS",
    "ArticleFilter",
    "SavedArticle",
    "Store",
    "open_store",
    "stored_article_from_rows",
    "utcnow",
]


class Store(FeedStore, ArticleStore, OutboxStore):
    """The one gateway to the database: feeds, articles and the alert outbox over one
    engine (each group in its own module: feeds.py, articles.py, outbox.py, base.py)."""


def open_store(
    database_url: str,
    *,
    migrate: bool = True,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    statement_timeout: float | None = None,
) -> Store:
    """Connect to the database and (by default) apply migrations. Connecting gives up after
    `connect_timeout` seconds; `statement_timeout` bounds each query (the web app's), and
    migrations run before it applies, on a connection without that bound."""
    if statement_timeout and migrate:
        open_store(database_url, connect_timeout=connect_timeout).close()
        migrate = False
    try:
        engine = create_store_engine(
            database_url, connect_timeout=connect_timeout, statement_timeout=statement_timeout
        )
    except SQLAlchemyError as error:
        raise StoreError(f"bad DATABASE_URL: {friendly_error(error)}") from None
    store = Store(engine)
    if migrate:
        store.upgrade()
    else:
        store.check()
    return store
