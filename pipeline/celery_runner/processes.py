"""The three long-running processes of the Celery runner: scheduler, worker, relay.

scheduler   exactly one per database (PostgreSQL advisory lock): every few seconds it
            leases the feeds whose `next_due_at` has come and enqueues a poll for each;
            every RELAY_INTERVAL it enqueues a relay pass; it runs the weekly digest job.
worker      `celery worker` on some of the queues (feeds, cpu, relay), prefork pool.
relay       the outbox relay in a loop, as a process of its own (any number of them).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC
from types import FrameType

from pipeline.celery_runner.app import QUEUES, app, configure, queue_name
from pipeline.errors import ConfigError, StoreError
from pipeline.runtime import Runtime, console
from pipeline.settings import Settings
from pipeline.store import Store, open_store
from pipeline.store.distributed import (
    SchedulerLock,
    acquire_lease,
    feed_key,
    live_lease_keys,
    release_lease,
)

log = logging.getLogger("compactwatch")

QUEUED_LEASE_SECONDS = 900  # a queued poll not started by then is queued again
SEND_RETRY = {"max_retries": 2, "interval_start": 0.5, "interval_step": 1.0, "interval_max": 2.0}


def check_celery_store(settings: Settings) -> None:
    """The Celery runner shares one database between machines: SQLite cannot be it."""
    if settings.database_url.startswith("sqlite"):
        raise ConfigError(
            "COMPACTWATCH_ENGINE=celery needs PostgreSQL, but DATABASE_URL is SQLite "
            "(a local file that workers on other machines cannot share); "
            "set DATABASE_URL=postgresql://..."
        )


@contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    """An event set by SIGINT/SIGTERM, handlers restored afterwards."""
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# ---------------------------------------------------------------------- scheduler
def enqueue_due_feeds(store: Store, send: Callable[[str, str], None]) -> int:
    """Lease every due feed nobody holds and enqueue its poll; the count enqueued."""
    leased = live_lease_keys(store, "feed:")
    queued = 0
    for feed, state in store.due_feeds():
        key = feed_key(state.feed_id)
        if key in leased:
            continue
        token = uuid.uuid4().hex
        if not acquire_lease(store, key, token, seconds=QUEUED_LEASE_SECONDS):
            continue
        try:
            send(feed.name, token)
        except Exception as error:  # broker down: give the lease back, try next tick
            release_lease(store, key, token)
            log.warning("could not enqueue feed %s: %s", feed.name, str(error)[:200])
            break
        queued += 1
    return queued


def run_scheduler(settings: Settings, *, tick: float = 5.0) -> None:
    """Run the one scheduler until SIGINT/SIGTERM; refused when another one runs."""
    check_celery_store(settings)
    runtime = Runtime.open(settings)  # migrations and feeds.yaml are applied here, once
    lock = SchedulerLock(runtime.store)
    lock.acquire()
    try:
        configure(settings)

        def send_poll(feed_name: str, token: str) -> None:
            app.send_task(
                "compactwatch.poll_feed",
                args=(feed_name, token),
                task_id=token,
                retry=True,
                retry_policy=SEND_RETRY,
            )

        def send_relay() -> None:
            app.send_task(
                "compactwatch.relay", expires=settings.relay_interval * 2, retry=True, retry_policy=SEND_RETRY
            )

        console.print(
            f"scheduler: {sum(f.enabled for f in runtime.feeds)} feeds, queues "
            f"{', '.join(queue_name(settings, q) for q in QUEUES)}; holding the scheduler lock"
        )
        digest = _digest_scheduler(runtime)
        next_relay = 0.0
        with _until_signalled() as stop:
            while not stop.is_set():
                if not lock.alive():
                    raise StoreError("lost the database connection holding the scheduler lock; stopping")
                queued = enqueue_due_feeds(runtime.store, send_poll)
                if queued:
                    log.info("enqueued %d feed polls", queued)
                if time.monotonic() >= next_relay:
                    try:
                        send_relay()
                    except Exception as error:
                        log.warning("could not enqueue the relay: %s", str(error)[:200])
                    next_relay = time.monotonic() + settings.relay_interval
                stop.wait(tick)
        if digest is not None:
            digest.shutdown(wait=False)
    finally:
        lock.release()
        runtime.store.close()
    console.print("scheduler stopped")


def _digest_scheduler(runtime: Runtime):  # type: ignore[no-untyped-def]
    """The weekly digest job runs here, in the one scheduler (sending is idempotent)."""
    try:
        from apscheduler.schedulers.background import BackgroundScheduler

        from alerts.schedule import add_scheduled_jobs
    except ImportError:
        return None
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1}, timezone=UTC)
    add_scheduled_jobs(scheduler, runtime, web=False)
    scheduler.start()
    return scheduler


# ---------------------------------------------------------------------- worker
def parse_queues(value: str) -> list[str]:
    queues = [q.strip() for q in value.split(",") if q.strip()]
    unknown = [q for q in queues if q not in QUEUES]
    if unknown or not queues:
        raise ConfigError(f"unknown queue {', '.join(unknown) or '(none)'}: use {', '.join(QUEUES)}")
    return queues


def run_worker(settings: Settings, queues: list[str], concurrency: int, *, name: str | None = None) -> None:
    """`celery worker` for `queues` with `concurrency` pool processes (blocks until stopped)."""
    check_celery_store(settings)
    # apply migrations before any task runs
    open_store(settings.database_url, connect_timeout=settings.database_connect_timeout).close()
    configure(settings)
    from pipeline.celery_runner import tasks

    tasks.PRELOAD_MODEL = "cpu" in queues
    node = name or f"compactwatch-{'-'.join(queues)}-{uuid.uuid4().hex[:6]}@%h"
    app.worker_main(
        [
            "worker",
            f"--queues={','.join(queue_name(settings, q) for q in queues)}",
            f"--concurrency={concurrency}",
            f"--loglevel={settings.log_level.upper()}",
            f"--hostname={node}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
        ]
    )


# ---------------------------------------------------------------------- relay
def run_relay(settings: Settings, *, once: bool = False) -> None:
    """The alert relay in a loop (or one pass); as many may run as you like."""
    if settings.engine == "celery":
        check_celery_store(settings)
    store = open_store(settings.database_url, connect_timeout=settings.database_connect_timeout)
    runtime = Runtime(settings, store, feeds=[])
    sender = runtime.sender()
    console.print(f"relay: alerts to {runtime.slack_mode()}")
    with _until_signalled() as stop:
        while not stop.is_set():
            report = runtime.relay(sender)
            if report.sent or report.failed or report.summarised:
                log.info(
                    "relay: %d sent, %d failed, %d summarised", report.sent, report.failed, report.summarised
                )
            if once:
                break
            stop.wait(settings.relay_interval)
    runtime.store.close()
