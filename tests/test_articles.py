"""Articles: extraction from real-looking pages, summary fallback, URL dedupe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pipeline.extract import extract_article
from pipeline.fetcher import FetchOptions
from pipeline.localserver import LocalServer
from pipeline.orchestrator import CycleOptions, Orchestrator, single_channel
from pipeline.store import ArticleFilter, Store
from tests.factories import CITY_STORY, add_feed, news_page, rss

COMMENT = "This is the worst take I have read all year, cancel my subscription"


@pytest.fixture
def orchestrator(sqlite_store: Store, classifier) -> Iterator[Orchestrator]:  # type: ignore[no-untyped-def]
    options = CycleOptions(fetch=FetchOptions(timeout=5.0, allow_private_networks=True))
    with Orchestrator(sqlite_store, classifier.classify, options, single_channel("#alerts")) as o:
        yield o


def run(store: Store, orchestrator: Orchestrator, feed_url: str) -> None:
    add_feed(store, feed_url)
    orchestrator.run_cycle(store.due_feeds())


def test_main_text_is_extracted_without_navigation_or_comments(
    site: LocalServer, sqlite_store: Store, orchestrator: Orchestrator
) -> None:
    title = "Cities ask the UN for a seat in the migration compact review"
    site.route("/story", body=news_page(title, CITY_STORY, [COMMENT]), content_type="text/html")
    site.route("/feed", body=rss(site.base_url, [(title, site.url("/story"), "Short summary.")]))
    run(sqlite_store, orchestrator, site.url("/feed"))
    [article] = sqlite_store.articles()
    assert article.extraction_status == "ok"
    assert "Porto Alegre" in article.text and "Mayors Migration Council" in article.text
    assert COMMENT not in article.text
    assert "Subscribe" not in article.text and "cookies" not in article.text
    assert article.outlet == "City Desk Daily"


def test_page_that_cannot_be_fetched_falls_back_to_the_feed_summary(
    site: LocalServer, sqlite_store: Store, orchestrator: Orchestrator
) -> None:
    summary = "Mayors from forty cities asked the UN to let them report on the migration compact."
    site.route("/feed", body=rss(site.base_url, [("Mayors write to the UN", site.url("/gone"), summary)]))
    run(sqlite_store, orchestrator, site.url("/feed"))
    [article] = sqlite_store.articles()
    assert article.extraction_status == "fetch_failed"
    assert article.extraction_detail == "HTTP 404 for the article page"
    assert article.text == summary
    assert article.model_version  # it was still classified


def test_page_with_no_main_text_falls_back_to_the_summary(
    site: LocalServer, sqlite_store: Store, orchestrator: Orchestrator
) -> None:
    site.route("/empty", body="<html><body><nav>Home</nav></body></html>", content_type="text/html")
    site.route("/feed", body=rss(site.base_url, [("A title", site.url("/empty"), "The feed's summary.")]))
    run(sqlite_store, orchestrator, site.url("/feed"))
    [article] = sqlite_store.articles()
    assert article.extraction_status in ("extract_failed", "too_short")
    assert article.text == "The feed's summary."


def test_tracking_parameter_variants_of_one_url_are_stored_once(
    site: LocalServer, sqlite_store: Store, orchestrator: Orchestrator
) -> None:
    site.route("/story", body=news_page("Story", CITY_STORY), content_type="text/html")
    items = [
        ("Story", site.url("/story?utm_source=newsletter&utm_medium=email"), "s"),
        ("Story (again)", site.url("/story?fbclid=abc123#comments"), "s"),
        ("Story", site.url("/story"), "s"),
    ]
    site.route("/feed", body=rss(site.base_url, items))
    run(sqlite_store, orchestrator, site.url("/feed"))
    stored = sqlite_store.articles(ArticleFilter())
    assert len(stored) == 1
    assert stored[0].canonical_url == site.url("/story")
    assert "utm_source" in stored[0].url  # the original link is kept too


def test_extraction_respects_its_time_limit_in_a_worker_process() -> None:
    from concurrent.futures import ProcessPoolExecutor

    # ~3 MB of distinct paragraphs: real work for the extractor, far beyond 50 ms.
    paragraphs = [
        f"Paragraph {i} about harbour {i % 97} and council {i % 89} budget line {i * 7}." * 6
        for i in range(6000)
    ]
    huge = news_page("Big", paragraphs)
    with ProcessPoolExecutor(1) as pool:
        result = pool.submit(extract_article, huge, "https://x.example/", timeout=0.05).result(120)
    assert result.status == "timeout"
    assert result.detail == "extraction took longer than 0.05s"


def test_a_time_limit_whose_first_timeout_is_swallowed_fires_again_and_still_counts() -> None:
    """A timeout raised while Python runs a __del__ or a GC callback is printed and lost; the
    limit must ask again and report that it ran out rather than let the work run on."""
    import time

    from pipeline.extract import ExtractionTimeout, _time_limit

    swallowed = 0
    deadline = time.monotonic() + 10
    with pytest.raises(ExtractionTimeout), _time_limit(0.05) as limit:
        while time.monotonic() < deadline:  # work that loses the first timeout, as a __del__ would
            try:
                while time.monotonic() < deadline:
                    pass
            except ExtractionTimeout:
                swallowed += 1
                if swallowed > 1:
                    raise
    assert swallowed == 2
    assert limit.expired
