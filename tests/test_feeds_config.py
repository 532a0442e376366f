"""feeds.yaml loading: good files load, every kind of mistake is one `FILE:LINE: reason` line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.feeds_config import dump_feeds, feed_problem, load_feeds
from pipeline.records import FeedConfig
from pipeline.urls import is_http_url

REPO_ROOT = Path(__file__).resolve().parent.parent

GOOD = """\
# comms team feeds
feeds:
  - name: UN News
    url: https://news.un.org/feed/subscribe/en/news/topic/migrants-and-refugees/feed/rss.xml
    interval: 60
    tags: [un]

  - name: Le Monde - International
    url: https://www.lemonde.fr/international/rss_full.xml
    tags: [press]
    language: fr
    enabled: false
    conditional_get: false
    max_entries: 100
"""

# Lines 1-6 of every bad file: one valid feed, then the entry under test from line 7.
PREFIX = """\
feeds:
  - name: UN News
    url: https://news.un.org/feed/rss.xml
    interval: 60
    tags: [un]

"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_feeds(path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_good_file_loads_with_defaults_filled_in(tmp_path: Path) -> None:
    feeds = load_feeds(write(tmp_path, GOOD))
    assert feeds == [
        FeedConfig(
            name="UN News",
            url="https://news.un.org/feed/subscribe/en/news/topic/migrants-and-refugees/feed/rss.xml",
            interval=60,
            tags=("un",),
        ),
        FeedConfig(
            name="Le Monde - International",
            url="https://www.lemonde.fr/international/rss_full.xml",
            interval=30,
            tags=("press",),
            language="fr",
            enabled=False,
            conditional_get=False,
            max_entries=100,
        ),
    ]


BAD_ENTRIES = {
    "interval_fraction": (
        "  - name: UN News FR\n    url: https://news.un.org/fr.xml\n    interval: 2.5\n",
        9,
        "feed 'UN News FR': interval must be a whole number of minutes between 5 and 1440 (got 2.5)",
    ),
    "interval_too_long": (
        "  - name: UN News FR\n    url: https://news.un.org/fr.xml\n    interval: 2880\n",
        9,
        "feed 'UN News FR': interval must be a whole number of minutes between 5 and 1440 (got 2880)",
    ),
    "interval_quoted": (
        "  - name: UN News FR\n    url: https://news.un.org/fr.xml\n    interval: '30'\n",
        9,
        "feed 'UN News FR': interval must be a whole number of minutes between 5 and 1440 (got '30')",
    ),
    "unknown_key": (
        "  - name: UN News FR\n    url: https://news.un.org/fr.xml\n    intervall: 30\n",
        9,
        "feed 'UN News FR': unknown key 'intervall' (allowed: name, url, interval, tags, language, "
        "enabled, conditional_get, max_entries, outlet)",
    ),
    "feed_scheme": (
        "  - name: Podcast\n    url: feed://example.org/rss\n",
        8,
        "feed 'Podcast': url must be an absolute http:// or https:// URL (got 'feed://example.org/rss')",
    ),
    "file_scheme": (
        "  - name: Local\n    url: file:///etc/passwd\n",
        8,
        "feed 'Local': url must be an absolute http:// or https:// URL (got 'file:///etc/passwd')",
    ),
    "relative_url": (
        "  - name: Relative\n    url: /rss.xml\n",
        8,
        "feed 'Relative': url must be an absolute http:// or https:// URL (got '/rss.xml')",
    ),
    "duplicate_name": (
        "  - name: un news\n    url: https://example.org/rss\n",
        7,
        "feed 'un news': duplicate name, first used at line 2",
    ),
    "duplicate_url_spelled_differently": (
        "  - name: UN News again\n    url: HTTPS://News.UN.org:443/feed/rss.xml/\n",
        7,
        "feed 'UN News again': same URL as feed 'UN News' at line 2 (HTTPS://News.UN.org:443/feed/rss.xml/)",
    ),
    "missing_url": ("  - name: No URL\n    interval: 30\n", 7, "feed 'No URL': missing required key 'url'"),
    "missing_name": ("  - url: https://example.org/rss\n", 7, "feed #2: missing required key 'name'"),
    "norway_problem": (
        "  - name: NRK\n    url: https://www.nrk.no/toppsaker.rss\n    language: no\n",
        9,
        "feed 'NRK': language must be an ISO 639-1 code; YAML read this value as true/false, "
        'quote it (language: "no")',
    ),
    "language_with_region": (
        "  - name: BBC\n    url: https://feeds.bbci.co.uk/news/rss.xml\n    language: en-GB\n",
        9,
        "feed 'BBC': language must be a two-letter ISO 639-1 code such as 'en' (got 'en-GB')",
    ),
    "tags_not_a_list": (
        "  - name: BBC\n    url: https://feeds.bbci.co.uk/news/rss.xml\n    tags: press\n",
        9,
        "feed 'BBC': tags must be a list such as [un, press] (got 'press')",
    ),
    "tag_with_spaces": (
        "  - name: BBC\n    url: https://feeds.bbci.co.uk/news/rss.xml\n    tags: [World News]\n",
        9,
        "feed 'BBC': tag 'World News' must be 1-40 lowercase letters, digits, '-' or '_', "
        "starting with a letter or digit",
    ),
    "enabled_as_string": (
        "  - name: BBC\n    url: https://feeds.bbci.co.uk/news/rss.xml\n    enabled: 'false'\n",
        9,
        "feed 'BBC': enabled must be true or false (got 'false')",
    ),
    "max_entries_zero": (
        "  - name: BBC\n    url: https://feeds.bbci.co.uk/news/rss.xml\n    max_entries: 0\n",
        9,
        "feed 'BBC': max_entries must be a whole number between 1 and 2000 (got 0)",
    ),
    "repeated_key": (
        "  - name: BBC\n    url: https://feeds.bbci.co.uk/news/rss.xml\n"
        "    url: https://feeds.bbci.co.uk/news/world/rss.xml\n",
        9,
        "feed 'BBC': key 'url' repeated (first at line 8)",
    ),
    "entry_is_a_bare_url": (
        "  - https://example.org/rss\n",
        7,
        "feed #2 must be a mapping with name: and url:",
    ),
    "name_is_a_number": (
        "  - name: 2030\n    url: https://example.org/rss\n",
        7,
        'feed #2: name must be text (quote it: name: "2030")',
    ),
    "python_tag_refused": (
        "  - name: !!python/object/apply:os.system [echo]\n    url: https://example.org/rss\n",
        7,
        "invalid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
    ),
    "yaml_syntax_error": (
        "  - name: Broken: colon\n    url: https://example.org/rss\n",
        7,
        "invalid YAML: mapping values are not allowed here",
    ),
    "unterminated_quote": (
        '  - name: "Broken\n    url: https://example.org/rss\n',
        9,
        "invalid YAML: found unexpected end of stream (while scanning a quoted scalar)",
    ),
}


@pytest.mark.parametrize("entry, line, reason", BAD_ENTRIES.values(), ids=BAD_ENTRIES.keys())
def test_bad_entry_is_reported_on_one_line_with_file_and_line(
    tmp_path: Path, entry: str, line: int, reason: str
) -> None:
    path = write(tmp_path, PREFIX + entry)
    assert load_error(path) == f"{path}:{line}: {reason}"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", "1: file is empty; expected a top-level 'feeds:' list"),
        ("# only a comment\n", "1: file is empty; expected a top-level 'feeds:' list"),
        ("- name: x\n", "1: expected a top-level mapping with a 'feeds:' list"),
        ("feed:\n  - name: x\n", "1: unknown top-level key 'feed' (allowed: feeds)"),
        ("feeds:\n  name: x\n", "2: 'feeds' must be a list of feed entries"),
        ("feeds:\n", "1: 'feeds' must be a list of feed entries"),
        ("feeds: []\nfeeds: []\n", "2: key 'feeds' repeated (first at line 1)"),
        (
            "feeds:\n\t- name: x\n",
            "2: invalid YAML: found character '\\t' that cannot start any token "
            "(while scanning for the next token)",
        ),
        (
            "feeds: []\n---\nfeeds: []\n",
            "2: invalid YAML: but found another document (expected a single document in the stream)",
        ),
    ],
)
def test_malformed_file_shape_is_reported_with_line(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert load_error(path) == f"{path}:{expected}"


def test_empty_feed_list_is_valid(tmp_path: Path) -> None:
    assert load_feeds(write(tmp_path, "feeds: []\n")) == []


def test_missing_file_is_reported_without_traceback_detail(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert load_error(path) == f"{path}: feeds file not found"


def test_non_utf8_file_is_reported_at_the_offending_line(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(PREFIX.encode() + b"  - name: caf\xe9\n")
    assert load_error(path) == f"{path}:7: not valid UTF-8 text"


def test_shipped_feeds_yaml_loads() -> None:
    feeds = load_feeds(REPO_ROOT / "feeds.yaml")
    assert 14 <= len(feeds) <= 20
    assert all(is_http_url(feed.url) for feed in feeds)
    assert {tag for feed in feeds for tag in feed.tags} <= {"un", "ngo", "cities", "press", "search"}
    assert {feed.language for feed in feeds} >= {"en", "fr", "es", "de"}
    search = [feed for feed in feeds if "search" in feed.tags]
    assert search and all(feed.interval == 15 for feed in search)
    assert all(feed.interval == 60 for feed in feeds if "un" in feed.tags)


def test_dump_then_load_gives_the_same_feeds(tmp_path: Path) -> None:
    feeds = load_feeds(REPO_ROOT / "feeds.yaml")
    feeds[0] = replace(feeds[0], name='Tricky: "quoted" #name', enabled=False, max_entries=200)
    path = tmp_path / "out.yaml"
    dump_feeds(feeds, path)
    assert load_feeds(path) == feeds
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# compactwatch feeds")
    assert "    tags: [un]\n" in text
    assert "conditional_get" not in text.split("feeds:", 1)[1]  # defaults are not written


def test_dump_keeps_the_permissions_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    path.chmod(0o640)
    dump_feeds(load_feeds(path), path)
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["feeds.yaml"]  # no temporary file left


def test_dump_refuses_to_write_a_file_that_would_not_load(tmp_path: Path) -> None:
    path = tmp_path / "out.yaml"
    bad = FeedConfig(name="Bad", url="https://example.org/rss", interval=1)
    with pytest.raises(ConfigError, match="interval must be a whole number"):
        dump_feeds([bad], path)
    twins = [
        FeedConfig(name="A", url="https://example.org/rss"),
        FeedConfig(name="B", url="http://EXAMPLE.org/rss/"),
    ]
    with pytest.raises(ConfigError, match="duplicate name or URL"):
        dump_feeds(twins, path)
    assert not path.exists()


def test_feed_problem_applies_the_file_rules_to_feeds_built_in_code() -> None:
    assert feed_problem(FeedConfig(name="Ok", url="https://example.org/rss")) is None
    assert feed_problem(FeedConfig(name="Js", url="javascript:alert(1)")) is not None
    assert feed_problem(FeedConfig(name="Lang", url="https://example.org/rss", language="xx")) is not None
