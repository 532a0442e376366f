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


_WORDS = [
    "mayor",
    "council",
    "budget",
    "harbour",
    "festival",
    "railway",
    "museum",
    "tariff",
    "drought",
    "election",
    "vaccine",
    "bridge",
    "orchestra",
    "pension",
    "satellite",
    "wildfire",
    "library",
    "stadium",
    "refinery",
    "glacier",
    "tram",
    "ferry",
    "senate",
    "clinic",
    "vineyard",
    "airport",
    "census",
    "lottery",
    "parliament",
    "reservoir",
]


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
    published: datetime | None = None,
    outlet: str = "Example News",
) -> int:
    """Store one article with its classification (and outbox rows); returns its id.

    `published` backdates the article (a synthetic history: its date is the published time,
    which is before the fetch time); `outlet` is the site name extraction found."""
    n = next(_counter)
    title = title or f"Mayors ask for a formal role in the migration compact review {n}"
    text = text or _distinct_text(n)
    url = url or f"https://news.example.org/story-{n}"
    cls = cls or classification()
    article = NewArticle(
        feed_id=feed_id,
        url=url,
        canonical_url=url,
        entry=FeedEntry(link=url, title=title, summary="", published=published or datetime.now(UTC)),
        extraction=Extraction(status="ok", title=title, text=text, site_name=outlet),
        fingerprint=fingerprint_article(title, text),
        classification=cls,
    )
    return store.save_article(article, alert_channels=channels if cls.relevant else ()).article_id


PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title} | City Desk Daily</title>
<meta property="og:site_name" content="City Desk Daily">
<meta name="author" content="Lena Park"><meta property="article:published_time" content="2026-11-20T09:00:00Z">
</head><body>
<header class="masthead"><a href="/">City Desk Daily</a>
<nav><ul><li><a href="/world">World</a></li><li><a href="/cities">Cities</a></li>
<li><a href="/opinion">Opinion</a></li><li><a href="/subscribe">Subscribe for $1</a></li></ul></nav></header>
<div class="cookie">We use cookies to improve your experience. <button>Accept all</button></div>
<main><article><h1>{title}</h1><p class="byline">By Lena Park</p>
{paragraphs}
</article>
<aside class="related"><h3>Related</h3><ul><li><a href="/x">Tram fares rise again</a></li>
<li><a href="/y">Harbour festival returns</a></li></ul></aside>
<section id="comments"><h3>Comments</h3>
{comments}
</section></main>
<footer>© 2026 City Desk Daily · <a href="/privacy">Privacy</a> · <a href="/terms">Terms</a></footer>
</body></html>"""


def news_page(title: str, paragraphs: list[str], comments: list[str] = ()) -> str:  # type: ignore[assignment]
    """A realistic article page: navigation, cookie banner, related links, comments."""
    return PAGE.format(
        title=title,
        paragraphs="\n".join(f"<p>{p}</p>" for p in paragraphs),
        comments="\n".join(f'<div class="comment"><p>{c}</p></div>' for c in comments),
    )


CITY_STORY = [
    "Forty city governments asked the United Nations on Tuesday for a permanent place in the review "
    "of the Global Compact for Migration, arguing that the towns which house, school and employ "
    "newcomers should help judge whether the agreement is working.",
    "The request, sent to the co-chairs of the International Migration Review Forum, proposes that "
    "mayors present their own progress reports alongside national governments and sit in the "
    "negotiating sessions on the final declaration.",
    "\u201cWe are the ones who run the shelters, the language classes and the job centres,\u201d said "
    "Mayor Inés Carvalho of Porto Alegre. \u201cA review of the compact that never hears from cities "
    "is a review of paperwork, not of people\u2019s lives.\u201d",
    "The Mayors Migration Council, which coordinated the letter, said local authorities had implemented "
    "many of the compact's objectives years before their national capitals did, from identity cards "
    "for undocumented residents to partnerships with employers.",
    "Diplomats from several member states said they were open to a stronger role for local governments, "
    "though others warned that the compact remains an agreement between states.",
]
