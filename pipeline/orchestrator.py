"""The whole flow of compactwatch, top to bottom, in one place.

    poll feed → fetch article → extract → fingerprint → classify → store (+ alert outbox)

Stages are plain functions in their own modules and never call each other; this module
decides what runs where:

* every fetch (feeds and pages) goes through one `HostQueue`: a FIFO per host, workers that
  only take work whose host is ready, so politeness (per-host delay, concurrency 1, 429
  pauses) never blocks other hosts;
* extraction (and classification of the extracted text) runs in a process pool;
* the calling thread runs a small event loop for the cycle: it records polls, queues each new
  entry's page, and classifies and commits every article as soon as it is ready, so a crash
  or a budget hit loses at most the articles in flight.

Each feed has a time budget from its poll and the cycle has one too. Pages not fetched in the
feed's budget fall back to the feed's summary (extraction_status ``over_budget``); feeds not
polled in the cycle's budget are left due for the next cycle. A failure stays with its feed or
article and is recorded as data; nothing here lets one bad feed stop the cycle.

`process_article` is the same per-article work as one plain call, for runners (a task queue)
that schedule articles themselves.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.dedupe import fingerprint_article
from pipeline.errors import BlockedAddressError, FetchError
from pipeline.extract import extract_article, summary_extraction
from pipeline.fetcher import FetchOptions, GuardedFetcher, host_key
from pipeline.health import assess_feed_health
from pipeline.hostqueue import HostQueue, Release
from pipeline.outlets import with_outlet
from pipeline.poll import conditional_headers, parse_feed_response, poll_failure
from pipeline.records import (
    BLOCKED_ADDRESS,
    AlertTarget,
    Classification,
    CycleSummary,
    Extraction,
    FeedConfig,
    FeedEntry,
    FeedState,
    Fingerprint,
    HttpResponse,
    NewArticle,
    PollResult,
)
from pipeline.sanitize import public_reason
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.store import SavedArticle
from pipeline.urls import canonicalize_url

log = logging.getLogger("compactwatch")

ClassifyFn = Callable[[Sequence[tuple[str, str]]], list[Classification]]
ChannelsFn = Callable[[FeedConfig, str, str, Classification], "list[str | AlertTarget]"]
Analysis = tuple[Extraction, Classification | None]


@dataclass(frozen=True)
class CycleOptions:
    """The settings a cycle needs, read once from Settings by the caller."""

    fetch: FetchOptions
    max_entries: int = 50
    extraction_timeout: float = 15.0
    retry_after_cap: int = 86400
    max_backoff_minutes: int = 1440
    fetch_articles: bool = True
    workers: int = 4
    alert_min_relevance: float | None = None
    feed_budget: float = 180.0  # seconds from a feed's poll until its pages must be in
    cycle_budget: float = 600.0  # seconds for a whole cycle
    outlets: dict[str, str] = field(default_factory=dict)  # feed name -> `outlet:` from feeds.yaml

    @classmethod
    def from_settings(cls, settings: Settings, fetch: FetchOptions) -> CycleOptions:
        return cls(
            fetch=fetch,
            max_entries=settings.max_entries_per_feed,
            extraction_timeout=settings.extraction_timeout,
            retry_after_cap=settings.retry_after_cap,
            max_backoff_minutes=settings.max_backoff_minutes,
            fetch_articles=settings.fetch_articles,
            workers=settings.workers,
            alert_min_relevance=settings.alert_min_relevance,
            feed_budget=settings.feed_budget_seconds,
            cycle_budget=settings.cycle_budget_seconds,
        )


# ---------------------------------------------------------------------- worker processes
# Extraction and classification are the CPU-bound stages. Running both in the worker
# processes uses every core; the main process is left with I/O and the store.
_WORKER_CLASSIFY: ClassifyFn | None = None


def _init_worker(model_dir: str | None) -> None:
    """Process-pool initializer: load the model once per worker process."""
    global _WORKER_CLASSIFY
    if model_dir is not None:
        from classifiers.model import load_classifier

        _WORKER_CLASSIFY = load_classifier(Path(model_dir)).classify


def _extract_and_classify(html: bytes, url: str, fallback_title: str, timeout: float) -> Analysis:
    """Worker task: extract a page and, when it yielded text, classify it right there."""
    extraction = extract_article(html, url, timeout=timeout)
    if extraction.status != "ok" or _WORKER_CLASSIFY is None:
        return extraction, None
    [classification] = _WORKER_CLASSIFY([(extraction.title or fallback_title, extraction.text)])
    return extraction, classification


def _analyse_in_worker(
    html: bytes, url: str, fallback_title: str, timeout: float
) -> tuple[Extraction, Classification | None, Fingerprint | None]:
    """`_extract_and_classify` plus the text's fingerprint, so the CPU work of an article
    stays in the worker processes and the cycle's own thread only stores."""
    extraction, classification = _extract_and_classify(html, url, fallback_title, timeout)
    if extraction.status != "ok":
        return extraction, classification, None
    return (
        extraction,
        classification,
        fingerprint_article(extraction.title or fallback_title, extraction.text),
    )


# ---------------------------------------------------------------------- one article
# The per-article path as plain functions, free of scheduling: the cycle below pipelines
# them across threads and processes; `process_article` runs them in one call.
def fetch_page(
    fetcher: GuardedFetcher, entry: FeedEntry, *, timeout: float | None = None
) -> tuple[bytes, str] | Extraction:
    """The article page's bytes and final URL, or a failed Extraction saying why not."""
    try:
        response = fetcher.fetch(entry.link, timeout=timeout)
    except BlockedAddressError as error:  # an internal address: stored, but never linked
        return _failed(BLOCKED_ADDRESS, str(error))
    except FetchError as error:
        return _failed("fetch_failed", str(error))
    if response.status != 200:
        return _failed("fetch_failed", f"HTTP {response.status} for the article page")
    content_type = response.headers.get("content-type", "")
    if content_type and "html" not in content_type and "xml" not in content_type:
        return _failed("not_html", f"the page is {content_type.split(';')[0]}")
    return response.body, response.url


def complete_analysis(
    entry: FeedEntry, extraction: Extraction, classification: Classification | None, classify: ClassifyFn
) -> tuple[Extraction, Classification]:
    """Fall back to the feed's summary when the page gave nothing usable, then classify
    whatever was not classified yet (summaries, or pages extracted without a model)."""
    if extraction.status != "ok":
        extraction, classification = _fallback(entry, extraction), None
    if classification is None:
        [classification] = classify([(extraction.title or entry.title, extraction.text)])
    return extraction, classification


def article_record(
    feed_id: int,
    canonical_url: str,
    entry: FeedEntry,
    extraction: Extraction,
    cls: Classification,
    fingerprint: Fingerprint | None = None,
) -> NewArticle:
    """The record the store takes: entry, extraction, fingerprint and classification.

    `fingerprint` may come precomputed (by a worker process) for this same title and text."""
    return NewArticle(
        feed_id=feed_id,
        url=entry.link,
        canonical_url=canonical_url,
        entry=entry,
        extraction=extraction,
        fingerprint=fingerprint or fingerprint_article(extraction.title or entry.title, extraction.text),
        classification=cls,
    )


def store_article(
    store: Store, feed: FeedConfig, article: NewArticle, channels_for: ChannelsFn
) -> SavedArticle:
    """Commit one article with its alert rows (one transaction: the outbox)."""
    ext = article.extraction
    targets = channels_for(feed, ext.title or article.entry.title, ext.text, article.classification)
    return store.save_article(article, alert_channels=targets)


def process_article(
    fetcher: GuardedFetcher | None,
    store: Store,
    classify: ClassifyFn,
    channels_for: ChannelsFn,
    feed: FeedConfig,
    feed_id: int,
    canonical_url: str,
    entry: FeedEntry,
    *,
    extraction_timeout: float = 15.0,
    fetch_timeout: float | None = None,
) -> SavedArticle:
    """Fetch, extract, classify and store one entry, in this thread (for task runners).

    `fetcher=None` means article fetching is off: the feed's summary is classified.
    """
    if fetcher is None:
        analysis: Analysis = (summary_extraction(entry, _NO_FETCH, "summary_only"), None)
    else:
        page = fetch_page(fetcher, entry, timeout=fetch_timeout)
        if isinstance(page, Extraction):
            analysis = (page, None)
        else:
            analysis = (extract_article(page[0], page[1], timeout=extraction_timeout), None)
    extraction, cls = complete_analysis(entry, *analysis, classify)
    extraction = with_outlet(extraction, feed, entry)
    return store_article(
        store, feed, article_record(feed_id, canonical_url, entry, extraction, cls), channels_for
    )


_NO_FETCH = "article fetching is switched off"
_BUDGET_CHECK = 0.2  # seconds between two checks of the feeds' and the cycle's budgets


# ---------------------------------------------------------------------- one feed
# Polling one feed as plain functions too: the cycle calls them through Orchestrator's
# methods, a task runner (pipeline.celery_runner) calls them directly.
def poll_feed(
    fetcher: GuardedFetcher,
    feed: FeedConfig,
    state: FeedState,
    options: CycleOptions,
    *,
    timeout: float | None = None,
) -> PollResult:
    """Fetch and parse a feed (conditional GET, body hash); failures become a PollResult.

    `timeout` (what is left of a budget) shortens the fetch's deadline."""
    headers = conditional_headers(state.etag, state.last_modified) if feed.conditional_get else {}
    try:
        response: HttpResponse = fetcher.fetch(feed.url, headers=headers, timeout=timeout)
        return parse_feed_response(
            response,
            previous_body_hash=state.body_hash,
            max_entries=min(feed.max_entries, options.max_entries),
            retry_after_cap=options.retry_after_cap,
        )
    except FetchError as error:
        return poll_failure(error)


def record_poll(
    store: Store, feed: FeedConfig, state: FeedState, result: PollResult, options: CycleOptions
) -> None:
    """Store the poll's validators and the feed's health (backoff, next due time)."""
    health = assess_feed_health(
        state,
        result,
        interval_minutes=feed.interval,
        now=datetime.now(UTC),
        max_backoff_minutes=options.max_backoff_minutes,
    )
    store.record_poll(state.feed_id, result, health)


def fresh_entries(store: Store, result: PollResult) -> list[tuple[str, FeedEntry]]:
    """Entries whose canonical URL is not stored yet (the original link is kept too)."""
    by_url: dict[str, FeedEntry] = {}
    for entry in result.entries:
        by_url.setdefault(canonicalize_url(entry.link), entry)
    known = store.known_urls(by_url)
    return [(url, entry) for url, entry in by_url.items() if url not in known]


@dataclass(frozen=True)
class FeedOutcome:
    """What polling one feed did (one row of the summary)."""

    feed: str
    poll: PollResult
    new_articles: int = 0
    duplicates: int = 0
    relevant: int = 0
    alerts_queued: int = 0
    over_budget: int = 0  # pages not fetched within the feed's budget (summary used)


def single_channel(channel: str, min_relevance: float | None = None) -> ChannelsFn:
    """Route every alert-worthy article to one channel (the embedded default)."""

    def channels(_feed: FeedConfig, _title: str, _text: str, cls: Classification) -> list[str | AlertTarget]:
        if not cls.relevant:
            return []
        if min_relevance is not None and cls.relevance < min_relevance:
            return []
        return [channel]

    return channels


class Orchestrator:
    """Runs feeds through the pipeline; owns the fetch queue and pools, not the schedule."""

    def __init__(
        self,
        store: Store,
        classify: ClassifyFn,
        options: CycleOptions,
        channels_for: ChannelsFn,
        *,
        extract_in_processes: bool = True,
        fetcher: GuardedFetcher | None = None,
        worker_model_dir: Path | None = None,
        on_commit: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.classify = classify
        self.options = options
        self.channels_for = channels_for
        self.on_commit = on_commit  # called after an article that queued alerts is committed
        self.fetcher = fetcher or GuardedFetcher(options.fetch)
        self.clock = self.fetcher.pacing.clock
        cpus = max(1, multiprocessing.cpu_count())
        self.cpu_pool: Executor = (
            ProcessPoolExecutor(
                max_workers=cpus,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(str(worker_model_dir) if worker_model_dir else None,),
            )
            if extract_in_processes
            else ThreadPoolExecutor(2, thread_name_prefix="extract")
        )
        # Pages fetched but not yet extracted are held in memory; bounding them keeps memory
        # flat however many feeds there are, and keeps fetching just ahead of the CPU.
        self.fetch_queue = HostQueue(
            options.workers,
            self.fetcher.pacing.ready_at,
            max_held=4 * cpus,
            # A feed linking to many hosts that never answer can tie up half the workers until
            # its budget ends, never all of them (its own host is one at a time anyway).
            group_limit=max(1, options.workers // 2),
            clock=self.clock,
            wait=self.fetcher.pacing.wait,
        )

    def close(self) -> None:
        self.fetch_queue.close()
        self.cpu_pool.shutdown(wait=True, cancel_futures=True)
        self.fetcher.close()

    def __enter__(self) -> Orchestrator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ entry points
    def run_cycle(
        self,
        due: Sequence[tuple[FeedConfig, FeedState]],
        on_feed_done: Callable[[FeedOutcome], None] | None = None,
    ) -> CycleSummary:
        """Poll every due feed, process their new entries, and total the outcomes."""
        outcomes = _Cycle(self, due, on_feed_done).run()
        return summarize(outcomes)

    def process_feed(self, feed: FeedConfig, state: FeedState) -> FeedOutcome:
        """Poll one feed and process its new entries; never raises (used per feed by `run`)."""
        [outcome] = _Cycle(self, [(feed, state)], None).run()
        return outcome

    # ------------------------------------------------------------------ steps used by _Cycle
    def poll(self, feed: FeedConfig, state: FeedState, *, timeout: float | None = None) -> PollResult:
        return poll_feed(self.fetcher, feed, state, self.options, timeout=timeout)

    def record(self, feed: FeedConfig, state: FeedState, result: PollResult) -> None:
        record_poll(self.store, feed, state, result, self.options)

    def fresh_entries(self, result: PollResult) -> list[tuple[str, FeedEntry]]:
        return fresh_entries(self.store, result)


# ---------------------------------------------------------------------- the cycle's event loop
@dataclass(eq=False)
class _Article:
    feed: _Feed
    canonical_url: str
    entry: FeedEntry
    fetch: Future[Any] | None = None
    done: bool = False


@dataclass(eq=False)
class _Feed:
    config: FeedConfig
    state: FeedState
    outcome: FeedOutcome
    poll: Future[Any] | None = None
    polled: bool = False
    deadline: float = float("inf")
    articles: list[_Article] = field(default_factory=list)
    finished: bool = False


class _Cycle:
    """One run over some feeds: submits work, reacts to results, enforces the budgets.

    Worker threads and processes only post events to `self.events`; everything that touches
    the store or a feed's tallies happens here, in the calling thread, one event at a time.
    """

    def __init__(
        self,
        orchestrator: Orchestrator,
        due: Sequence[tuple[FeedConfig, FeedState]],
        on_feed_done: Callable[[FeedOutcome], None] | None,
    ) -> None:
        self.o = orchestrator
        self.options = orchestrator.options
        self.clock = orchestrator.clock
        self.on_feed_done = on_feed_done
        self.events: queue.Queue[tuple[str, Any, Any]] = queue.Queue()
        self.deadline = self.clock() + self.options.cycle_budget
        self.feeds = [_Feed(f, s, FeedOutcome(f.name, PollResult(status="pending"))) for f, s in due]
        self.done: list[FeedOutcome] = []

    def run(self) -> list[FeedOutcome]:
        for feed in self.feeds:
            feed.poll = self.o.fetch_queue.submit(host_key(feed.config.url), self._poll_task(feed))
            feed.poll.add_done_callback(lambda f, feed=feed: self._report_poll_crash(feed, f))
        checked = float("-inf")
        while len(self.done) < len(self.feeds):
            try:
                kind, target, payload = self.events.get(timeout=_BUDGET_CHECK)
            except queue.Empty:
                pass
            else:
                self._handle(kind, target, payload)
            # Budgets are seconds long: checking them a few times a second is enough, and
            # keeps this loop cheap with hundreds of feeds.
            if self.clock() - checked >= _BUDGET_CHECK:
                checked = self.clock()
                self._enforce_budgets()
        return list(self.done)

    # ------------------------------------------------------------------ work for the queue
    def _poll_task(self, feed: _Feed) -> Callable[[], None]:
        def task() -> None:
            started = self.clock()
            if started >= self.deadline:  # picked up too late: leave it due for the next cycle
                self.events.put(("skipped", feed, None))
                return
            result = self.o.poll(feed.config, feed.state, timeout=self.deadline - started)
            self.events.put(("polled", feed, (started, result)))

        return task

    def _page_task(self, article: _Article) -> Callable[[Release], None]:
        def task(release: Release) -> None:
            left = article.feed.deadline - self.clock()
            if article.done or left <= 0:
                release()
                return
            page = fetch_page(self.o.fetcher, article.entry, timeout=left)
            if isinstance(page, Extraction):
                release()
                cut = left < self.options.fetch.timeout and self.clock() >= article.feed.deadline - 0.05
                if page.status == "fetch_failed" and cut:  # the budget, not the server, ended it
                    page = _failed("over_budget", self._budget_reason(article.feed))
                self.events.put(("analysed", article, (page, None)))
                return
            analysis = self.o.cpu_pool.submit(
                _analyse_in_worker, page[0], page[1], article.entry.title, self.options.extraction_timeout
            )
            analysis.add_done_callback(lambda _f: release())
            analysis.add_done_callback(lambda f: self.events.put(("analysed", article, f)))

        return task

    # ------------------------------------------------------------------ events
    def _handle(self, kind: str, target: Any, payload: Any) -> None:
        feed: _Feed = target if isinstance(target, _Feed) else target.feed
        if feed.finished:
            return  # a late result for a feed whose budget already ran out
        try:
            if kind == "polled":
                started, result = payload
                self._on_polled(feed, started, result)
            elif kind == "skipped":
                self._skip(feed)
            elif kind == "failed":
                log.error("feed %s: unexpected error: %s", feed.config.name, payload)
                self._fail_feed(feed, payload)
            else:
                self._on_analysed(target, payload)
        except Exception as error:  # a bug must not stop the loop: record it where it happened
            if isinstance(target, _Article):  # this article only: not stored, so retried next cycle
                log.exception("feed %s: could not store %s", feed.config.name, target.entry.link)
                target.done = True
            else:
                log.exception("feed %s: unexpected error", feed.config.name)
                self._fail_feed(feed, error)
        self._finish_if_done(feed)

    def _on_polled(self, feed: _Feed, started: float, result: PollResult) -> None:
        feed.polled = True
        feed.deadline = min(started + self.options.feed_budget, self.deadline)
        self.o.record(feed.config, feed.state, result)
        feed.outcome = replace(feed.outcome, poll=result)
        if result.status != "ok":
            if result.status == "failed":
                log.warning("feed %s: %s", feed.config.name, result.error)
            return
        for url, entry in self.o.fresh_entries(result):
            article = _Article(feed, url, entry)
            feed.articles.append(article)
            if not self.options.fetch_articles:
                self._commit(article, summary_extraction(entry, _NO_FETCH, "summary_only"), None)
                continue
            # grouped by feed: one feed's pages run on at most half the fetch workers
            article.fetch = self.o.fetch_queue.submit(
                host_key(entry.link), self._page_task(article), holds=True, group=feed
            )
            article.fetch.add_done_callback(lambda f, a=article: self._report_crash(a, f))

    def _report_poll_crash(self, feed: _Feed, future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            self.events.put(("failed", feed, future.exception()))

    def _report_crash(self, article: _Article, future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            error = future.exception()
            self.events.put(
                ("analysed", article, (_failed("fetch_failed", f"internal error: {error!s:.200}"), None))
            )

    def _on_analysed(self, article: _Article, payload: Future[Any] | Analysis) -> None:
        if article.done:
            return
        fingerprint = None
        if isinstance(payload, Future):
            try:
                extraction, cls, fingerprint = payload.result()
            except Exception as error:  # the extractor process crashed or was killed
                extraction, cls = _failed("extract_failed", f"extractor crashed: {error!s:.200}"), None
        else:
            extraction, cls = payload
        self._commit(article, extraction, cls, fingerprint)

    def _commit(
        self,
        article: _Article,
        extraction: Extraction,
        cls: Classification | None,
        fingerprint: Fingerprint | None = None,
    ) -> None:
        """Classify what is left and store the article now, with its alert rows."""
        article.done = True
        feed = article.feed
        analysed = (extraction.title, extraction.text)
        extraction, cls = complete_analysis(article.entry, extraction, cls, self.o.classify)
        if (extraction.title, extraction.text) != analysed:
            fingerprint = None  # fell back to the summary: fingerprint that instead
        extraction = with_outlet(extraction, feed.config, article.entry, self.options.outlets)
        record = article_record(
            feed.state.feed_id, article.canonical_url, article.entry, extraction, cls, fingerprint
        )
        saved = store_article(self.o.store, feed.config, record, self.o.channels_for)
        if not saved.created:
            return
        out = feed.outcome
        feed.outcome = replace(
            out,
            new_articles=out.new_articles + 1,
            duplicates=out.duplicates + (0 if saved.new_story else 1),
            relevant=out.relevant + int(cls.relevant),
            alerts_queued=out.alerts_queued + saved.alerts_queued,
            over_budget=out.over_budget + int(extraction.status == "over_budget"),
        )
        if saved.alerts_queued and self.o.on_commit is not None:
            self.o.on_commit()

    def _fail_feed(self, feed: _Feed, error: BaseException) -> None:
        result = PollResult(status="failed", error=public_reason(error), failure_kind="soft")  # no SQL
        self.o.record(feed.config, feed.state, result)
        feed.outcome = replace(feed.outcome, poll=result)
        feed.polled = True
        for article in feed.articles:
            if article.fetch is not None:
                article.fetch.cancel()
            article.done = True

    def _finish_if_done(self, feed: _Feed) -> None:
        if feed.finished or not feed.polled or any(not a.done for a in feed.articles):
            return
        feed.finished = True
        self.o.store.note_new_entries(feed.state.feed_id, feed.outcome.new_articles)
        self.done.append(feed.outcome)
        if self.on_feed_done:
            self.on_feed_done(feed.outcome)

    # ------------------------------------------------------------------ budgets
    def _enforce_budgets(self) -> None:
        now = self.clock()
        for feed in self.feeds:
            if feed.finished:
                continue
            if not feed.polled:
                if now >= self.deadline and feed.poll is not None and feed.poll.cancel():
                    self._skip(feed)
                continue
            if now < feed.deadline:
                continue
            for article in feed.articles:
                if article.done:
                    continue
                if article.fetch is not None:
                    article.fetch.cancel()
                try:
                    self._commit(article, _failed("over_budget", self._budget_reason(feed)), None)
                except Exception:
                    log.exception("feed %s: could not store %s", feed.config.name, article.entry.link)
                    article.done = True
            self._finish_if_done(feed)

    def _budget_reason(self, feed: _Feed) -> str:
        if feed.deadline < self.deadline:
            budget, which = self.options.feed_budget, "feed's"
        else:
            budget, which = self.options.cycle_budget, "cycle's"
        return f"page not fetched within the {which} {budget:g} s budget; the feed's summary was used"

    def _skip(self, feed: _Feed) -> None:
        """Not polled in the cycle's budget: nothing recorded, so it stays due next cycle."""
        reason = f"not polled: the cycle's {self.options.cycle_budget:g} s budget ran out; it stays due"
        feed.outcome = replace(feed.outcome, poll=PollResult(status="skipped", error=reason))
        feed.polled = True
        self._finish_if_done(feed)


def _failed(status: str, detail: str) -> Extraction:
    return Extraction(status=status, title="", text="", detail=detail)


def _fallback(entry: FeedEntry, failed: Extraction) -> Extraction:
    """Keep whatever the page gave when it is longer than the feed's summary."""
    summary = summary_extraction(entry, failed.detail or failed.status, failed.status)
    if failed.status == "too_short" and len(failed.text) > len(summary.text):
        return replace(failed, title=failed.title or entry.title)
    return summary


def summarize(outcomes: Sequence[FeedOutcome]) -> CycleSummary:
    failed = [o for o in outcomes if o.poll.status == "failed"]
    skipped = [o for o in outcomes if o.poll.status == "skipped"]
    return CycleSummary(
        feeds_ok=sum(o.poll.status == "ok" for o in outcomes),
        feeds_failed=len(failed),
        feeds_unchanged=sum(o.poll.status in ("unchanged", "not_modified") for o in outcomes),
        new_articles=sum(o.new_articles for o in outcomes),
        duplicates=sum(o.duplicates for o in outcomes),
        relevant=sum(o.relevant for o in outcomes),
        alerts_queued=sum(o.alerts_queued for o in outcomes),
        failures=tuple((o.feed, o.poll.error or "failed") for o in [*failed, *skipped]),
    )
