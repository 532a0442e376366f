"""The weekly digest's content and rendering, checked against the data actually stored."""

from __future__ import annotations

import email
import itertools
import re
import time
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage

import pytest

from alerts.digest import (
    Digest,
    Period,
    build_digest,
    build_message,
    digest_subject,
    render_chart,
    render_html,
    render_text,
)
from pipeline.errors import ConfigError
from pipeline.store import Store
from pipeline.store.digest_queries import feed_problems
from tests.test_digest_data import (
    CITY,
    MISSED,
    NOW,
    OUTLETS,
    SEED_ARTICLES,
    SEED_CORRECTIONS,
    SEED_FRAME_STORIES,
    SEED_NEW_OUTLETS,
    SEED_OUTLETS,
    SEED_PREVIOUS,
    SEED_PREVIOUS_FRAMES,
    SEED_STORIES,
    SOV,
    THIS_WEEK,
    TZ,
    UNFRAMED,
    WEEK,
    add_feeds,
    seed_article,
    seed_realistic_week,
)

ARCHIVE = "https://archive.example.org/compactwatch"


def week_digest(store: Store, **extra: object) -> Digest:
    return build_digest(store, Period.iso_week(WEEK), TZ, archive_url=ARCHIVE, now=NOW, **extra)  # type: ignore[arg-type]


def parse(message: EmailMessage) -> EmailMessage:
    """Serialise and parse back, as a receiving client would."""
    return email.message_from_bytes(bytes(message), policy=policy.default)  # type: ignore[return-value]


def section_titles(digest: Digest) -> list[str]:
    return [s.title for s in digest.sections]


# --------------------------------------------------------------------------- numbers
def test_digest_numbers_match_the_stored_week(store: Store) -> None:
    seed_realistic_week(store)
    digest = week_digest(store)
    assert (digest.figures.articles, digest.figures.stories, digest.figures.outlets) == (
        SEED_ARTICLES,
        SEED_STORIES,
        SEED_OUTLETS,
    )
    assert (digest.previous_figures.articles, digest.previous_figures.stories) == SEED_PREVIOUS
    shares = {f.frame: f for f in digest.frames}
    for frame in (CITY, SOV):
        assert shares[frame].stories == SEED_FRAME_STORIES[frame]
        assert shares[frame].total == SEED_STORIES
        assert shares[frame].previous_stories == SEED_PREVIOUS_FRAMES[frame]
        expected = int(100 * SEED_FRAME_STORIES[frame] / SEED_STORIES + 0.5)
        assert shares[frame].percent == expected
    assert shares[SOV].change_points == shares[SOV].percent - shares[SOV].previous_percent  # type: ignore[operator]
    # the daily chart adds up to the week's stories, day by day in Brussels time
    assert sum(d.stories for d in digest.daily) == SEED_STORIES
    assert [d.day for d in digest.daily] == [date(2026, 11, 16) + timedelta(days=i) for i in range(7)]
    assert sum(d.pro_city_inclusion for d in digest.daily) == SEED_FRAME_STORIES[CITY]
    assert set(digest.new_outlets) == SEED_NEW_OUTLETS
    assert (digest.corrections, digest.corrected_articles) == (SEED_CORRECTIONS, SEED_CORRECTIONS)
    assert digest.model_version == "lr-2026.11.2"
    assert [(p.name, p.kind) for p in digest.feed_problems] == [
        ("Lakeside Gazette", "failing"),
        ("Rhine Courier", "silent"),
    ]
    assert digest.feeds_total == len(OUTLETS)
    # the same numbers appear in both parts, so a reader with images blocked loses nothing
    text = render_text(digest)
    html = render_html(digest, chart_src="chart.png")
    for part in (text, html):
        assert f"{SEED_STORIES} stories on the migration compacts in {SEED_OUTLETS} outlets" in part
    for frame in (CITY, SOV):
        counts = f"{shares[frame].percent}% of stories ({SEED_FRAME_STORIES[frame]} of {SEED_STORIES})"
        assert counts in html
        assert counts.replace(" of stories", "") in text
    daily = " ".join(str(d.stories) for d in digest.daily)
    assert daily in " ".join(re.findall(r"\n  \w{3} \d+ \w{3}\s+(\d+) /", text))


def test_subject_names_the_stories_and_the_biggest_frame_move(sqlite_store: Store) -> None:
    seed_realistic_week(sqlite_store)
    digest = week_digest(sqlite_store)
    sov = next(f for f in digest.frames if f.frame == SOV)
    assert digest_subject(digest) == (
        f"compactwatch weekly: {SEED_STORIES} stories, sovereignty framing up {sov.change_points} points"
    )


def test_analysts_corrections_win_over_the_model(sqlite_store: Store) -> None:
    seed_realistic_week(sqlite_store)
    digest = week_digest(sqlite_store)
    by_section = {s.key: [item.title for item in s.stories] for s in digest.sections}
    # the model said "not relevant", an analyst said relevant: counted, under other coverage
    assert MISSED.title in by_section["other"]
    # the model saw sovereignty framing, an analyst removed it
    assert UNFRAMED not in by_section["sovereignty_framing"]
    assert UNFRAMED in by_section["other"]


def test_top_stories_are_ranked_by_outlets_then_relevance_with_outlet_date_link_and_quote(
    sqlite_store: Store,
) -> None:
    seed_realistic_week(sqlite_store)
    digest = week_digest(sqlite_store)
    city = next(s for s in digest.sections if s.key == CITY)
    assert [item.outlets for item in city.stories] == sorted((i.outlets for i in city.stories), reverse=True)
    first = city.stories[0]
    assert first.title == THIS_WEEK[0].title and first.outlets == len(THIS_WEEK[0].outlets)
    assert first.url and first.url.startswith("https://")
    assert first.day == date(2026, 11, 16)
    assert first.quote and "run the shelters" in first.quote
    # equal outlet counts fall back to relevance
    twos = [i for i in city.stories if i.outlets == 2] + [i for i in city.stories if i.outlets == 1]
    for a, b in itertools.pairwise(twos):
        if a.outlets == b.outlets:
            assert a.relevance >= b.relevance
    assert section_titles(digest) == ["Cities at the table", "Sovereignty framing", "Other coverage"]


def test_period_is_whole_local_days_and_survives_the_dst_change() -> None:
    brussels = TZ
    assert Period.last_days(brussels, datetime(2026, 11, 23, 7, 0, tzinfo=UTC)) == Period(
        date(2026, 11, 16), date(2026, 11, 22)
    )
    # 00:30 local on Monday is still Monday in Brussels although it is Sunday in UTC
    assert Period.last_days(brussels, datetime(2026, 11, 22, 23, 30, tzinfo=UTC)).last_day == date(
        2026, 11, 22
    )
    week43 = Period.iso_week("2026-W43")  # clocks go back on Sunday 25 October
    start, end = week43.bounds(brussels)
    assert start == datetime(2026, 10, 18, 22, 0, tzinfo=UTC)
    assert end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)
    assert week43.previous() == Period.iso_week("2026-W42")
    assert week43.label() == "19–25 October 2026"
    assert Period(date(2026, 12, 28), date(2027, 1, 3)).label() == "28 December 2026 – 3 January 2027"
    for bad in ("2026-47", "last week", "2026-W54"):
        with pytest.raises(ValueError):
            Period.iso_week(bad)


def test_failing_feed_is_reported_only_once_it_has_failed_for_hours(sqlite_store: Store) -> None:
    from sqlalchemy import update

    from pipeline.store.tables import FeedRow

    seed_realistic_week(sqlite_store)
    with sqlite_store.writing() as session:
        session.execute(
            update(FeedRow)
            .where(FeedRow.name == "Lakeside Gazette")
            .values(last_success_at=NOW - timedelta(minutes=40))
        )
    start, _ = Period.iso_week(WEEK).bounds(TZ)
    names = [p.name for p in feed_problems(sqlite_store, since=start, now=NOW)]
    assert "Lakeside Gazette" not in names and "Rhine Courier" in names


# --------------------------------------------------------------------------- empty and large weeks
def test_empty_week_says_so_in_one_friendly_line(sqlite_store: Store) -> None:
    add_feeds(sqlite_store)
    digest = week_digest(sqlite_store)
    assert digest.is_empty and digest.sections == ()
    assert digest_subject(digest) == "compactwatch weekly: no coverage of the compacts this week"
    text = render_text(digest)
    assert (
        "A quiet week: compactwatch found no coverage of the migration compacts between 16 Nov and 22 Nov."
        in text
    )
    for absent in ("HEADLINE FIGURES", "FRAME BALANCE", "STORIES PER DAY", "OUTLETS", "ANALYSTS"):
        assert absent not in text
    html = render_html(digest)
    assert "A quiet week" in html and "<img" not in html and "Frame balance" not in html
    message = parse(build_message(digest, sender="cw <cw@example.org>", recipient="dir@example.org"))
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]


def test_a_500_story_week_stays_short_and_points_to_the_archive(sqlite_store: Store) -> None:
    import random

    feeds = add_feeds(sqlite_store)
    names = sorted(feeds)
    monday = datetime(2026, 11, 16, 9, 0, tzinfo=TZ)
    rng = random.Random(500)
    for n in range(500):
        frames = tuple(f for f in (CITY, SOV) if rng.random() < 0.4)
        outlet = names[n % len(names)]
        seed_article(
            sqlite_store,
            feeds[outlet],
            title=f"Compact story number {n} <b>{rng.randrange(10**6)}</b>",
            outlet=outlet,
            text=" ".join(f"w{rng.randrange(10**9)}" for _ in range(80)),
            url=f"https://big.example/{n}",
            relevant=True,
            frames=frames,
            quotes={f: f"Evidence sentence {n} for {f}." for f in frames},
            relevance=rng.uniform(0.5, 1.0),
            fetched_at=monday + timedelta(minutes=19 * n),
        )
    started = time.monotonic()
    digest = week_digest(sqlite_store)
    html = render_html(digest, chart_src="cid:x")
    text = render_text(digest)
    elapsed = time.monotonic() - started
    assert digest.figures.stories == 500
    assert all(len(s.stories) <= 5 for s in digest.sections)
    assert sum(s.total for s in digest.sections) >= 500 and digest.truncated
    assert len(digest.active_outlets) <= 8
    assert f'in <a href="{ARCHIVE}"' in html and f"more: {ARCHIVE}" in text
    assert len(html) < 80_000 and len(text) < 20_000
    assert elapsed < 10
    assert len(render_chart(digest)) < 200_000


# --------------------------------------------------------------------------- untrusted text
def test_script_in_a_headline_is_escaped_in_html_and_never_executable(sqlite_store: Store) -> None:
    feeds = add_feeds(sqlite_store)
    seed_article(
        sqlite_store,
        feeds["Geneva Wire"],
        title='<script>alert("x")</script> Mayors <img src=x onerror=alert(1)> & the compact',
        outlet='Geneva "Wire" <i>',
        text="mayors compact review " * 40,
        url="https://genevawire.example/script",
        relevant=True,
        frames=(CITY,),
        quotes={CITY: "</div><script>steal()</script> cities belong at the table"},
        fetched_at=datetime(2026, 11, 17, 9, tzinfo=UTC),
    )
    digest = week_digest(sqlite_store)
    html = render_html(digest, chart_src="cid:c")
    assert "<script" not in html.lower() and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    assert (
        "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Mayors &lt;img src=x onerror=alert(1)&gt; &amp; the compact"
        in html
    )
    assert "&lt;/div&gt;&lt;script&gt;steal()&lt;/script&gt;" in html
    assert "Geneva &#34;Wire&#34; &lt;i&gt;" in html
    text = render_text(digest)
    assert '<script>alert("x")</script> Mayors' in text  # plain text is shown as is


def test_crlf_in_a_headline_never_reaches_the_headers(sqlite_store: Store) -> None:
    feeds = add_feeds(sqlite_store)
    seed_article(
        sqlite_store,
        feeds["Geneva Wire"],
        title="Mayors meet\r\nBcc: victim@evil.example\r\nSubject: pwned",
        outlet="Evil\r\nX-Injected: 1",
        text="mayors compact review " * 40,
        url="https://genevawire.example/crlf",
        relevant=True,
        fetched_at=datetime(2026, 11, 17, 9, tzinfo=UTC),
    )
    digest = week_digest(sqlite_store)
    message = parse(build_message(digest, sender="cw@example.org", recipient="dir@example.org"))
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message.get_all("Subject") == ["compactwatch weekly: 1 story"]
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Mayors meet Bcc: victim@evil.example Subject: pwned" in body  # one line, in the body only


def test_only_http_links_are_linked(sqlite_store: Store) -> None:
    feeds = add_feeds(sqlite_store)
    seed_article(
        sqlite_store,
        feeds["Geneva Wire"],
        title="A javascript link",
        outlet="Geneva Wire",
        text="mayors compact review " * 40,
        url="javascript:alert(1)",
        relevant=True,
        fetched_at=datetime(2026, 11, 17, 9, tzinfo=UTC),
    )
    digest = week_digest(sqlite_store)
    assert digest.sections[0].stories[0].url is None
    assert "javascript:" not in render_html(digest) and "javascript:" not in render_text(digest)


# --------------------------------------------------------------------------- the message
def test_message_is_text_plus_html_with_the_chart_inline_by_content_id(sqlite_store: Store) -> None:
    seed_realistic_week(sqlite_store)
    digest = week_digest(sqlite_store)
    message = parse(
        build_message(
            digest,
            sender="compactwatch <digest@cw.example.org>",
            recipient="Director <dir@city.example>",
            unsubscribe="https://cw.example.org/unsubscribe?list=weekly, mailto:unsubscribe@cw.example.org",
        )
    )
    assert [p.get_content_type() for p in message.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    image = next(p for p in message.walk() if p.get_content_type() == "image/png")
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html
    assert image.get_content().startswith(b"\x89PNG")
    assert message["List-Unsubscribe"] == (
        "<https://cw.example.org/unsubscribe?list=weekly>, <mailto:unsubscribe@cw.example.org>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["To"].addresses[0].addr_spec == "dir@city.example"
    assert message["Message-ID"].endswith("@cw.example.org>")
    assert message["Subject"] == digest_subject(digest)


def test_mailto_only_unsubscribe_has_no_one_click_header_and_bad_targets_are_refused() -> None:
    digest = _empty_digest()
    message = build_message(
        digest, sender="a@b.example", recipient="c@d.example", unsubscribe="mailto:u@b.example"
    )
    assert message["List-Unsubscribe"] == "<mailto:u@b.example>"
    assert message["List-Unsubscribe-Post"] is None
    assert build_message(digest, sender="a@b.example", recipient="c@d.example")["List-Unsubscribe"] is None
    for bad in ("http://insecure.example/u", "javascript:alert(1)", "https://x.example/\r\nBcc: y@z"):
        with pytest.raises(ConfigError):
            build_message(digest, sender="a@b.example", recipient="c@d.example", unsubscribe=bad)
    for bad_recipient in ("a@b.example, c@d.example", "x@y.example\r\nBcc: z@evil.example", "nobody"):
        with pytest.raises(ConfigError):
            build_message(digest, sender="a@b.example", recipient=bad_recipient)


def test_html_is_an_email_safe_table_layout_no_wider_than_640px(sqlite_store: Store) -> None:
    seed_realistic_week(sqlite_store)
    html = render_html(week_digest(sqlite_store), chart_src="cid:chart", unsubscribe="https://u.example/x")
    lowered = html.lower()
    assert "<script" not in lowered and "<style" not in lowered and "<link" not in lowered
    assert re.search(r"<[^>]+\son\w+\s*=", lowered) is None  # no event handlers
    widths = [int(w) for w in re.findall(r'width="(\d+)"', html)]
    assert widths and max(widths) <= 640
    assert all(int(w) <= 640 for w in re.findall(r"max-width:(\d+)px", html))
    assert (
        "<table" in html and "position:" not in html and "display:flex" not in html and "grid" not in lowered
    )


def _empty_digest() -> Digest:
    from alerts.digest import Figures

    return Digest(
        period=Period.iso_week(WEEK),
        tz="Europe/Brussels",
        start=NOW,
        end=NOW,
        figures=Figures(),
        previous_figures=Figures(),
        frames=(),
        daily=(),
        sections=(),
        new_outlets=(),
        new_outlets_total=0,
        active_outlets=(),
        feed_problems=(),
        feed_problems_total=0,
        feeds_total=0,
        corrections=0,
        corrected_articles=0,
        model_version=None,
    )


def test_the_newest_classification_of_an_article_is_the_one_counted(store: Store) -> None:
    from pipeline.store.tables import ClassificationRow

    feeds = add_feeds(store)
    article_id = seed_article(
        store,
        feeds["Geneva Wire"],
        title="Mayors and the compact",
        outlet="Geneva Wire",
        text="mayors compact review " * 40,
        url="https://genevawire.example/reclassified",
        relevant=True,
        frames=(CITY,),
        fetched_at=datetime(2026, 11, 17, 9, tzinfo=UTC),
    )
    assert week_digest(store).figures.articles == 1
    with store.writing() as session:  # a retrained model no longer finds it relevant
        session.add(
            ClassificationRow(
                article_id=article_id,
                model_version="lr-2026.12.1",
                relevant=False,
                relevance=0.2,
                pro_city_inclusion=False,
                pro_city_inclusion_score=0.1,
                sovereignty_framing=False,
                sovereignty_framing_score=0.1,
                evidence={},
                created_at=datetime(2026, 11, 18, tzinfo=UTC),
            )
        )
    digest = week_digest(store)
    assert digest.is_empty and digest.model_version == "lr-2026.12.1"
