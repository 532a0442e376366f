"""Feed polling: turn one fetched feed response into entries, or a graded failure.

feedparser only ever sees bytes we fetched ourselves. A response counts as a feed when
feedparser reports a version; `bozo` alone says nothing (an HTML page is not bozo, a
slightly broken feed is), so a recoverable parser warning is recorded, not fatal.
"""

from __future__ import annotations

import calendar
import hashlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser

from pipeline.errors import (
    BlockedAddressError,
    FetchError,
    FetchTimeoutError,
    ResponseTooLargeError,
    TooManyRedirectsError,
)
from pipeline.records import FeedEntry, HttpResponse, PollResult
from pipeline.sanitize import LIMITS, clean_optional, clean_text

HARD, SOFT, RATE_LIMITED = "hard", "soft", "rate_limited"


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """Validators for a conditional GET (only one is needed; ETag is the stronger)."""
    if etag:
        return {"If-None-Match": etag}
    if last_modified:
        return {"If-Modified-Since": last_modified}
    return {}


def parse_feed_response(
    response: HttpResponse,
    *,
    previous_body_hash: str | None,
    max_entries: int,
    retry_after_cap: int = 86400,
    now: datetime | None = None,
) -> PollResult:
    """Classify the HTTP outcome and, for a changed 200, parse the entries."""
    status = response.status
    if status == 304:
        return PollResult(status="not_modified", http_status=304)
    if status == 429 or (status == 503 and "retry-after" in response.headers):
        wait = parse_retry_after(response.headers.get("retry-after"), now=now)
        return PollResult(
            status="failed",
            http_status=status,
            error=f"HTTP {status}: the server asked us to slow down",
            failure_kind=RATE_LIMITED,
            retry_after=min(wait, retry_after_cap) if wait is not None else None,
        )
    if status >= 400:
        kind = SOFT if status >= 500 or status in (404, 408) else HARD
        return PollResult(status="failed", http_status=status, error=f"HTTP {status}", failure_kind=kind)
    if status >= 300:
        return PollResult(
            status="failed",
            http_status=status,
            error=f"HTTP {status} without a usable Location",
            failure_kind=HARD,
        )
    if not response.body.strip():
        return PollResult(status="failed", http_status=status, error="empty response body", failure_kind=HARD)
    body_hash = hashlib.sha256(response.body).hexdigest()
    validators = {
        "etag": response.headers.get("etag"),
        "last_modified": response.headers.get("last-modified"),
    }
    if response.headers.get("expires", "").strip() == "0":
        validators = {"etag": None, "last_modified": None}  # servers that lie (Miniflux rule)
    if previous_body_hash and body_hash == previous_body_hash:
        return PollResult(status="unchanged", http_status=status, body_hash=body_hash, **validators)
    parsed = feedparser.parse(response.body, response_headers=dict(response.headers))
    if not parsed.get("version"):
        looks_html = b"<html" in response.body[:2048].lower()
        reason = "not a feed: the URL returned an HTML page" if looks_html else "not a feed"
        return PollResult(
            status="failed", http_status=status, error=reason, failure_kind=HARD, body_hash=None
        )
    entries = [entry for entry in (_entry(raw) for raw in parsed.entries) if entry is not None]
    entries.sort(key=lambda e: e.published or datetime.min.replace(tzinfo=UTC), reverse=True)
    bozo = type(parsed.get("bozo_exception")).__name__ if parsed.get("bozo") else None
    return PollResult(
        status="ok",
        entries=tuple(entries[:max_entries]),
        http_status=status,
        body_hash=body_hash,
        feed_title=clean_optional(parsed.feed.get("title"), "feed_title"),
        bozo=bozo,
        **validators,
    )


def poll_failure(error: FetchError) -> PollResult:
    """Grade a fetcher exception as a poll failure (hard failures back off longer)."""
    kind = SOFT
    if isinstance(error, BlockedAddressError | ResponseTooLargeError):
        kind = HARD
    elif isinstance(error, FetchTimeoutError | TooManyRedirectsError):
        kind = SOFT
    return PollResult(status="failed", error=str(error), failure_kind=kind, http_status=error.status)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (delta-seconds or HTTP-date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _entry(raw: Any) -> FeedEntry | None:
    link = clean_text(raw.get("link"), "link", single_line=True)
    if not link.lower().startswith(("http://", "https://")) or " " in link:
        return None  # javascript:, relative junk, missing links are not articles
    if len(str(raw.get("link") or "").strip()) > LIMITS["link"]:
        return None  # over the length cap: a cut URL would point somewhere else
    published = None
    for key in ("published_parsed", "updated_parsed"):
        value = raw.get(key)
        if value:
            try:
                published = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                published = None
            break
    return FeedEntry(  # every text field cleaned here, once (pipeline.sanitize)
        link=link,
        title=clean_text(raw.get("title"), "title", single_line=True),
        summary=clean_text(raw.get("summary"), "summary"),
        guid=clean_optional(raw.get("id"), "guid"),
        published=published,
        author=clean_optional(raw.get("author"), "author"),
        source=_source_title(raw),
    )


def _source_title(raw: Any) -> str | None:
    """The outlet named by an entry's <source> (news-search feeds: one outlet per item)."""
    source = raw.get("source")
    return clean_optional(source.get("title"), "site_name") if isinstance(source, dict) else None
