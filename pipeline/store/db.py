"""Engine creation: SQLite with WAL, busy timeout and foreign keys; PostgreSQL with bounds.

SQLite's Python driver starts transactions lazily, so a transaction that reads and then
writes can fail at once with "database is locked" while another connection writes. We take
control of BEGIN: read transactions use a plain BEGIN, write transactions BEGIN IMMEDIATE,
which waits for the busy timeout instead of failing.

Every wait has a bound: a PostgreSQL server that accepts the TCP connection and never
answers would otherwise block start-up for minutes, so connections carry `connect_timeout`
(the `database_connect_timeout` setting, 10 s by default; a `connect_timeout` already in the
URL wins). The web app also bounds each query (`statement_timeout`): PostgreSQL cancels it
server-side; SQLite interrupts it from a progress handler.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

SQLITE_BUSY_TIMEOUT_MS = 15000
DEFAULT_CONNECT_TIMEOUT = 10.0


def create_store_engine(
    url: str, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT, statement_timeout: float | None = None
) -> Engine:
    """An engine for `url`, creating the SQLite file's directory when needed.

    `statement_timeout` (seconds) bounds every query on this engine (the web app's)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        connect_args: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
            connect_args["connect_timeout"] = max(1, math.ceil(connect_timeout))  # libpq: whole seconds
        pg_engine = create_engine(url, pool_pre_ping=True, future=True, connect_args=connect_args)
        if statement_timeout and parsed.get_backend_name() == "postgresql":
            milliseconds = max(1, int(statement_timeout * 1000))

            @event.listens_for(pg_engine, "connect")
            def _bound_statements(dbapi_connection: Any, _record: Any) -> None:
                with dbapi_connection.cursor() as cursor:
                    cursor.execute(f"SET statement_timeout = {milliseconds}")
                dbapi_connection.commit()

        return pg_engine
    database = parsed.database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))

    if statement_timeout:
        _bound_sqlite_statements(engine, statement_timeout)
    return engine


def writer_engine(engine: Engine) -> Engine:
    """The same pool, but transactions take SQLite's write lock up front."""
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    return engine


def _bound_sqlite_statements(engine: Engine, seconds: float) -> None:
    """Interrupt a statement running longer than `seconds` (sqlite3 raises "interrupted").
    Each connection's clock restarts when a statement starts."""

    @event.listens_for(engine, "connect")
    def _install(dbapi_connection: Any, record: Any) -> None:
        started = record.info["statement_started"] = [time.monotonic()]
        dbapi_connection.set_progress_handler(lambda: int(time.monotonic() - started[0] > seconds), 10_000)

    @event.listens_for(engine, "before_cursor_execute")
    def _start_clock(conn: Any, *_args: Any) -> None:
        started = conn.info.get("statement_started")
        if started is not None:
            started[0] = time.monotonic()
