"""The digest tells the truth about a week compactwatch could barely see, and dates stories
by when they were published."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from alerts.digest import Period, build_digest, digest_subject, plain_reason, render_html, render_text
from alerts.digest_command import resolve_period
from alerts.digest_period import scheduled_period
from pipeline.store import Store
from pipeline.store.tables import ArticleRow, FeedRow
from tests.test_digest_data import NOW, OUTLETS, TZ, WEEK, add_feeds, seed_article, seed_realistic_week

DNS_ERROR = "[Errno -2] Name or service not known: lakeside-gazette.example (getaddrinfo failed)"


def _fail_feeds(store: Store, names: list[str], error: str) -> None:
    with store.writing() as session:
        session.execute(
            update(FeedRow)
            .where(FeedRow.name.in_(names))
            .values(status="failing", consecutive_failures=30, last_success_at=None, last_error=error)
        )


def test_a_week_when_most_feeds_failed_says_coverage_is_incomplete_not_quiet(store: Store) -> None:
    add_feeds(store)
    with store.writing() as session:
        session.execute(update(FeedRow).values(status="ok", last_attempt_at=NOW, last_success_at=NOW))
    failing = list(OUTLETS)[3:]
    _fail_feeds(store, failing, DNS_ERROR)
    digest = build_digest(store, Period.iso_week(WEEK), TZ, now=NOW)
    total = len(OUTLETS)
    reachable = total - len(failing)
    assert digest.is_empty and digest.coverage_incomplete
    expected = f"Only {reachable} of {total} feeds were reachable this week: coverage below is incomplete"
    text = render_text(digest)
    html = render_html(digest)
    assert expected in text and expected in html
    assert "quiet week" not in text.lower()
    assert (
        digest_subject(digest)
        == f"compactwatch weekly: only {reachable} of {total} feeds reachable, no coverage found"
    )
    # the director reads a plain cause, never the raw resolver error
    assert "its web address could not be found" in text
    assert "getaddrinfo" not in text and "Errno" not in text and "getaddrinfo" not in html


def test_a_week_with_a_few_failing_feeds_is_not_called_incomplete(store: Store) -> None:
    seed_realistic_week(store)  # one of the outlets' feeds fails with HTTP 503
    digest = build_digest(store, Period.iso_week(WEEK), TZ, now=NOW)
    assert not digest.coverage_incomplete
    text = render_text(digest)
    assert "incomplete" not in text
    assert "the site had a server error" in text and "HTTP 503 from" not in text


def test_plain_reasons_cover_the_usual_feed_failures() -> None:
    assert plain_reason("ReadTimeout: deadline of 20 s passed") == "the site did not answer in time"
    assert plain_reason("HTTP 404 Not Found") == "the feed is no longer at that address"
    assert plain_reason("response is not a feed (text/html)") == "the address no longer serves a news feed"
    assert plain_reason(None) == "it could not be read"


def test_chart_counts_stories_on_their_publication_day_with_found_date_fallback(store: Store) -> None:
    feeds = add_feeds(store)
    outlet = next(iter(OUTLETS))
    wednesday = datetime(2026, 11, 18, 12, tzinfo=UTC)

    def article(n: int, found: datetime, published: datetime | None) -> None:
        article_id = seed_article(
            store, feeds[outlet], title=f"Mayors and the compact, part {n}", outlet=outlet,
            text=f"Mayors discussed the migration compact review for the {n}th time in a long letter.",
            url=f"https://x.example/{n}", relevant=True, fetched_at=found,
        )  # fmt: skip
        with store.writing() as session:
            session.execute(
                update(ArticleRow).where(ArticleRow.id == article_id).values(published_at=published)
            )

    article(1, wednesday + timedelta(days=2), wednesday)  # published Wednesday, found Friday
    article(2, wednesday + timedelta(days=1), None)  # no date: the day it was found (Thursday)
    article(3, wednesday, wednesday + timedelta(days=30))  # a date in the future: found date
    article(4, wednesday, wednesday - timedelta(days=9))  # published the week before, found late
    digest = build_digest(store, Period.iso_week(WEEK), TZ, now=NOW)
    per_day = {v.day.isoformat(): v.stories for v in digest.daily}
    assert per_day["2026-11-18"] == 2 and per_day["2026-11-19"] == 1 and per_day["2026-11-20"] == 0
    assert digest.figures.stories == 4 and sum(per_day.values()) == 3
    assert (digest.undated_stories, digest.earlier_stories) == (2, 1)
    note = render_text(digest)
    assert "Stories are counted on the day they were published" in note
    assert "2 stories without a publication date on the day compactwatch found them" in note
    assert "1 story published before 16 Nov and found this week is not in the chart" in note


def test_preview_and_scheduled_send_cover_the_same_period() -> None:
    wednesday = datetime(2026, 11, 25, 15, tzinfo=UTC)
    monday_send = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # 08:00 in Brussels
    preview = resolve_period(None, "Europe/Brussels", wednesday, day="mon", at="08:00")
    sent = scheduled_period("mon", "08:00", "Europe/Brussels", monday_send)
    assert preview == sent == Period.iso_week("2026-W47")
    # before this week's send time, the preview still shows the period sent last week
    early = resolve_period(None, "Europe/Brussels", datetime(2026, 11, 23, 6, 0, tzinfo=UTC))
    assert early == Period.iso_week("2026-W46")
