"""One outlet, one name: which outlet published an article, spelled the same way every time.

The name comes from, in order: the feed's `outlet:` in feeds.yaml (the operator knows
best); the entry's `<source>` element, which news-search feeds (Google News, Bing News)
use to say which outlet each item is from; the page's own site name (og:site_name); and
otherwise the feed's name (the store's fallback). Variants of one outlet are merged: when
the page calls itself "Common Ground" and the feed is named "Common Ground Newsroom", or
the page gives only its host name (commonground.example), every article of that feed is
filed under the feed's name, so an article whose page failed to load (and so has no site
name) lands under the same outlet as its siblings in trends and the digest.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import replace

from pipeline.records import Extraction, FeedConfig, FeedEntry

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HOST = re.compile(r"^(?:[a-z0-9-]+\.)+[a-z]{2,}$", re.IGNORECASE)
_HOST_PREFIXES = ("www.", "m.", "amp.", "news.")


def outlet_name(
    feed: FeedConfig, entry: FeedEntry, site_name: str | None, configured: str | None = None
) -> str | None:
    """The outlet an article is filed under; None means "the feed's name" (store fallback)."""
    for explicit in (configured, feed.outlet):
        if explicit:
            return explicit
    if entry.source:
        return entry.source
    if not site_name or same_outlet(site_name, feed.name):
        return None
    return site_name


def with_outlet(
    extraction: Extraction, feed: FeedConfig, entry: FeedEntry, configured: Mapping[str, str] | None = None
) -> Extraction:
    """The extraction with its site name replaced by the outlet's one name; `configured`
    maps feed names to their `outlet:` (feeds read back from the store do not carry it)."""
    name = outlet_name(feed, entry, extraction.site_name, (configured or {}).get(feed.name))
    return extraction if name == extraction.site_name else replace(extraction, site_name=name)


def same_outlet(a: str, b: str) -> bool:
    """True when two spellings name one outlet: one is the other with words added after it
    ("Common Ground" / "Common Ground Newsroom"), ignoring case, accents, punctuation and a
    leading "The"; or one is a host name whose name part spells the other's first words."""
    if _HOST.match(a.strip()) and not _HOST.match(b.strip()):
        return _host_matches(a, _words(b))
    if _HOST.match(b.strip()) and not _HOST.match(a.strip()):
        return _host_matches(b, _words(a))
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return False
    short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return long[: len(short)] == short


def _words(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", name.casefold())
    words = _WORD.findall("".join(ch for ch in folded if not unicodedata.combining(ch)))
    return words[1:] if words[:1] == ["the"] and len(words) > 1 else words


def _host_matches(host: str, words: list[str]) -> bool:
    """commonground.example matches "Common Ground Newsroom" (the host spells its first words)."""
    label = host.strip().lower()
    for prefix in _HOST_PREFIXES:
        label = label.removeprefix(prefix)
    label = label.split(".", 1)[0].replace("-", "")
    joined = ""
    for word in words:
        joined += word
        if joined == label:
            return True
        if len(joined) >= len(label):
            return False
    return False
