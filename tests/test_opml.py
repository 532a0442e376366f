"""OPML import/export: other readers' files, hostile files, and a lossless round trip."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.feeds_config import load_feeds
from pipeline.opml import CW_NS, export_opml, merge_feeds, parse_opml
from pipeline.records import FeedConfig

REPO_ROOT = Path(__file__).resolve().parent.parent

EXISTING = [
    FeedConfig(name="The Guardian - Migration", url="https://www.theguardian.com/world/migration/rss"),
    FeedConfig(
        name="UN News",
        url="https://news.un.org/feed/subscribe/en/news/topic/migrants-and-refugees/feed/rss.xml",
    ),
]

# As a desktop reader exports it: OPML 1.0, nested folders, lowercase xmlurl, a bare "&",
# a feed:// podcast, a javascript: link, and feeds we already have under other spellings.
OTHER_READER = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>My subscriptions</title></head>
  <body>
    <outline text="News" title="News">
      <outline text="Migration &amp; Cities" title="Migration">
        <outline type="rss" text="Guardian migration" xmlUrl="http://WWW.theguardian.com:80/world/migration/rss/"/>
        <outline type="rss" text="InfoMigrants" xmlurl="https://www.infomigrants.net/en/rss"
                 language="en-US"/>
        <outline type="rss" text="Podcast" xmlUrl="feed://example.org/podcast.xml"/>
        <outline type="rss" text="Search" language="fr-FR"
                 xmlUrl="https://news.google.com/rss/search?q=compact&hl=fr"/>
      </outline>
    </outline>
    <outline type="rss" text="UN News" xmlUrl="https://example.org/another-un-news.xml"/>
    <outline type="rss" text="Evil" xmlUrl="javascript:alert(document.cookie)"/>
    <outline type="rss" text="InfoMigrants again" xmlUrl="https://www.infomigrants.net/en/rss"/>
    <outline type="rss" text="" xmlUrl="https://eurocities.eu/feed/" category="/Cities/Europe,/Networks"/>
    <outline type="link" text="Homepage" url="https://example.org/"/>
  </body>
</opml>
"""


def test_import_from_another_reader_flattens_folders_and_skips_bad_urls() -> None:
    feeds = parse_opml(OTHER_READER)
    by_name = {feed.name: feed for feed in feeds}
    assert set(by_name) == {
        "Guardian migration",
        "InfoMigrants",
        "Search",
        "UN News",
        "InfoMigrants again",
        "eurocities.eu",  # no title: named after the host
    }
    assert by_name["InfoMigrants"].tags == ("news", "migration-cities")
    assert by_name["InfoMigrants"].language == "en"
    assert by_name["Search"].language == "fr"
    assert by_name["Search"].url == "https://news.google.com/rss/search?q=compact&hl=fr"  # bare & kept
    assert by_name["eurocities.eu"].tags == ("cities", "europe", "networks")
    assert by_name["UN News"].tags == ()
    assert feeds.skipped_invalid == 2
    assert any("feed://example.org/podcast.xml" in reason for reason in feeds.skipped)
    assert any("javascript:" in reason for reason in feeds.skipped)


def test_merge_skips_feeds_already_present_by_url_or_name_and_counts_everything() -> None:
    result = merge_feeds(EXISTING, parse_opml(OTHER_READER))
    assert result.feeds[: len(EXISTING)] == tuple(EXISTING)  # existing feeds untouched, first
    assert [feed.name for feed in result.feeds[len(EXISTING) :]] == [
        "InfoMigrants",
        "Search",
        "eurocities.eu",
    ]
    assert result.added == 3
    # Guardian (same URL: scheme, host case, :80, trailing slash), UN News (same name),
    # "InfoMigrants again" (same URL as a feed added by this import).
    assert result.skipped_duplicates == 3
    assert result.skipped_invalid == 2
    assert len(result.notes) == 5


def test_merge_of_plain_feed_list_validates_each_feed() -> None:
    imported = [
        FeedConfig(name="Bad interval", url="https://example.org/a", interval=1),
        FeedConfig(name="Fine", url="https://example.org/b"),
    ]
    result = merge_feeds([], imported)
    assert [feed.name for feed in result.feeds] == ["Fine"]
    assert (result.added, result.skipped_duplicates, result.skipped_invalid) == (1, 0, 1)


def test_ten_levels_of_folders_become_tags() -> None:
    opening = "".join(f'<outline text="Level {n}">' for n in range(10))
    closing = "</outline>" * 10
    doc = (
        f'<opml version="2.0"><body>{opening}'
        f'<outline text="Deep" xmlUrl="https://example.org/deep.xml"/>{closing}</body></opml>'
    )
    (feed,) = parse_opml(doc.encode())
    assert feed.tags == tuple(f"level-{n}" for n in range(10))


ENTITY_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<opml version="2.0">
  <head><title>&lol9;</title></head>
  <body>
    <outline type="rss" text="&lol9;" title="x&xxe;y" xmlUrl="https://example.org/rss"/>
    <outline type="rss" text="Leak &xxe;" xmlUrl="https://example.org/leak"/>
  </body>
</opml>
"""


def test_entity_bomb_and_xxe_are_parsed_without_expansion() -> None:
    started = time.perf_counter()
    feeds = parse_opml(ENTITY_BOMB)
    assert time.perf_counter() - started < 1.0
    assert [feed.name for feed in feeds] == ["&lol9;", "Leak &xxe;"]  # literal, never expanded
    assert all("root:" not in feed.name for feed in feeds)


def test_unterminated_doctype_is_refused() -> None:
    with pytest.raises(ConfigError, match="unterminated DOCTYPE"):
        parse_opml(b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "' + b"x" * 1000)


def test_oversized_document_is_refused_before_parsing() -> None:
    with pytest.raises(ConfigError, match="larger than 1 MiB"):
        parse_opml(b"<opml>" + b" " * (1024 * 1024) + b"</opml>", max_bytes=1024 * 1024)


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "OPML is not well-formed XML"),
        (b"<opml><body><outline text='x'></body></opml>", "OPML is not well-formed XML at line 1"),
        (b"<html><body>Not found</body></html>", "not an OPML document (root element is <html>)"),
        (b'<opml version="2.0"><head/></opml>', "OPML document has no <body>"),
    ],
)
def test_unusable_documents_raise_a_one_line_config_error(data: bytes, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_opml(data)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_five_thousand_outlines_import_quickly() -> None:
    outlines = "".join(
        f'<outline type="rss" text="Feed {n}" xmlUrl="https://example.org/{n % 2500}.xml"/>'
        for n in range(5000)
    )
    started = time.perf_counter()
    feeds = parse_opml(f'<opml version="2.0"><body>{outlines}</body></opml>'.encode())
    result = merge_feeds([], feeds)
    assert time.perf_counter() - started < 5.0
    assert (result.added, result.skipped_duplicates) == (2500, 2500)


def test_export_then_import_gives_the_same_feeds_and_settings() -> None:
    feeds = load_feeds(REPO_ROOT / "feeds.yaml")
    feeds[0] = replace(feeds[0], enabled=False, conditional_get=False, max_entries=7, interval=5)
    feeds.append(FeedConfig(name='No tags <&> "quotes"', url="https://example.org/rss?a=1&b=2", tags=()))
    text = export_opml(feeds, created=datetime(2026, 5, 1, tzinfo=UTC))
    back = parse_opml(text.encode("utf-8"))
    assert back.skipped == ()
    assert sorted(back, key=lambda f: f.name) == sorted(feeds, key=lambda f: f.name)
    # Importing our own export into the same list adds nothing.
    assert merge_feeds(feeds, back).added == 0


def test_export_is_opml_2_grouped_by_first_tag_with_private_namespace() -> None:
    feeds = [
        FeedConfig(name="A", url="https://a.example/rss", tags=("press", "cities")),
        FeedConfig(name="B", url="https://b.example/rss", tags=("un",)),
        FeedConfig(name="C", url="https://c.example/rss", tags=("press",), language="fr"),
    ]
    text = export_opml(feeds, created=datetime(2026, 5, 1, tzinfo=UTC))
    assert '<opml xmlns:compactwatch="https://example.org/compactwatch/opml" version="2.0">' in text
    assert "<dateCreated>Fri, 01 May 2026 00:00:00 +0000</dateCreated>" in text
    assert (
        text.index('text="press"') < text.index('text="A"') < text.index('text="C"') < text.index('text="un"')
    )
    assert 'compactwatch:tags="press,cities"' in text
    assert 'compactwatch:language="fr"' in text
    assert CW_NS in text
