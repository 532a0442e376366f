"""The store: every database access of compactwatch goes through `Store`."""

from pipeline.store.store import ArticleFilter, Store, open_store

__all__ = ["ArticleFilter", "Store", "open_store"]
