"""The whole flow of compactwatch, top to bottom, in one place.

    poll feed → fetch article → extract → fingerprint → classify → store (+ alert outbox)

Stages are plain functions in their own modules and never call each other; this module
decides what runs where: feeds and pages are fetched by a thread pool (network-bound),
extraction runs in a process pool (CPU-bound, and a hard time limit per page needs a
process), classification runs in batches. A failure stays with its feed or article and is
recorded as data; nothing here lets one bad feed stop the cycle.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from pipeline.dedupe import fingerprint_article
from pipeline.errors import FetchError
from pipeline.extract import extract_article, summary_extraction
from pipeline.fetcher import FetchOptions, GuardedFetcher
from pipeline.health import assess_feed_health
from pipeline.poll import conditional_headers, parse_feed_response, poll_failure
from pipeline.records import (
    AlertTarget,
    Classification,
    CycleSummary,
    Extraction,
    FeedConfig,
    FeedEntry,
    FeedState,
    NewArticle,
    PollResult,
)
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.urls import canonicalize_url

log = logging.getLogger("compactwatch")

ClassifyFn = Callable[[Sequence[tuple[str, str]]], list[Classification]]
ChannelsFn = Callable[[FeedConfig, str, str, Classification], "list[str | AlertTarget]"]


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


def _extract_and_classify(
    html: bytes, url: str, fallback_title: str, timeout: float
) -> tuple[Extraction, Classification | None]:
    """Worker task: extract a page and, when it yielded text, classify it right there."""
    extraction = extract_article(html, url, timeout=timeout)
    if extraction.status != "ok" or _WORKER_CLASSIFY is None:
        return extraction, None
    [classification] = _WORKER_CLASSIFY([(extraction.title or fallback_title, extraction.text)])
    return extraction, classification


@dataclass(frozen=True)
class FeedOutcome:
    """What polling one feed did (one row of the summary)."""

    feed: str
    poll: PollResult
    new_articles: int = 0
    duplicates: int = 0
    relevant: int = 0
    alerts_queued: int = 0


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
    """Runs feeds through the pipeline; owns the pools, not the schedule."""

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
    ) -> None:
        self.store = store
        self.classify = classify
        self.options = options
        self.channels_for = channels_for
        self.fetcher = fetcher or GuardedFetcher(options.fetch)
        # Feeds and their pages get separate pools: a feed task waits for its pages, so
        # sharing one pool would deadlock as soon as every worker held a feed.
        self.io_pool = ThreadPoolExecutor(options.workers, thread_name_prefix="feed")
        self.page_pool = ThreadPoolExecutor(options.workers * 2, thread_name_prefix="page")
        self.cpu_pool: Executor = (
            ProcessPoolExecutor(
                max_workers=max(1, multiprocessing.cpu_count()),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(str(worker_model_dir) if worker_model_dir else None,),
            )
            if extract_in_processes
            else ThreadPoolExecutor(2, thread_name_prefix="extract")
        )

    def close(self) -> None:
        self.io_pool.shutdown(wait=True, cancel_futures=True)
        self.page_pool.shutdown(wait=True, cancel_futures=True)
        self.cpu_pool.shutdown(wait=True, cancel_futures=True)
        self.fetcher.close()

    def __enter__(self) -> Orchestrator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ one cycle
    def run_cycle(
        self,
        due: Sequence[tuple[FeedConfig, FeedState]],
        on_feed_done: Callable[[FeedOutcome], None] | None = None,
    ) -> CycleSummary:
        """Poll every due feed (in parallel) and total the outcomes."""
        futures = [self.io_pool.submit(self.process_feed, feed, state) for feed, state in due]
        outcomes = []
        for future in futures:
            outcome = future.result()
            outcomes.append(outcome)
            if on_feed_done:
                on_feed_done(outcome)
        return summarize(outcomes)

    def process_feed(self, feed: FeedConfig, state: FeedState) -> FeedOutcome:
        """Poll one feed and process its new entries; never raises."""
        try:
            return self._process_feed(feed, state)
        except Exception as error:  # a bug must not stop the loop: record it on the feed
            log.exception("feed %s: unexpected error", feed.name)
            result = PollResult(status="failed", error=f"internal error: {error!s:.200}", failure_kind="soft")
            self._record(feed, state, result)
            return FeedOutcome(feed.name, result)

    def _process_feed(self, feed: FeedConfig, state: FeedState) -> FeedOutcome:
        # 1. poll: conditional GET, body hash, parse
        headers = conditional_headers(state.etag, state.last_modified) if feed.conditional_get else {}
        try:
            response = self.fetcher.fetch(feed.url, headers=headers)
            result = parse_feed_response(
                response,
                previous_body_hash=state.body_hash,
                max_entries=min(feed.max_entries, self.options.max_entries),
                retry_after_cap=self.options.retry_after_cap,
            )
        except FetchError as error:
            result = poll_failure(error)
        self._record(feed, state, result)
        if result.status != "ok":
            if result.status == "failed":
                log.warning("feed %s: %s", feed.name, result.error)
            return FeedOutcome(feed.name, result)

        # 2. new entries only (canonical URL dedupe; the original link is kept too)
        by_url: dict[str, FeedEntry] = {}
        for entry in result.entries:
            by_url.setdefault(canonicalize_url(entry.link), entry)
        known = self.store.known_urls(by_url)
        fresh = [(url, entry) for url, entry in by_url.items() if url not in known]
        if not fresh:
            return FeedOutcome(feed.name, result)

        # 3. fetch, extract and (in the workers) classify each article; pages that could
        #    not be used fall back to the feed's summary, with the reason recorded
        analysed = self._extract_all(fresh)
        extractions = [ext for ext, _ in analysed]

        # 4. classify what the workers did not (summary fallbacks), in one batch
        missing = [i for i, (_, cls) in enumerate(analysed) if cls is None]
        batch = self.classify(
            [(extractions[i].title or fresh[i][1].title, extractions[i].text) for i in missing]
        )
        classifications = [cls for _, cls in analysed]
        for i, cls in zip(missing, batch, strict=True):
            classifications[i] = cls

        # 5. fingerprint and store each with its alert rows
        outcome = FeedOutcome(feed.name, result)
        for (url, entry), ext, cls in zip(fresh, extractions, classifications, strict=True):
            article = NewArticle(
                feed_id=state.feed_id,
                url=entry.link,
                canonical_url=url,
                entry=entry,
                extraction=ext,
                fingerprint=fingerprint_article(ext.title or entry.title, ext.text),
                classification=cls,
            )
            targets = self.channels_for(feed, article.extraction.title or entry.title, ext.text, cls)
            saved = self.store.save_article(article, alert_channels=targets)
            if not saved.created:
                continue
            outcome = replace(
                outcome,
                new_articles=outcome.new_articles + 1,
                duplicates=outcome.duplicates + (0 if saved.new_story else 1),
                relevant=outcome.relevant + int(cls.relevant),
                alerts_queued=outcome.alerts_queued + saved.alerts_queued,
            )
        self.store.note_new_entries(state.feed_id, outcome.new_articles)
        return outcome

    def _record(self, feed: FeedConfig, state: FeedState, result: PollResult) -> None:
        health = assess_feed_health(
            state,
            result,
            interval_minutes=feed.interval,
            now=datetime.now(UTC),
            max_backoff_minutes=self.options.max_backoff_minutes,
        )
        self.store.record_poll(state.feed_id, result, health)

    def _extract_all(
        self, fresh: list[tuple[str, FeedEntry]]
    ) -> list[tuple[Extraction, Classification | None]]:
        entries = [entry for _, entry in fresh]
        if not self.options.fetch_articles:
            reason = "article fetching is switched off"
            return [(summary_extraction(e, reason, "summary_only"), None) for e in entries]
        pages = list(self.page_pool.map(self._fetch_page, entries))
        pending: list[Future[tuple[Extraction, Classification | None]] | Extraction] = [
            page
            if isinstance(page, Extraction)
            else self.cpu_pool.submit(
                _extract_and_classify, page[0], page[1], entry.title, self.options.extraction_timeout
            )
            for entry, page in zip(entries, pages, strict=True)
        ]
        results: list[tuple[Extraction, Classification | None]] = []
        for entry, item in zip(entries, pending, strict=True):
            ext, cls = (item, None) if isinstance(item, Extraction) else self._wait(item)
            results.append((ext, cls) if ext.status == "ok" else (self._fallback(entry, ext), None))
        return results

    def _wait(
        self, future: Future[tuple[Extraction, Classification | None]]
    ) -> tuple[Extraction, Classification | None]:
        try:
            return future.result(timeout=self.options.extraction_timeout + 30)
        except FutureTimeout:
            return _failed("timeout", "extraction did not finish in time"), None
        except Exception as error:
            return _failed("extract_failed", f"extractor crashed: {error!s:.200}"), None

    def _fetch_page(self, entry: FeedEntry) -> tuple[bytes, str] | Extraction:
        try:
            response = self.fetcher.fetch(entry.link)
        except FetchError as error:
            return _failed("fetch_failed", str(error))
        if response.status != 200:
            return _failed("fetch_failed", f"HTTP {response.status} for the article page")
        content_type = response.headers.get("content-type", "")
        if content_type and "html" not in content_type and "xml" not in content_type:
            return _failed("not_html", f"the page is {content_type.split(';')[0]}")
        return response.body, response.url

    @staticmethod
    def _fallback(entry: FeedEntry, failed: Extraction) -> Extraction:
        """Keep whatever the page gave when it is longer than the feed's summary."""
        summary = summary_extraction(entry, failed.detail or failed.status, failed.status)
        if failed.status == "too_short" and len(failed.text) > len(summary.text):
            return replace(failed, title=failed.title or entry.title)
        return summary


def _failed(status: str, detail: str) -> Extraction:
    return Extraction(status=status, title="", text="", detail=detail)


def summarize(outcomes: Sequence[FeedOutcome]) -> CycleSummary:
    failed = [o for o in outcomes if o.poll.status == "failed"]
    return CycleSummary(
        feeds_ok=sum(o.poll.status == "ok" for o in outcomes),
        feeds_failed=len(failed),
        feeds_unchanged=sum(o.poll.status in ("unchanged", "not_modified") for o in outcomes),
        new_articles=sum(o.new_articles for o in outcomes),
        duplicates=sum(o.duplicates for o in outcomes),
        relevant=sum(o.relevant for o in outcomes),
        alerts_queued=sum(o.alerts_queued for o in outcomes),
        failures=tuple((o.feed, o.poll.error or "failed") for o in failed),
    )
