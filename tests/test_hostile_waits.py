"""Every wait has a bound: a database that never answers, a query that never ends, a feed
full of hung links, a corrupted database file.

Attacks reproduced here: an address that accepts TCP connections and never answers (a
hung PostgreSQL, a black-holed port) blocked start-up for 133 s before any message; a
SQLite file with a corrupted table page printed two tracebacks.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.errors import StoreError
from pipeline.fetcher import FetchOptions
from pipeline.localserver import LocalServer
from pipeline.orchestrator import CycleOptions, Orchestrator, single_channel
from pipeline.store import Store, open_store
from tests.factories import add_feed, classification, rss


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP listener that accepts connections and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    listener.close()


def test_database_that_accepts_and_never_answers_gives_a_one_line_error(silent_server: int) -> None:
    url = f"postgresql+psycopg://cw@127.0.0.1:{silent_server}/cw"
    with pytest.raises(StoreError) as caught:
        open_store(url, connect_timeout=1)
    message = str(caught.value)
    assert message.startswith("database unavailable") and "\n" not in message
    assert "timeout" in message.lower() or "timed out" in message.lower()


def feeds_list(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`compactwatch feeds list` as a user runs it: a real process, its stderr captured."""
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "feeds", "list"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_start_up_against_a_hung_database_prints_one_line(silent_server: int, tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("feeds: []\n")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgresql://cw@127.0.0.1:{silent_server}/cw",
        "COMPACTWATCH_DATABASE_CONNECT_TIMEOUT": "1",
        "COMPACTWATCH_FEEDS": str(tmp_path / "feeds.yaml"),
    }
    result = feeds_list(env, tmp_path)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: database unavailable"), result.stderr
    assert "Traceback" not in result.stderr


def test_web_app_queries_are_cut_off_at_the_statement_timeout_on_sqlite(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'cw.db'}", statement_timeout=0.2)
    try:
        endless = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
        with pytest.raises(Exception) as caught, store.engine.connect() as conn:
            conn.exec_driver_sql(endless).scalar()
        assert "interrupted" in str(caught.value)
        with store.engine.connect() as conn:  # the connection is fine afterwards
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        store.close()


@pytest.mark.postgres
def test_web_app_queries_are_cut_off_at_the_statement_timeout_on_postgresql(pg_url: str) -> None:
    store = open_store(pg_url, statement_timeout=0.2)
    try:
        with pytest.raises(Exception) as caught, store.engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_sleep(30)").scalar()
        assert "statement timeout" in str(caught.value)
    finally:
        store.close()


def test_corrupted_sqlite_file_gives_one_line_naming_the_file_and_a_restore(tmp_path: Path) -> None:
    path = tmp_path / "cw.db"
    open_store(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'feeds'").fetchone()[0]
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = b"\xa5" * page_size  # the feeds table's page is garbage
    path.write_bytes(bytes(data))
    (tmp_path / "feeds.yaml").write_text("feeds:\n  - name: One\n    url: https://one.example/rss\n")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "COMPACTWATCH_FEEDS": str(tmp_path / "feeds.yaml"),
    }
    result = feeds_list(env, tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0] and "restore" in lines[0] and "corrupt" in lines[0]


def fixed_classify(pairs):  # type: ignore[no-untyped-def]
    return [classification() for _ in pairs]


def test_feed_with_fifty_hung_links_finishes_within_its_budget_and_keeps_its_good_articles(
    sqlite_store: Store, site: LocalServer
) -> None:
    items = [(f"Hung story {i}", site.url(f"/hung/{i}"), f"Summary of hung story {i}.") for i in range(50)]
    good_site = LocalServer(host="127.0.0.2")  # another host: its own politeness queue
    items += [(f"Good story {i}", good_site.url(f"/good/{i}"), "Summary.") for i in range(3)]
    page = "<html><head><title>Good</title></head><body><article><p>{}</p></article></body></html>"
    for i in range(50):
        site.route(f"/hung/{i}", body="late", content_type="text/html", delay=30.0)
    for i in range(3):
        text = f"City leaders met for round {i} of talks on the migration compact review. " * 12
        good_site.route(f"/good/{i}", body=page.format(text), content_type="text/html")
    site.route("/feed", body=rss(site.base_url, items), content_type="application/rss+xml")
    add_feed(sqlite_store, site.url("/feed"), "Hung links", max_entries=100)
    options = CycleOptions(
        fetch=FetchOptions(
            timeout=60.0, connect_timeout=2.0, allow_private_networks=True, per_host_delay=0.0
        ),
        fetch_articles=True,
        max_entries=100,
        workers=4,
        feed_budget=1.0,  # a tiny budget: the hung pages can never make it
        cycle_budget=60.0,
    )
    with (
        good_site,
        Orchestrator(
            sqlite_store, fixed_classify, options, single_channel("#alerts"), extract_in_processes=False
        ) as orchestrator,
    ):
        summary = orchestrator.run_cycle(sqlite_store.due_feeds())
    assert summary.feeds_ok == 1
    articles = {a.url: a for a in sqlite_store.articles(_all())}
    assert len(articles) == 53  # nothing lost: hung pages fall back to the feed's summary
    hung = [a for url, a in articles.items() if "/hung/" in url]
    # cut off by the budget: either never fetched, or fetched with the budget's time left
    assert {a.extraction_status for a in hung} <= {"over_budget", "fetch_failed"}
    assert "over_budget" in {a.extraction_status for a in hung}
    good = [a for url, a in articles.items() if "/good/" in url]
    assert len(good) == 3 and all(a.extraction_status == "ok" for a in good)


def _all():  # type: ignore[no-untyped-def]
    from pipeline.store import ArticleFilter

    return ArticleFilter(limit=1000)
