"""One outlet, one name: feeds.yaml's `outlet:`, then the entry's <source> (news-search feeds),
then the page's site name; spellings of one outlet are merged so trends and the digest count
"Common Ground" and "Common Ground Newsroom" as the one outlet they are."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.feeds_config import load_feeds
from pipeline.localserver import LocalServer
from pipeline.outlets import outlet_name, same_outlet
from pipeline.poll import parse_feed_response
from pipeline.records import FeedConfig, FeedEntry, HttpResponse
from pipeline.runtime import Runtime
from pipeline.settings import load_settings
from pipeline.store import ArticleFilter
from tests.factories import CITY_STORY, news_page

ITEM = "<item><title>{title}</title><link>{link}</link><guid>{link}</guid>{source}<description>{title} in brief</description></item>"


def feed_xml(items: list[tuple[str, str, str | None]]) -> str:
    body = "".join(
        ITEM.format(title=t, link=link, source=f'<source url="https://o.example/">{s}</source>' if s else "")
        for t, link, s in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><link>https://x.example/</link>{body}</channel></rss>'


def page(title: str, site_name: str) -> str:
    return news_page(title, CITY_STORY).replace("City Desk Daily", site_name)


def entry(source: str | None = None) -> FeedEntry:
    return FeedEntry(link="https://x.example/a", title="t", summary="", source=source)


def test_outlet_comes_from_config_then_source_then_site_name() -> None:
    feed = FeedConfig(name="Search: migration compact", url="https://news.example/rss")
    assert (
        outlet_name(feed, entry("Harbour Times"), "Aggregator", configured="Port Alder Ledger")
        == "Port Alder Ledger"
    )
    configured = FeedConfig(name="Ledger", url="https://l.example/rss", outlet="The Port Alder Ledger")
    assert outlet_name(configured, entry("Harbour Times"), "x") == "The Port Alder Ledger"
    assert outlet_name(feed, entry("Harbour Times"), "Aggregator") == "Harbour Times"
    assert outlet_name(feed, entry(), "Crossings") == "Crossings"
    assert outlet_name(feed, entry(), None) is None  # the store files it under the feed's name


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Common Ground", "Common Ground Newsroom", True),
        ("The Frontier Standard", "Frontier Standard", True),
        ("commonground.example", "Common Ground Newsroom", True),
        ("www.meridian-wire.example", "Meridian Wire", True),
        ("Sun", "Sunday Times", False),
        ("Crossings", "Common Ground", False),
        ("Ground", "Common Ground", False),
    ],
)
def test_spellings_of_one_outlet_are_recognised(a: str, b: str, same: bool) -> None:
    assert same_outlet(a, b) is same
    assert same_outlet(b, a) is same


def test_entry_source_element_is_read_from_news_search_feeds() -> None:
    xml = feed_xml(
        [
            ("Mayors seek a seat", "https://agg.example/r/1", "Harbour Times"),
            ("Plain", "https://agg.example/r/2", None),
        ]
    )
    result = parse_feed_response(
        HttpResponse(url="https://agg.example/rss", status=200, headers={}, body=xml.encode()),
        previous_body_hash=None,
        max_entries=10,
    )
    assert {e.link: e.source for e in result.entries} == {
        "https://agg.example/r/1": "Harbour Times",
        "https://agg.example/r/2": None,
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("42", 'outlet must be text (quote it: outlet: "42")'),
        ('""', "outlet must not be empty (leave the key out to use the pages' own site name)"),
    ],
)
def test_bad_outlet_in_feeds_yaml_names_file_and_line(tmp_path: Path, value: str, message: str) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(f"feeds:\n  - name: Ledger\n    url: https://l.example/rss\n    outlet: {value}\n")
    with pytest.raises(ConfigError) as error:
        load_feeds(path)
    assert str(error.value) == f"{path}:4: feed 'Ledger': {message}"


def test_outlet_in_feeds_yaml_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n  - name: Ledger\n    url: https://l.example/rss\n    outlet: ' The Port Alder Ledger '\n"
    )
    assert load_feeds(path)[0].outlet == "The Port Alder Ledger"


def test_a_cycle_files_every_article_of_an_outlet_under_one_name(tmp_path: Path, site: LocalServer) -> None:
    site.route(
        "/cg/ok",
        body=page("Cities join refugee groups in a joint submission", "Common Ground"),
        content_type="text/html",
    )
    site.route("/cg/feed", body=feed_xml([("Cities join refugee groups in a joint submission", site.url("/cg/ok"), None),
                                          ("Podcast: the review seat explained", site.url("/cg/missing"), None)]))  # fmt: skip
    site.route(
        "/agg/1", body=page("Harbour city asks for a compact seat", "Newsstand"), content_type="text/html"
    )
    site.route(
        "/agg/feed",
        body=feed_xml([("Harbour city asks for a compact seat", site.url("/agg/1"), "Harbour Times")]),
    )
    site.route(
        "/led/1",
        body=page("Council backs the mayors' declaration", "City Desk Daily"),
        content_type="text/html",
    )
    site.route(
        "/led/feed", body=feed_xml([("Council backs the mayors' declaration", site.url("/led/1"), None)])
    )
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [
        {"name": "Common Ground Newsroom", "url": site.url("/cg/feed")},
        {"name": "News search: compact", "url": site.url("/agg/feed")},
        {"name": "Ledger politics", "url": site.url("/led/feed"), "outlet": "The Port Alder Ledger"},
    ]}))  # fmt: skip
    settings = load_settings(
        database_url=f"sqlite:///{tmp_path / 'cw.db'}", feeds=feeds, routes=tmp_path / "none.yaml",
        allow_private_networks=True, per_host_delay=0.0, slack_bot_token="",
    )  # fmt: skip
    runtime = Runtime.open(settings)
    try:
        with runtime.orchestrator(extract_in_processes=False) as orchestrator:
            summary = orchestrator.run_cycle(runtime.store.due_feeds())
        assert summary.feeds_ok == 3, summary
        outlets = {a.title: a.outlet for a in runtime.store.articles(ArticleFilter(limit=50))}
    finally:
        runtime.store.close()
    assert (
        outlets
        == {
            "Cities join refugee groups in a joint submission": "Common Ground Newsroom",  # page said "Common Ground"
            "Podcast: the review seat explained": "Common Ground Newsroom",  # page missing: same outlet
            "Harbour city asks for a compact seat": "Harbour Times",  # the entry's <source>
            "Council backs the mayors' declaration": "The Port Alder Ledger",  # feeds.yaml outlet:
        }
    )
