"""`compactwatch run`: APScheduler drives the orchestrator; the stages know nothing of it.

One job per feed at its interval (with jitter so feeds on one host spread out), the alert
relay every few seconds, a status line every few minutes (`pipeline.run_status`), and
optional extra jobs (the weekly digest). Every job has
max_instances=1 (an overrunning poll is skipped, never doubled) and coalesce=True (a
scheduler that was asleep runs a missed job once, not N times).
"""

from __future__ import annotations

import logging
import random
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor as APThreadPool
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.orchestrator import Orchestrator
from pipeline.records import FeedConfig
from pipeline.run_status import RunTally, log_status
from pipeline.store import Store

log = logging.getLogger("compactwatch")


def poll_if_due(
    orchestrator: Orchestrator, store: Store, feed_name: str, tally: RunTally | None = None
) -> None:
    """Job body: poll the feed unless it is backing off after failures."""
    found = store.feed(feed_name)
    if found is None:
        return
    feed, state = found
    due = store.due_feeds()
    if not any(f.name == feed_name for f, _ in due):
        return
    outcome = orchestrator.process_feed(feed, state)
    if tally is not None:
        tally.add(outcome)
    if outcome.new_articles:
        log.info(
            "feed %s: %d new, %d relevant, %d alerts queued",
            feed_name,
            outcome.new_articles,
            outcome.relevant,
            outcome.alerts_queued,
        )


def build_scheduler(
    orchestrator: Orchestrator,
    store: Store,
    feeds: list[FeedConfig],
    relay: Callable[[], object],
    *,
    relay_interval: int,
    workers: int,
    extra_jobs: Callable[[BackgroundScheduler], None] | None = None,
    status_minutes: int = 10,
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        executors={"default": APThreadPool(max_workers=workers + 1)},
        job_defaults={"coalesce": True, "max_instances": 1},
        timezone=UTC,
    )
    now = datetime.now(UTC)
    rng = random.Random()
    tally = RunTally() if status_minutes > 0 else None
    for feed in feeds:
        if not feed.enabled:
            continue
        interval = feed.interval * 60
        scheduler.add_job(
            poll_if_due,
            IntervalTrigger(seconds=interval, jitter=min(120, interval // 10)),
            args=(orchestrator, store, feed.name, tally),
            id=f"feed:{feed.name}",
            name=f"poll {feed.name}",
            next_run_time=now + timedelta(seconds=rng.uniform(0, min(20, interval / 4))),
            misfire_grace_time=max(60, interval // 2),
            replace_existing=True,
        )
    scheduler.add_job(
        relay,
        IntervalTrigger(seconds=relay_interval),
        id="relay",
        name="alert relay",
        next_run_time=now + timedelta(seconds=2),
        misfire_grace_time=relay_interval * 4,
        replace_existing=True,
    )
    if tally is not None:

        def next_poll() -> datetime | None:
            times = [job.next_run_time for job in scheduler.get_jobs() if job.id.startswith("feed:")]
            return min((t for t in times if t is not None), default=None)

        scheduler.add_job(
            log_status,
            IntervalTrigger(minutes=status_minutes),
            args=(tally, lambda: store.alert_counts().get("pending", 0), next_poll),
            id="status",
            name="status line",
            misfire_grace_time=60,
            replace_existing=True,
        )
    if extra_jobs:
        extra_jobs(scheduler)
    return scheduler


def run_until_stopped(scheduler: BackgroundScheduler) -> None:
    """Start, then block until SIGINT/SIGTERM; shut down without starting new jobs."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    scheduler.start()
    try:
        while not stop.wait(0.5):
            pass
    finally:
        scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
