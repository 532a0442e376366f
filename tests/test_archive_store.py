"""The archive's queries (pipeline/store/archive.py) behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline.store import Store
from pipeline.store import archive as archive_sql
from pipeline.store.archive import ArchiveFilter, ArchiveQueries, Cursor, parse_search
from tests.factories import add_feed
from tests.test_archive_support import seed

HOSTILE = [
    '"',
    "-compact",
    "-compact -mayors",
    '""',
    "AND",
    "OR",
    "NOT",
    "NEAR(",
    "NEAR(mayors compact, 3)",
    'rates" AND (( -bank',
    "bank OR",
    "title:*",
    "*",
    "-",
    "---",
    "(((",
    "a & b | !c",
    "mayors:*",
    "'; DROP TABLE articles; --",
    "\\",
    "\x00",
    "é" * 600,
    "word " * 400,
    "cities^2 {near} [x]",
]


@pytest.fixture
def archive(store: Store) -> ArchiveQueries:
    feed = add_feed(store, "https://a.example/rss")
    seed(
        store,
        feed,
        title="Mayors ask for a seat at the migration compact review",
        text="The mayors of forty cities asked for a seat at the table in the compact review.",
        city=0.9,
    )
    seed(
        store,
        feed,
        title="Café owners and the city council",
        text="A story about the café on the harbour, unrelated to migration.",
        relevant=0.1,
    )
    seed(
        store,
        feed,
        title="Government rejects the compact on sovereignty grounds",
        text="The minister said the compact threatens national sovereignty over borders.",
        sovereignty=0.9,
    )
    seed(store, feed, title="Migrants and migration data", text="Migration statistics were published today.",
         language="fr", relevant=0.6)  # fmt: skip
    return ArchiveQueries(store)


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_search_input_never_raises_on_either_database(archive: ArchiveQueries, query: str) -> None:
    f = ArchiveFilter(q=query)
    count = archive.count(f)
    page = archive.page(f, limit=10)
    assert len(page.rows) == min(count, 10)
    assert archive.count(ArchiveFilter(q=query, sort="rank")) == count
    assert len(archive.page(ArchiveFilter(q=query, sort="rank"), limit=10).rows) == min(count, 10)
    assert sum(1 for _ in archive.iter_rows(ArchiveFilter(q=query, sort="rank"))) == count


def test_search_finds_words_phrases_prefixes_and_folds_accents(archive: ArchiveQueries) -> None:
    def titles(q: str) -> set[str]:
        return {r.title for r in archive.page(ArchiveFilter(q=q), limit=50).rows}

    assert titles("mayors") == {"Mayors ask for a seat at the migration compact review"}
    assert titles("MAYORS compact") == titles("mayors")
    assert titles('"seat at the table"') == titles("mayors")
    assert titles('"table at the seat"') == set()
    assert titles("cafe") == {"Café owners and the city council"}  # diacritics folded
    assert titles("migra*") == {
        "Mayors ask for a seat at the migration compact review",
        "Café owners and the city council",
        "Migrants and migration data",
    }
    assert titles("compact -sovereignty") == titles("mayors")
    assert titles("sovereignty OR harbour") == {
        "Government rejects the compact on sovereignty grounds",
        "Café owners and the city council",
    }
    assert titles("-compact") == {"Café owners and the city council", "Migrants and migration data"}


def test_search_snippet_marks_the_matches_and_rank_sort_puts_best_first(archive: ArchiveQueries) -> None:
    page = archive.page(ArchiveFilter(q="compact", sort="rank"), limit=10)
    assert {r.title for r in page.rows} >= {"Government rejects the compact on sovereignty grounds"}
    snippets = [r.snippet or "" for r in page.rows]
    assert all(archive_sql.MARK_START in s and archive_sql.MARK_END in s for s in snippets)


def test_parse_search_keeps_only_letters_and_digits() -> None:
    terms = parse_search('"global compact" -crab migra* a OR b NEAR( ((')
    assert [t.words for t in terms] == [
        ("global", "compact"),
        ("crab",),
        ("migra",),
        ("a",),
        ("b",),
        ("NEAR",),
    ]
    assert [t.negated for t in terms] == [False, True, False, False, False, False]
    assert terms[2].prefix and terms[4].or_before
    assert archive_sql.fts5_expressions(parse_search('"')) == (None, None)
    assert len(parse_search("w " * 1000)) == archive_sql.MAX_TERMS


def test_filters_use_the_effective_label_so_corrections_are_filterable(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    a = seed(store, feed, title="A relevant piece", city=0.2)
    b = seed(store, feed, title="Another relevant piece", city=0.8)
    archive = ArchiveQueries(store)
    assert {r.id for r in archive.page(ArchiveFilter(pro_city_inclusion=True)).rows} == {b}
    store.add_label(a, "pro_city_inclusion", True, source="ui", who="ana")
    store.add_label(b, "pro_city_inclusion", False, source="slack", who="U1")
    rows = {r.id: r for r in archive.page(ArchiveFilter()).rows}
    assert rows[a].label("pro_city_inclusion") and rows[a].model["pro_city_inclusion"] is False
    assert rows[a].corrections["pro_city_inclusion"].who == "ana"
    assert rows[b].source("pro_city_inclusion") == "analyst"
    assert {r.id for r in archive.page(ArchiveFilter(pro_city_inclusion=True)).rows} == {a}
    assert archive.count(ArchiveFilter(source="analyst")) == 2
    assert archive.count(ArchiveFilter(source="model")) == 0


def test_date_language_feed_score_and_story_filters(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    other = add_feed(store, "https://b.example/rss", name="Other feed")
    now = datetime.now(UTC)
    old = seed(store, feed, title="Old one", published=now - timedelta(days=40), relevant=0.7)
    fr = seed(store, other, title="Un article", language="fr", relevant=0.95)
    low = seed(store, feed, title="Barely relevant", relevant=0.52)
    archive = ArchiveQueries(store)

    def ids(**kw: object) -> set[int]:
        return {r.id for r in archive.page(ArchiveFilter(**kw), limit=100).rows}  # type: ignore[arg-type]

    assert ids(since=now - timedelta(days=7)) == {fr, low}
    assert ids(until=now - timedelta(days=30)) == {old}
    assert ids(language="fr") == {fr}
    assert ids(feed_id=other) == {fr}
    assert ids(score_min=0.9) == {fr}
    assert ids(score_max=0.6) == {low}
    story = archive.rows_by_id([fr])[0].story_id
    assert ids(story_id=story) == {fr}


def test_keyset_pages_cover_everything_once_in_order_both_ways(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    same_time = datetime.now(UTC) - timedelta(hours=2)
    for n in range(23):  # ties on the sort key must not lose or repeat rows
        seed(
            store,
            feed,
            title=f"Article number {n}",
            published=same_time if n % 3 else same_time - timedelta(minutes=n),
        )
    archive = ArchiveQueries(store)
    for sort in ("newest", "oldest", "relevance", "rank"):
        f = ArchiveFilter(sort=sort, q="article" if sort == "rank" else "")
        seen, pages, cursor = [], [], None
        while True:
            page = archive.page(f, limit=5, cursor=cursor)
            assert page.start == len(seen)
            seen += [r.id for r in page.rows]
            pages.append(page)
            if not page.next_cursor:
                break
            cursor = Cursor.decode(page.next_cursor)
        assert sorted(seen) == sorted(set(seen)) and len(seen) == 23, sort
        back = archive.page(f, limit=5, cursor=Cursor.decode(pages[-1].prev_cursor or ""))
        assert [r.id for r in back.rows] == [r.id for r in pages[-2].rows], sort
    newest = [r.date for r in archive.page(ArchiveFilter(), limit=50).rows]
    assert newest == sorted(newest, reverse=True)


def test_a_damaged_cursor_is_refused_not_trusted() -> None:
    for token in ("", "abc", "eyJzIjoibmV3ZXN0In0", Cursor("newest", "after", "not a date", 1).encode()):
        with pytest.raises(ValueError):
            Cursor.decode(token)


def test_story_members_review_queue_and_unconfirmed_alerts(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    body = "The mayors of twelve cities wrote to the UN asking for a role in the compact review. " * 4
    first = seed(
        store, feed, title="Mayors write to the UN", text=body, url="https://one.example/a", channels=("#a",)
    )
    copy = seed(
        store, feed, title="Cities write to UN", text=body, url="https://two.example/b", channels=("#a",)
    )
    unsure = seed(store, feed, title="Hard to tell", relevant=0.56, channels=("#a",))
    archive = ArchiveQueries(store)
    story_id = archive.rows_by_id([first])[0].story_id
    assert story_id is not None
    found = archive.story(story_id)
    assert found is not None and [m.id for m in found[1]] == [first, copy]
    assert archive.rows_by_id([copy])[0].duplicate_of == first
    queue = archive.uncertain({"relevant": 0.55, "pro_city_inclusion": 0.5, "sovereignty_framing": 0.5})
    assert queue[0].row.id == unsure and queue[0].label == "relevant"
    since = datetime.now(UTC) - timedelta(days=1)
    alerted = {r.id for r in archive.unconfirmed_alerts(since=since)}
    assert first in alerted and copy not in alerted  # the copy was never alerted
    store.add_label(first, "relevant", True, source="slack", who="U1")
    assert first not in {r.id for r in archive.unconfirmed_alerts(since=since)}
    assert first not in {i.row.id for i in archive.uncertain({})}
    stories = archive.stories(ArchiveFilter(q="mayors"))
    assert [s["id"] for s in stories] == [story_id] and stories[0]["member_count"] == 2


def test_daily_counts_group_by_outlet_and_language_with_frames_among_relevant(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    day = datetime(2026, 3, 2, 10, tzinfo=UTC)
    seed(store, feed, title="One", outlet="Paper A", published=day, city=0.9)
    seed(store, feed, title="Two", outlet="Paper A", published=day, relevant=0.1, city=0.9)
    seed(
        store,
        feed,
        title="Trois",
        outlet="Paper B",
        language="fr",
        published=day + timedelta(days=1),
        sovereignty=0.8,
    )
    archive = ArchiveQueries(store)
    by_outlet = {(c.day.isoformat(), c.group): c for c in archive.daily_counts(ArchiveFilter(), "outlet")}
    a = by_outlet[("2026-03-02", "Paper A")]
    assert (a.total, a.relevant, a.pro_city_inclusion, a.sovereignty_framing) == (2, 1, 1, 0)
    assert by_outlet[("2026-03-03", "Paper B")].sovereignty_framing == 1
    languages = {c.group for c in archive.daily_counts(ArchiveFilter(), "language")}
    assert languages == {"en", "fr"}


def test_full_text_index_follows_updates_and_deletes(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    article = seed(store, feed, title="Harbour festival returns", text="Music on the quay all weekend.")
    archive = ArchiveQueries(store)
    assert archive.count(ArchiveFilter(q="festival")) == 1
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE articles SET title = 'Tram fares rise' WHERE id = :id"), {"id": article})
    assert archive.count(ArchiveFilter(q="festival")) == 0
    assert archive.count(ArchiveFilter(q="tram")) == 1
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM classifications WHERE article_id = :id"), {"id": article})
        conn.execute(text("DELETE FROM articles WHERE id = :id"), {"id": article})
    assert archive.count(ArchiveFilter(q="tram")) == 0


def test_postgres_diacritic_folding_matches_the_migration() -> None:
    path = Path(archive_sql.__file__).parent / "migrations" / "versions" / "0002_full_text_search.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.FOLD_FROM == archive_sql.FOLD_FROM and module.FOLD_TO == archive_sql.FOLD_TO
    assert len(archive_sql.FOLD_FROM) == len(archive_sql.FOLD_TO)
