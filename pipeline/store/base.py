"""The store's plumbing: the engine, short read and write sessions (on SQLite the write
lock is taken up front, see db.py), database errors turned into one-line StoreErrors,
migrations. The table groups (feeds, articles, outbox) are mixins over `StoreBase`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.errors import StoreError
from pipeline.store.db import writer_engine
from pipeline.store.migrate import upgrade_database

LABELS = ("relevant", "pro_city_inclusion", "sovereignty_framing")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _is_corrupt(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return "malformed" in text or "file is not a database" in text or "disk image" in text


def friendly_error(error: Exception) -> str:
    text = str(getattr(error, "orig", error)).strip().splitlines()[0]
    return text[:300]


class StoreBase:
    """Engine, sessions and errors shared by every part of the store."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(writer_engine(engine), expire_on_commit=False)

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def reading(self) -> Iterator[Session]:
        try:
            with self._read() as session:
                yield session
        except DatabaseError as error:
            if isinstance(error, OperationalError) or _is_corrupt(error):
                raise self._unavailable(error) from None
            raise

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A short write transaction, committed on success, rolled back on error."""
        try:
            with self._write.begin() as session:
                yield session
        except DatabaseError as error:
            if isinstance(error, OperationalError) or _is_corrupt(error):
                raise self._unavailable(error) from None
            raise

    def _unavailable(self, error: DatabaseError) -> StoreError:
        """A one-line StoreError for an unreachable or a corrupt database (a corrupt SQLite
        file is named, with what to do)."""
        if _is_corrupt(error):
            url = self.engine.url
            where = url.database if self.dialect == "sqlite" else url.render_as_string(hide_password=True)
            return StoreError(
                f"the database file {where} is corrupt ({friendly_error(error)}): stop compactwatch and "
                "restore the file from your latest backup (see README, Security)"
            )
        return StoreError(f"database unavailable: {friendly_error(error)}")

    def upgrade(self) -> None:
        try:
            upgrade_database(self.engine)
        except DatabaseError as error:
            if _is_corrupt(error):
                raise self._unavailable(error) from None
            if not isinstance(error, OperationalError):
                raise StoreError(f"could not migrate the database: {friendly_error(error)}") from None
            where = self.engine.url.render_as_string(hide_password=True)
            raise StoreError(f"database unavailable at {where}: {friendly_error(error)}") from None
        except SQLAlchemyError as error:
            raise StoreError(f"could not migrate the database: {friendly_error(error)}") from None

    def check(self) -> None:
        """Raise StoreError when the database cannot be reached."""
        with self.reading() as session:
            session.execute(select(1))

    def close(self) -> None:
        self.engine.dispose()
