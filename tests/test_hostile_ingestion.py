"""Hostile text from feeds and pages is cleaned once, at ingestion (pipeline.sanitize).

Attacks reproduced here: a NUL byte in an entry title made PostgreSQL refuse the insert and
the whole feed was marked failing with SQL text in its health; ANSI escape sequences and C1
controls reached the store (and from there the console, logs, Slack, exports, archive).
"""

from __future__ import annotations

import pytest

from pipeline.extract import extract_article
from pipeline.fetcher import FetchOptions
from pipeline.localserver import LocalServer
from pipeline.orchestrator import CycleOptions, Orchestrator, single_channel
from pipeline.poll import parse_feed_response
from pipeline.records import HttpResponse
from pipeline.sanitize import clean_text, escape_terminal
from pipeline.store import Store, open_store
from tests.factories import add_feed, classification, news_page, rss

OPTIONS = CycleOptions(
    fetch=FetchOptions(timeout=5.0, connect_timeout=2.0, max_bytes=1024 * 1024, allow_private_networks=True),
    fetch_articles=False,
    workers=2,
)
# XML character references decode to the raw characters inside feedparser's result.
HOSTILE_TITLE = "Mayors&#0; sign the compact &#x1b;[31mRED&#x1b;[0m &#x1b;]0;pwned&#x7;done"


def fixed_classify(pairs):  # type: ignore[no-untyped-def]
    """Every article relevant: these tests are about ingestion, not the model."""
    return [classification() for _ in pairs]


SQL_WORDS = ("INSERT", "SELECT", "psycopg", "sqlalchemy", "NUL", "0x00", "parameters")


def _poll_hostile_feed(store: Store, site: LocalServer) -> dict[str, object]:
    items = [
        (HOSTILE_TITLE, site.url("/a/0"), "First."),
        ("Cities ask for a seat at the migration review", site.url("/a/1"), "Second."),
        ("Council backs the global compact", site.url("/a/2"), "Third &#0;&#x1b;[2J."),
    ]
    site.route("/feed", body=rss(site.base_url, items), content_type="application/rss+xml")
    add_feed(store, site.url("/feed"), "Hostile")
    feed, state = store.feed("Hostile")  # type: ignore[misc]
    with Orchestrator(
        store, fixed_classify, OPTIONS, single_channel("#alerts"), extract_in_processes=False
    ) as orchestrator:
        orchestrator.process_feed(feed, state)
    return next(row for row in store.feed_rows() if row["name"] == "Hostile")


def _assert_clean_and_ok(store: Store, row: dict[str, object]) -> None:
    assert row["status"] == "ok", row["last_error"]
    assert not any(word.lower() in str(row["last_error"] or "").lower() for word in SQL_WORDS)
    articles = store.articles()
    assert len(articles) == 3  # the bad entry did not cost the feed its good ones
    for article in articles:
        for value in (article.title, article.text):
            assert "\x00" not in value and "\x1b" not in value and "\x9b" not in value and "\x07" not in value
    hostile = next(a for a in articles if a.url.endswith("/a/0"))
    assert hostile.title == "Mayors sign the compact RED done"


def test_nul_and_escape_sequences_in_entry_titles_are_cleaned_and_the_feed_stays_ok_on_sqlite(
    sqlite_store: Store, site: LocalServer
) -> None:
    _assert_clean_and_ok(sqlite_store, _poll_hostile_feed(sqlite_store, site))


@pytest.mark.postgres
def test_nul_in_an_entry_title_does_not_fail_the_feed_on_postgresql(pg_url: str, site: LocalServer) -> None:
    store = open_store(pg_url)
    try:
        _assert_clean_and_ok(store, _poll_hostile_feed(store, site))
    finally:
        store.close()


def test_every_entry_field_is_cleaned_when_the_feed_is_parsed() -> None:
    body = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Feed&#x1b;[1m &#0;name</title>'
        "<item><title>A&#0;B\u0085C</title><link>https://news.example.org/a&#x1b;[0m</link>"
        "<guid>g&#0;1</guid><author>x&#x1b;[5m@y</author><description>s&#0;ummary</description></item>"
        "<item><title>too long</title><link>https://news.example.org/" + "x" * 3000 + "</link></item>"
        "</channel></rss>"
    ).encode()  # C1 controls are legal raw characters in XML 1.0
    result = parse_feed_response(
        HttpResponse(url="https://feeds.example.org/rss", status=200, headers={}, body=body),
        previous_body_hash=None,
        max_entries=10,
    )
    [entry] = result.entries  # the entry with a 3000-char link is dropped, not cut
    # feedparser itself maps C1 bytes to their cp1252 glyphs (0x85 → …); NUL and ESC it keeps
    assert (entry.title, entry.guid, entry.author, entry.summary) == ("AB…C", "g1", "x@y", "summary")
    assert entry.link == "https://news.example.org/a"
    assert result.feed_title == "Feed name"


def test_extracted_page_text_and_metadata_are_cleaned() -> None:
    page = news_page(
        "Mayors\x1b[31m press for a seat",
        ["City leaders asked for a formal role in the review of the migration compact. " * 4 + "\x00\x1b[2J"],
    ).replace('content="City Desk Daily"', 'content="Wire&#x1b;[1m \u009bDesk\x00"', 1)
    extraction = extract_article(page.encode(), "https://news.example.org/a")
    for value in (extraction.title, extraction.text, extraction.site_name or ""):
        assert not any(ch in value for ch in "\x00\x1b\x9b")
    assert (extraction.site_name or "").startswith("Wire") and (extraction.site_name or "").endswith(" Desk")


def test_cleaning_keeps_ordinary_text_and_normalises_it() -> None:
    assert clean_text("Cafe\u0301 tab\there\nline", "text") == "Café tab\there\nline"
    assert clean_text("a\r\nb", "text") == "a\nb"
    assert clean_text("x" * 5000, "title") == "x" * 1000
    assert clean_text("  two\n lines ", "title", single_line=True) == "two lines"
    assert clean_text("right\u202eto left", "title") == "rightto left"


def test_terminal_escaping_makes_control_characters_visible_and_inert() -> None:
    shown = escape_terminal("Headline \x1b[31mred\x1b[0m\r\nFAKE LOG LINE \x9b2J\u202e")
    assert "\x1b" not in shown and "\r" not in shown and "\n" not in shown and "\x9b" not in shown
    assert shown == "Headline \\x1b[31mred\\x1b[0m\\x0d\\x0aFAKE LOG LINE \\x9b2J\\u202e"


def _parse(body: bytes, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    response = HttpResponse(url="https://feeds.example.org/rss", status=200, headers=headers or {}, body=body)
    return parse_feed_response(response, previous_body_hash=None, max_entries=10)


def test_billion_laughs_and_external_entities_in_a_feed_are_not_expanded() -> None:
    # nine levels of tenfold entities: a 10^9-character title if expanded (expat's
    # amplification limit stops it; feedparser then parses loosely without expansion)
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{entities}<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<rss version="2.0"><channel><title>t</title><item><title>x&i;y&xxe;z</title>'
        "<link>https://news.example.org/a</link></item></channel></rss>"
    ).encode()
    result = _parse(body)
    assert all(len(entry.title) < 100 and "root:" not in entry.title for entry in result.entries)


def test_latin1_bytes_labelled_utf8_still_parse_and_non_http_links_are_dropped() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>Café des réfugiés</title><link>https://news.example.org/a</link></item>"
        "<item><title>Click</title><link>javascript:alert(document.cookie)</link></item>"
        "<item><title>Relative</title><link>/only/a/path</link></item>"
        "</channel></rss>"
    ).encode("latin-1")
    result = _parse(body, {"content-type": "application/rss+xml; charset=utf-8"})
    assert result.status == "ok"
    assert [entry.link for entry in result.entries] == ["https://news.example.org/a"]
    assert result.entries[0].title.startswith("Caf")


def test_validators_are_ignored_when_the_server_sends_expires_zero() -> None:
    body = b'<rss version="2.0"><channel><title>t</title><item><title>a</title><link>https://n.example/a</link></item></channel></rss>'
    result = _parse(body, {"etag": '"v1"', "last-modified": "Mon, 23 Nov 2026 08:00:00 GMT", "expires": "0"})
    assert result.status == "ok" and result.etag is None and result.last_modified is None


def test_feed_with_conditional_get_off_sends_no_validators(sqlite_store: Store, site: LocalServer) -> None:
    site.route(
        "/feed",
        body=rss(site.base_url, [("A story", site.url("/a"), "s")]),
        content_type="application/rss+xml",
        headers={"ETag": '"v1"'},
    )
    add_feed(sqlite_store, site.url("/feed"), "Liar", conditional_get=False)
    with Orchestrator(
        sqlite_store, fixed_classify, OPTIONS, single_channel("#alerts"), extract_in_processes=False
    ) as orchestrator:
        for _ in range(2):
            feed, state = sqlite_store.feed("Liar")  # type: ignore[misc]
            orchestrator.process_feed(feed, state)
    assert len(site.requests) == 2
    assert all("if-none-match" not in {k.lower() for k in r.headers} for r in site.requests)


def test_log_lines_and_rich_tables_show_foreign_control_characters_inertly() -> None:
    import io
    import logging

    from rich.table import Table
    from rich.text import Text

    from pipeline.logs import PlainFormatter
    from pipeline.sanitize import SafeConsole

    record = logging.LogRecord("compactwatch", logging.WARNING, __file__, 1, "feed %s: %s", None, None)
    record.args = ("Wire\x1b[2J", "HTTP 500\r\n2026-12-06 WARNING forged line")
    line = PlainFormatter().format(record)
    assert "\x1b" not in line and "\n" not in line and "\r" not in line and "\\x1b[2J" in line

    out = io.StringIO()
    console = SafeConsole(file=out, force_terminal=True, color_system="standard", width=200)
    table = Table()
    table.add_column("title")
    table.add_row(Text("Pact \x1b]0;owned\x07 \x1b[31mred\x9b2J"))
    console.print(table)
    console.print("[bold]our own styling[/]")
    shown = out.getvalue()
    assert "\x1b]0;" not in shown and "\x1b[31m" not in shown and "\x9b" not in shown
    assert "\\x1b[31mred" in shown
    assert "\x1b[1mour own styling" in shown  # Rich's own codes still work
