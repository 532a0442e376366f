"""The Celery tasks: thin wrappers over the orchestrator's functions and the alert relay.

Every task is safe to run twice, because the broker may deliver a message again (a worker
died before acknowledging it):

* `poll_feed` holds the feed's lease (`task_leases`, keyed `feed:<id>`) while it polls, so
  two workers never poll one feed at once; the scheduler took the lease for the task's own
  id when it enqueued it, so a redelivered message picks its own lease up again. New entries
  are queued *before* the poll is recorded: a poll cut short is simply polled again.
* `process_entry` stores by canonical URL (unique): a second run finds the article stored
  and does nothing; alert rows are unique per story and channel.
* `relay` claims alert rows with FOR UPDATE SKIP LOCKED: several relays never claim one.

Each worker process builds its world (store connection, fetcher, routing, model) once and
keeps it; the model is loaded once per process, when the process starts.
"""

from __future__ import annotations

import logging
import os
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any

from celery import signals

from pipeline.celery_runner.app import app
from pipeline.errors import ModelError, StoreError
from pipeline.fetcher import GuardedFetcher
from pipeline.orchestrator import (
    ChannelsFn,
    ClassifyFn,
    CycleOptions,
    fresh_entries,
    poll_feed,
    process_article,
    record_poll,
)
from pipeline.records import FeedEntry, PollResult
from pipeline.runtime import Runtime, fetch_options
from pipeline.settings import load_settings
from pipeline.store import open_store
from pipeline.store.distributed import acquire_lease, feed_key, release_lease

log = logging.getLogger("compactwatch")

POLL_LEASE_SECONDS = 600  # a poll (one feed fetch + queueing its entries) never takes this long
ARTICLE_TIME_LIMIT = 300  # hard limit per article task; the fetch and extraction limits come first

PRELOAD_MODEL = False  # set by `compactwatch worker` when it serves the cpu queue


@dataclass
class World:
    """What one worker process needs, built once per process (never shared across a fork)."""

    runtime: Runtime
    fetcher: GuardedFetcher
    options: CycleOptions
    channels: ChannelsFn
    pid: int = field(default_factory=os.getpid)
    _classify: ClassifyFn | None = None
    _sender: Any = None

    def classify(self) -> ClassifyFn:
        if self._classify is None:
            self._classify = self.runtime.classifier().classify
            log.info("model loaded in worker process %d", os.getpid())
        return self._classify

    def sender(self) -> Any:
        if self._sender is None:
            self._sender = self.runtime.sender()
        return self._sender


_world: World | None = None


def world() -> World:
    global _world
    if _world is None or _world.pid != os.getpid():
        settings = load_settings()
        store = open_store(
            settings.database_url, migrate=False, connect_timeout=settings.database_connect_timeout
        )
        runtime = Runtime(settings, store, feeds=[])
        fetch = fetch_options(settings)
        _world = World(
            runtime=runtime,
            fetcher=GuardedFetcher(fetch),
            options=CycleOptions.from_settings(settings, fetch),
            channels=runtime.channels_for(),
        )
    return _world


@signals.worker_process_init.connect
def _start_process(**_: object) -> None:
    """A new pool process: build its world, and load the model now if it serves `cpu`."""
    global _world
    _world = None
    if PRELOAD_MODEL:
        world().classify()


@signals.worker_process_shutdown.connect
def _stop_process(**_: object) -> None:
    if _world is not None and _world.pid == os.getpid():
        _world.fetcher.close()
        _world.runtime.store.close()


# ---------------------------------------------------------------------- records over the wire
def entry_to_json(entry: FeedEntry) -> dict[str, str | None]:
    """A feed entry as a task argument (JSON only on the broker): every field, the date as ISO."""
    data = asdict(entry)
    data["published"] = entry.published.isoformat() if entry.published else None
    return data


def entry_from_json(data: dict[str, Any]) -> FeedEntry:
    """The entry back from its task argument; fields a newer sender added are ignored."""
    values = {f.name: data.get(f.name) for f in fields(FeedEntry) if f.name in data}
    published = values.get("published")
    values["published"] = datetime.fromisoformat(published) if published else None
    values["title"] = str(values.get("title") or "")
    values["summary"] = str(values.get("summary") or "")
    return FeedEntry(**values)


@app.task(name="compactwatch.poll_feed", bind=True, autoretry_for=(StoreError,), max_retries=3)
def poll_feed_task(self: Any, feed_name: str, token: str | None = None) -> str:
    """Poll one feed under its lease and queue its new entries on the cpu queue."""
    w = world()
    store = w.runtime.store
    found = store.feed(feed_name)
    if found is None or not found[0].enabled:
        return "skipped: no such enabled feed"
    feed, state = found
    token = token or self.request.id or uuid.uuid4().hex
    key = feed_key(state.feed_id)
    if not acquire_lease(store, key, token, seconds=POLL_LEASE_SECONDS):
        return "skipped: another worker holds this feed's lease"
    try:
        try:
            result = poll_feed(w.fetcher, feed, state, w.options)
            fresh = fresh_entries(store, result) if result.status == "ok" else []
            for url, entry in fresh:
                process_entry_task.apply_async(args=(feed.name, url, entry_to_json(entry)))
        except StoreError:
            raise
        except Exception as error:  # a bug must not lose the feed: record it as a failed poll
            log.exception("feed %s: unexpected error", feed.name)
            result = PollResult(status="failed", error=f"internal error: {error!s:.200}", failure_kind="soft")
            fresh = []
        record_poll(store, feed, state, result, w.options)
    finally:
        release_lease(store, key, token)
    if result.status == "failed":
        log.warning("feed %s: %s", feed.name, result.error)
    return f"{result.status}: {len(fresh)} new entries queued"


@app.task(
    name="compactwatch.process_entry",
    bind=True,
    autoretry_for=(StoreError, ModelError),  # database or model unavailable: later, not never
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
    time_limit=ARTICLE_TIME_LIMIT,
)
def process_entry_task(self: Any, feed_name: str, canonical_url: str, entry: dict[str, Any]) -> str:
    """Fetch, extract, classify and store one entry (nothing, if it is stored already)."""
    w = world()
    store = w.runtime.store
    if store.known_urls([canonical_url]):
        return "already stored"
    found = store.feed(feed_name)
    if found is None:
        return "skipped: the feed is gone"
    feed, state = found
    settings = w.runtime.settings
    saved = process_article(
        w.fetcher if settings.fetch_articles else None,
        store,
        w.classify(),
        w.channels,
        feed,
        state.feed_id,
        canonical_url,
        entry_from_json(entry),
        extraction_timeout=settings.extraction_timeout,
        fetch_timeout=settings.fetch_timeout,
    )
    if not saved.created:
        return "already stored"
    store.note_new_entries(state.feed_id, 1)
    return f"stored article {saved.article_id} ({saved.alerts_queued} alerts queued)"


@app.task(name="compactwatch.relay", autoretry_for=(StoreError,), max_retries=2)
def relay_task() -> str:
    """One pass of the alert relay (safe beside any number of other relays)."""
    w = world()
    report = w.runtime.relay(w.sender())
    return f"relay: {report.sent} sent, {report.rescheduled} rescheduled, {report.failed} failed"
