"""Shared fixtures: real loopback servers, real SQLite, real PostgreSQL.

PostgreSQL tests use a fresh schema in database `test` on 127.0.0.1:5432. When the server
is down they skip on a developer machine but FAIL under CI=true, so CI never passes by
silently testing less.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from alerts.local_slack import LocalSlack
from pipeline.fetcher import FetchOptions
from pipeline.localserver import LocalServer
from pipeline.orchestrator import CycleOptions, Orchestrator, single_channel
from pipeline.store import Store, open_store
from tests.browser_gate import pytest_runtest_makereport, pytest_terminal_summary  # noqa: F401 (hooks)

# Polling only (feeds, no article pages), loopback allowed: the options of the polling tests.
POLL_ONLY = CycleOptions(
    fetch=FetchOptions(timeout=2.0, connect_timeout=1.0, max_bytes=1024 * 1024, allow_private_networks=True),
    fetch_articles=False,
    workers=4,
)

PG_DSN = os.environ.get("COMPACTWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REPO = Path(__file__).resolve().parent.parent


def postgres_available() -> bool:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def require_postgres() -> None:
    if postgres_available():
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required under CI and is not reachable at {PG_DSN}")
    pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A SQLAlchemy URL pointing at a brand-new schema, dropped afterwards."""
    require_postgres()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = PG_DSN.replace("postgresql://", "postgresql+psycopg://", 1)
    yield f"{base}?options=-csearch_path%3D{schema}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'compactwatch.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'compactwatch.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.close()


@pytest.fixture
def sqlite_store(sqlite_url: str) -> Iterator[Store]:
    s = open_store(sqlite_url)
    yield s
    s.close()


@pytest.fixture
def site() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    with LocalSlack() as server:
        yield server


@pytest.fixture(scope="session")
def classifier():  # type: ignore[no-untyped-def]
    """The real committed model (loading it is quick; it is what users run)."""
    from classifiers.model import load_classifier

    return load_classifier(REPO / "models")


@pytest.fixture
def feed_orchestrator(sqlite_store: Store, classifier) -> Iterator[Orchestrator]:  # type: ignore[no-untyped-def]
    """An orchestrator that polls feeds (no article pages) into SQLite, alerting to #alerts."""
    with Orchestrator(
        sqlite_store, classifier.classify, POLL_ONLY, single_channel("#alerts"), extract_in_processes=False
    ) as orchestrator:
        yield orchestrator
