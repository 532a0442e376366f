"""Article extraction: main text and metadata from a fetched page, under a time limit.

trafilatura only ever gets the HTML we fetched (never a URL). When extraction runs in a
process's main thread (the orchestrator's process pool) the time limit is enforced with
SIGALRM, so one pathological page cannot stall a worker; elsewhere it is measured only.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from types import FrameType

import trafilatura
from lxml import html as lxml_html

from pipeline.records import Extraction, FeedEntry
from pipeline.sanitize import clean_optional, clean_text

MIN_TEXT_CHARS = 200


class ExtractionTimeout(BaseException):
    """Raised by the time limit. A BaseException, because trafilatura and lxml catch
    `Exception` in places and would otherwise swallow it and carry on."""


# If the first timeout exception is swallowed (a signal handler that lands while Python runs a
# __del__ or a GC callback has its exception printed and ignored), ask again this much later.
_RETRY_SECONDS = 0.1


@dataclass
class _Limit:
    """One time limit's state: inside it (`active`) and whether it ran out (`expired`)."""

    active: bool = True
    expired: bool = False


@contextmanager
def _time_limit(seconds: float) -> Iterator[_Limit]:
    """Raise ExtractionTimeout in the body after `seconds` (main thread only), again every
    _RETRY_SECONDS until it ends, and record that it ran out even if every raise was lost."""
    limit = _Limit()
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield limit
        return

    def _expired(_signum: int, _frame: FrameType | None) -> None:
        if not limit.active:
            return
        limit.expired = True
        signal.setitimer(signal.ITIMER_REAL, _RETRY_SECONDS)
        raise ExtractionTimeout

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield limit
    finally:
        limit.active = False  # first: a signal arriving from here on does nothing
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def extract_article(html: bytes | str, url: str, *, timeout: float = 15.0) -> Extraction:
    """Extract title, text, author, date, site name and language from one page."""
    if isinstance(html, bytes):
        html = html.decode("utf-8", errors="replace")
    if "<" not in html[:5000]:
        return Extraction(status="not_html", title="", text="", detail="the page is not HTML")
    try:
        with _time_limit(timeout) as limit:
            raw = trafilatura.extract(
                html,
                url=url,
                output_format="json",
                with_metadata=True,
                include_comments=False,
                include_tables=False,
                favor_precision=True,
                deduplicate=True,
            )
        if limit.expired:  # every raise was swallowed somewhere, and the extraction went on
            raise ExtractionTimeout
    except ExtractionTimeout:
        return Extraction(
            status="timeout", title="", text="", detail=f"extraction took longer than {timeout:g}s"
        )
    except Exception as error:  # trafilatura/lxml raise many types on hostile markup
        return Extraction(
            status="extract_failed",
            title="",
            text="",
            detail=clean_text(f"extractor error: {error!s:.200}", "detail", single_line=True),
        )
    if not raw:
        return Extraction(status="extract_failed", title="", text="", detail="no main text found on the page")
    data = json.loads(raw)
    # Page text and metadata are untrusted: cleaned here, once (pipeline.sanitize).
    text = clean_text(data.get("text"), "text").strip()
    title = clean_text(data.get("title"), "title", single_line=True)
    status = "ok" if len(text) >= MIN_TEXT_CHARS else "too_short"
    return Extraction(
        status=status,
        title=title,
        text=text,
        author=clean_optional(data.get("author"), "author"),
        published=_parse_date(data.get("date")),
        site_name=clean_optional(data.get("sitename") or data.get("source-hostname"), "site_name"),
        language=clean_optional(data.get("language"), "language"),
        detail=None if status == "ok" else f"only {len(text)} characters of text found",
    )


def summary_extraction(entry: FeedEntry, reason: str, status: str) -> Extraction:
    """Fallback when the page cannot be used: the feed's own title and summary, as text."""
    return Extraction(
        status=status,
        title=entry.title,
        text=clean_text(html_to_text(entry.summary), "text"),
        author=entry.author,
        published=entry.published,
        detail=reason,
    )


def html_to_text(fragment: str) -> str:
    """Plain text of a (feed-sanitised) HTML fragment."""
    if not fragment.strip():
        return ""
    if "<" not in fragment:
        return unescape(fragment).strip()
    try:
        return " ".join(lxml_html.fromstring(fragment).text_content().split())
    except (ValueError, lxml_html.etree.ParserError):
        return unescape(fragment).strip()


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
