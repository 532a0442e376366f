"""The store's part in running compactwatch on several machines (the Celery runner, issue 11).

Three guarantees the distributed runner needs from the database, because the queue only
promises at-least-once delivery:

* task leases (`task_leases`): a unit of work (`feed:<id>`) is done by one holder at a time;
  a redelivered task carrying the same token carries on, any other token skips;
* the single scheduler: a PostgreSQL session-level advisory lock, held for as long as the
  scheduler's connection lives, so a second scheduler started by mistake is refused at once
  and a crashed one releases the lock with its connection;
* relay claims: `Store.claim_alerts` already leases alert rows with FOR UPDATE SKIP LOCKED
  on PostgreSQL, so several relays never claim one row (nothing new is needed here).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import TracebackType

from sqlalchemy import Connection, delete, select, text
from sqlalchemy.exc import IntegrityError

from pipeline.errors import StoreError
from pipeline.store.store import Store
from pipeline.store.tables import TaskLeaseRow

SCHEDULER_LOCK = "compactwatch-scheduler"


class SchedulerLockHeld(StoreError):
    """Another scheduler already runs against this database."""


def require_postgres(store: Store, why: str) -> None:
    """Refuse to run a distributed part on SQLite, in one line saying why."""
    if store.dialect != "postgresql":
        raise StoreError(f"{why} needs PostgreSQL: DATABASE_URL is {store.dialect}")


def feed_key(feed_id: int) -> str:
    return f"feed:{feed_id}"


def acquire_lease(store: Store, key: str, token: str, *, seconds: float, now: datetime | None = None) -> bool:
    """Take (or renew) the lease on `key` for `token`; False when someone else holds it.

    A lease is free when nobody holds it, when it has run out, or when `token` already holds
    it (the same task, redelivered after its worker died, picks its own work up again).
    """
    now = now or datetime.now(UTC)
    until = now + timedelta(seconds=seconds)
    try:
        with store.writing() as session:
            query = select(TaskLeaseRow).where(TaskLeaseRow.key == key)
            if store.dialect == "postgresql":
                query = query.with_for_update()
            row = session.scalar(query)
            if row is None:
                session.add(TaskLeaseRow(key=key, token=token, acquired_at=now, lease_until=until))
                return True
            if row.token != token and row.lease_until > now:
                return False
            row.token, row.acquired_at, row.lease_until = token, now, until
            return True
    except IntegrityError:  # another process inserted the row between our read and write
        return False


def release_lease(store: Store, key: str, token: str) -> bool:
    """Give the lease back, only if `token` still holds it."""
    with store.writing() as session:
        result = session.execute(
            delete(TaskLeaseRow).where(TaskLeaseRow.key == key, TaskLeaseRow.token == token)
        )
        return bool(getattr(result, "rowcount", 0))


def lease_holder(store: Store, key: str, now: datetime | None = None) -> str | None:
    """The token holding an unexpired lease on `key`, if any."""
    now = now or datetime.now(UTC)
    with store.reading() as session:
        row = session.scalar(select(TaskLeaseRow).where(TaskLeaseRow.key == key))
        return row.token if row is not None and row.lease_until > now else None


def live_lease_keys(store: Store, prefix: str, now: datetime | None = None) -> set[str]:
    """Keys starting with `prefix` that are leased right now (the scheduler skips these)."""
    now = now or datetime.now(UTC)
    with store.reading() as session:
        return set(
            session.scalars(
                select(TaskLeaseRow.key).where(
                    TaskLeaseRow.key.startswith(prefix), TaskLeaseRow.lease_until > now
                )
            )
        )


class SchedulerLock:
    """The advisory lock that makes one scheduler per database (per schema, for tests).

    Held on a connection of its own for the scheduler's lifetime; PostgreSQL releases it
    when that connection ends, so a scheduler killed with -9 does not leave it behind.
    """

    def __init__(self, store: Store, name: str = SCHEDULER_LOCK) -> None:
        require_postgres(store, "the Celery scheduler")
        self.store = store
        self.name = name
        self._connection: Connection | None = None

    def acquire(self) -> None:
        connection = self.store.engine.connect()
        got = connection.execute(
            text("SELECT pg_try_advisory_lock(hashtext(:name || ':' || current_schema()))"),
            {"name": self.name},
        ).scalar()
        connection.commit()
        if not got:
            connection.close()
            raise SchedulerLockHeld(
                "another compactwatch scheduler is already running against this database; "
                "only one may run (it holds the advisory lock)"
            )
        self._connection = connection

    def alive(self) -> bool:
        """Check the lock's connection is still there (the lock goes with it)."""
        if self._connection is None:
            return False
        try:
            self._connection.execute(text("SELECT 1"))
            self._connection.commit()
        except Exception:
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(hashtext(:name || ':' || current_schema()))"),
                    {"name": self.name},
                )
                self._connection.commit()
            finally:
                self._connection.close()
                self._connection = None

    def __enter__(self) -> SchedulerLock:
        self.acquire()
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.release()
