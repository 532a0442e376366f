"""`compactwatch run` tells its operator what it did every few minutes, and says plainly when
no feed could be reached, as `once` does at the end of its cycle."""

from __future__ import annotations

import logging

from pipeline.localserver import LocalServer
from pipeline.orchestrator import Orchestrator
from pipeline.records import FeedConfig
from pipeline.run_status import RunTally, status_lines
from pipeline.scheduler import build_scheduler
from pipeline.store import Store
from tests.factories import rss


def run_jobs_once(orchestrator: Orchestrator, store: Store, feeds: list[FeedConfig]) -> list[str]:
    """Build `run`'s scheduler, run each feed job once and then the status job; the log lines."""
    store.sync_feeds(feeds)
    scheduler = build_scheduler(orchestrator, store, feeds, lambda: None, relay_interval=15, workers=2)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("compactwatch")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        for job in scheduler.get_jobs():
            if job.id.startswith("feed:"):
                job.func(*job.args)
        scheduler.get_job("status").func(*scheduler.get_job("status").args)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    return [f"{r.levelname} {r.getMessage()}" for r in records]


def test_run_logs_one_status_line_with_feeds_articles_and_alerts_since_the_last(
    site: LocalServer, sqlite_store: Store, feed_orchestrator: Orchestrator
) -> None:
    items = [
        (f"Mayors want a seat at the compact review, part {i}", site.url(f"/a/{i}"), "Summary.")
        for i in range(3)
    ]
    site.route("/good", body=rss(site.base_url, items), content_type="application/rss+xml")
    site.route("/bad", body="boom", status=500)
    feeds = [FeedConfig("Good", site.url("/good")), FeedConfig("Bad", site.url("/bad"))]

    lines = run_jobs_once(feed_orchestrator, sqlite_store, feeds)

    status = [line for line in lines if "last " in line and " min: " in line]
    assert len(status) == 1
    assert status[0].startswith("INFO last ")
    assert status[0].endswith(
        ": 1/2 feeds ok, 1 failed (HTTP 500 1); 3 new, 0 relevant, 0 alerts queued, 0 pending"
    )
    assert not any("offline" in line for line in lines)


def test_run_warns_when_no_feed_could_be_reached_in_a_window(
    sqlite_store: Store, feed_orchestrator: Orchestrator
) -> None:
    feeds = [FeedConfig(f"Outlet {n}", f"https://newsroom-{n}.invalid/feed.xml") for n in range(2)]

    lines = run_jobs_once(feed_orchestrator, sqlite_store, feeds)

    assert "WARNING 0/2 feeds reachable: is this machine offline?" in lines


def test_a_window_in_which_no_feed_was_due_says_so_with_the_next_poll() -> None:
    from datetime import UTC, datetime

    line, warning = status_lines([], 10, pending=2, next_poll=datetime(2026, 12, 6, 9, 30, tzinfo=UTC))
    assert line == "last 10 min: no feed was due; next poll at 09:30 UTC; 2 alerts pending"
    assert warning is None


def test_the_tally_starts_a_new_window_each_time_it_is_read() -> None:
    from pipeline.orchestrator import FeedOutcome
    from pipeline.records import PollResult

    tally = RunTally()
    tally.add(FeedOutcome("Good", PollResult(status="ok"), new_articles=2))
    first, _ = tally.take()
    second, _ = tally.take()
    assert [o.new_articles for o in first] == [2]
    assert second == []
