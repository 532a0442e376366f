"""The store behaves the same on SQLite and PostgreSQL (every test runs on both)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from pipeline.records import FeedConfig
from pipeline.store import ArticleFilter, Store, open_store
from tests.factories import add_feed, classification, stored_article


def test_migrations_are_idempotent(db_url: str) -> None:
    open_store(db_url).close()
    again = open_store(db_url)
    assert again.count_articles() == 0
    again.close()


def test_feeds_sync_by_name_and_removed_feeds_are_disabled_not_lost(store: Store) -> None:
    store.sync_feeds([FeedConfig("A", "https://a.example/rss"), FeedConfig("B", "https://b.example/rss")])
    store.sync_feeds([FeedConfig("A", "https://a.example/rss", interval=15)])
    rows = {r["name"]: r for r in store.feed_rows()}
    assert rows["A"]["interval"] == 15 and rows["A"]["enabled"] is True
    assert rows["B"]["status"] == "disabled"
    assert [f.name for f, _ in store.due_feeds()] == ["A"]


def test_same_canonical_url_is_stored_once(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    first = stored_article(store, feed, url="https://news.example/x")
    second = stored_article(store, feed, url="https://news.example/x", title="Another title")
    assert first == second
    assert store.count_articles() == 1


def test_exact_duplicate_text_is_linked_to_the_original_and_not_alerted_again(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    text = "The mayors of twelve cities wrote to the UN refugee agency asking for a role. " * 6
    original = stored_article(
        store, feed, url="https://one.example/a", text=text, title="Mayors write to UNHCR"
    )
    copy = stored_article(store, feed, url="https://two.example/b", text=text, title="Cities write to UN")
    article = store.article(copy)
    assert article is not None and article.duplicate_of == original
    assert article.story_id == store.article(original).story_id  # type: ignore[union-attr]
    assert [a["kind"] for a in store.alerts() if a["kind"] == "article"] == ["article"]


def test_filters_by_relevance_frame_and_date(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    stored_article(store, feed, cls=classification(city=True))
    stored_article(store, feed, cls=classification(sovereignty=True))
    stored_article(store, feed, cls=classification(relevant=False))
    assert len(store.articles(ArticleFilter(relevant=True))) == 2
    assert len(store.articles(ArticleFilter(relevant=False))) == 1
    assert len(store.articles(ArticleFilter(frame="pro_city_inclusion"))) == 1
    assert store.articles(ArticleFilter(since=datetime.now(UTC) + timedelta(hours=1))) == []


def test_two_relays_claiming_at_once_never_get_the_same_alert(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    for _ in range(30):
        stored_article(store, feed)
    claimed: list[list[int]] = [[], [], []]
    barrier = threading.Barrier(3)

    def relay(slot: int) -> None:
        barrier.wait()
        while batch := store.claim_alerts(limit=3):
            claimed[slot].extend(m.alert_id for m in batch)

    threads = [threading.Thread(target=relay, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = [alert for slot in claimed for alert in slot]
    assert len(everything) == 30
    assert len(set(everything)) == 30


def test_a_relay_that_died_mid_send_leaves_the_alert_unknown_not_resent(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    stored_article(store, feed)
    [message] = store.claim_alerts(lease_seconds=1)
    assert store.claim_alerts() == []
    assert store.expire_leases(datetime.now(UTC) + timedelta(seconds=5)) == 1
    assert store.alerts()[0]["status"] == "unknown"
    assert store.claim_alerts() == []
    assert message.article.title


def test_unreachable_database_is_a_one_line_store_error() -> None:
    import pytest

    from pipeline.errors import StoreError

    with pytest.raises(StoreError) as error:
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "\n" not in str(error.value)
    assert str(error.value).startswith(("database unavailable", "could not migrate"))


def test_analyst_label_never_overwrites_the_model_and_a_repeat_is_a_no_op(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    article_id = stored_article(store, feed, cls=classification(city=False))
    assert store.add_label(
        article_id, "pro_city_inclusion", True, source="slack", who="U1", idempotency_key="k1"
    )
    assert not store.add_label(
        article_id, "pro_city_inclusion", True, source="slack", who="U1", idempotency_key="k1"
    )
    article = store.article(article_id)
    assert article is not None
    assert article.pro_city_inclusion is False  # the model's output is kept
    assert article.label("pro_city_inclusion") is True and article.is_corrected("pro_city_inclusion")
    [entry] = store.label_history(article_id)
    assert (
        entry["previous_value"] is False and entry["who"] == "U1" and entry["model_version"] == "test-model"
    )
    assert len(store.analyst_labels()) == 1


def test_migrations_and_table_definitions_agree(store: Store) -> None:
    """`alembic check` in test form: no schema drift between tables.py and the migrations."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pipeline.store.schema_filter import include_name
    from pipeline.store.tables import Base

    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
