"""Builders for records used across tests (real records, stored through the real Store)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from pipeline.dedupe import fingerprint_article
from pipeline.records import (
    Classification,
    Extraction,
    FeedConfig,
    FeedEntry,
    FrameResult,
    NewArticle,
)
from pipeline.store import Store

_counter = itertools.count(1)

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{title}</title><link>{base}/</link>
<description>test feed</description>
{items}
</channel></rss>"""
ITEM = """<item><title>{title}</title><link>{link}</link><guid>{link}</guid>
<description>{summary}</description><pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate></item>"""


def rss(base: str, items: list[tuple[str, str, str]], title: str = "Test feed") -> str:
    """An RSS 2.0 document; items are (title, link, summary), already XML-safe."""
    body = "\n".join(ITEM.format(title=t, link=link, summary=s) for t, link, s in items)
    return RSS.format(title=title, base=base, items=body)


def add_feed(store: Store, url: str, name: str = "Test feed", **extra: object) -> int:
    return store.sync_feeds([FeedConfig(name=name, url=url, **extra)])[name]  # type: ignore[arg-type]


def classification(
    relevant: bool = True,
    city: bool = False,
    sovereignty: bool = False,
    relevance: float = 0.95,
    evidence: dict[str, tuple[str, ...]] | None = None,
) -> Classification:
    evidence = evidence or {}
    return Classification(
        relevant=relevant,
        relevance=relevance if relevant else 0.05,
        pro_city_inclusion=FrameResult(city, 0.9 if city else 0.1, evidence.get("pro_city_inclusion", ())),
        sovereignty_framing=FrameResult(
            sovereignty, 0.9 if sovereignty else 0.1, evidence.get("sovereignty_framing", ())
        ),
        model_version="test-model",
        language="en",
    )


_WORDS = (
    "mayor council budget harbour festival railway museum tariff drought election vaccine bridge "
    "orchestra pension satellite wildfire library stadium refinery glacier tram ferry senate clinic "
    "vineyard airport census lottery parliament reservoir"
).split()


def _distinct_text(n: int) -> str:
    """Text unlike any other factory text, so stories do not cluster by accident."""
    import random

    rng = random.Random(n)
    return " ".join(rng.choice(_WORDS) for _ in range(120)) + f" story {n}."


def stored_article(
    store: Store,
    feed_id: int,
    *,
    title: str = "",
    text: str = "",
    url: str = "",
    cls: Classification | None = None,
    channels: tuple[str, ...] = ("#alerts",),
) -> int:
    """Store one article with its classification (and outbox rows); returns its id."""
    n = next(_counter)
    title = title or f"Mayors ask for a formal role in the migration compact review {n}"
    text = text or _distinct_text(n)
    url = url or f"https://news.example.org/story-{n}"
    cls = cls or classification()
    article = NewArticle(
        feed_id=feed_id,
        url=url,
        canonical_url=url,
        entry=FeedEntry(link=url, title=title, summary="", published=datetime.now(UTC)),
        extraction=Extraction(status="ok", title=title, text=text, site_name="Example News"),
        fingerprint=fingerprint_article(title, text),
        classification=cls,
    )
    return store.save_article(article, alert_channels=channels if cls.relevant else ()).article_id
