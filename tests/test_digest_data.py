"""A realistic digest week, stored through the real Store (helpers only: no tests here).

Two weeks of invented coverage from invented outlets: syndicated stories (one text in
several outlets, so one story), both frames, neutral explainers, irrelevant noise, an
analyst's correction, a failing feed and a silent one. The digest tests check their
numbers against `SEED_*` below, and the preview screenshot is made from the same data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update

from pipeline.dedupe import fingerprint_article
from pipeline.records import Classification, Extraction, FeedConfig, FeedEntry, FrameResult, NewArticle
from pipeline.store import Store
from pipeline.store.tables import ArticleRow, FeedRow, LabelRow

TZ = ZoneInfo("Europe/Brussels")
WEEK = "2026-W47"  # Mon 16 - Sun 22 November 2026
MONDAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # Monday morning after the week

CITY, SOV = "pro_city_inclusion", "sovereignty_framing"


@dataclass(frozen=True)
class SeedStory:
    title: str
    outlets: tuple[str, ...]
    frames: tuple[str, ...]
    day: int  # 0 = Monday of the week (negative: the previous week)
    quotes: dict[str, str]
    relevance: float = 0.9


THIS_WEEK = (
    SeedStory(
        "Forty mayors ask the UN for a seat at the migration compact review",
        ("Geneva Wire", "City Desk Daily", "Atlas Tribune", "Harbour Times", "Civic Ledger"),
        (CITY,),
        0,
        {
            CITY: "We are the ones who run the shelters, the language classes and the job centres, "
            "said Mayor Inés Carvalho of Porto Alegre."
        },
        0.97,
    ),
    SeedStory(
        "Interior minister: migration pact is 'binding through the back door'",
        ("Nation & State", "The Border Herald", "Atlas Tribune", "Southern Cross Post"),
        (SOV,),
        1,
        {SOV: "No agreement signed in Marrakech or New York will decide who crosses our borders."},
        0.95,
    ),
    SeedStory(
        "Cities and capitals clash over who speaks for migrants at the IMRF",
        ("Metro Policy Review", "Geneva Wire", "City Desk Daily"),
        (CITY, SOV),
        2,
        {
            CITY: "Local governments implemented the compact's objectives years before their capitals did.",
            SOV: "The compact remains an agreement between sovereign states, the ambassador insisted.",
        },
        0.93,
    ),
    SeedStory(
        "Opposition demands referendum before government reaffirms Global Compact for Migration",
        ("The Border Herald", "Nation & State"),
        (SOV,),
        2,
        {SOV: "Parliament, not a UN forum, must decide our immigration law, the opposition leader said."},
        0.91,
    ),
    SeedStory(
        "Mayors Migration Council hands city progress reports to review co-chairs",
        ("Civic Ledger", "Geneva Wire"),
        (CITY,),
        3,
        {CITY: "A review that never hears from cities is a review of paperwork, not of people's lives."},
        0.94,
    ),
    SeedStory(
        "Explainer: what the International Migration Review Forum can and cannot decide",
        ("Atlas Tribune", "Metro Policy Review"),
        (),
        3,
        {},
        0.88,
    ),
    SeedStory(
        "Motion to withdraw from the refugee compact fails by twelve votes",
        ("Southern Cross Post", "Nation & State"),
        (SOV,),
        4,
        {SOV: "Supporters of the motion called the compact a surrender of control over asylum policy."},
        0.9,
    ),
    SeedStory(
        "Barcelona and Milan pledge new funds to implement compact objectives",
        ("City Desk Daily",),
        (CITY,),
        4,
        {CITY: "The mayors said cities deserve a formal role in reviewing the compact they help deliver."},
        0.89,
    ),
    SeedStory(
        "Senator calls UN compact 'a threat to our right to control immigration'",
        ("The Border Herald",),
        (SOV,),
        5,
        {SOV: "It is a threat to our right to decide who enters this country, the senator wrote."},
        0.86,
    ),
    SeedStory(
        "General Assembly sets date for vote on compact progress declaration",
        ("Geneva Wire", "Atlas Tribune"),
        (),
        5,
        {},
        0.92,
    ),
    SeedStory(
        "Regional review in Bangkok ends with a call for local government seats",
        ("Pacific Signal",),
        (CITY,),
        6,
        {CITY: "Delegates agreed that local governments should present their own reports next time."},
        0.87,
    ),
    SeedStory(
        "Three governments restate their exit from the migration pact, citing sovereignty",
        ("Nation & State", "Southern Cross Post", "The Border Herald"),
        (SOV,),
        6,
        {SOV: "The three ministers said sovereignty over borders is not negotiable."},
        0.9,
    ),
)

PREVIOUS_WEEK = (
    SeedStory(
        "Mayors prepare joint letter to UN on migration review",
        ("Geneva Wire", "Civic Ledger"),
        (CITY,),
        -6,
        {},
    ),
    SeedStory("City network launches compact implementation tracker", ("City Desk Daily",), (CITY,), -5, {}),
    SeedStory("Minister hints at leaving the migration compact", ("Nation & State",), (SOV,), -4, {}),
    SeedStory("What the New York Declaration promised, eight years on", ("Atlas Tribune",), (), -4, {}),
    SeedStory("Local leaders want a voice at the IMRF", ("Metro Policy Review",), (CITY,), -3, {}),
    SeedStory("Compact review agenda published", ("Geneva Wire",), (), -2, {}),
    SeedStory("Ports mayors ask to co-chair migration sessions", ("Harbour Times",), (CITY,), -2, {}),
    SeedStory("Think tank: compacts are non-binding, despite claims", ("Civic Ledger",), (), -1, {}),
)

NOISE = (  # fetched this week, not relevant: must not be counted
    ("Tram fares rise again in the city centre", "City Desk Daily"),
    ("Harbour festival returns after two years", "Harbour Times"),
    ("Trade ministers discuss tariff sovereignty at WTO", "Nation & State"),
)

OUTLETS = sorted(
    {o for s in THIS_WEEK + PREVIOUS_WEEK for o in s.outlets}
    | {o for _, o in NOISE}
    | {"Lakeside Gazette", "Rhine Courier"}
)

# Analysts' corrections during the week: corrections win over the model everywhere.
MISSED = SeedStory(  # the model said "not relevant"; an analyst says it is
    "City council debates its place in the compact review", ("Civic Ledger",), (), 3, {}, 0.3
)
UNFRAMED = THIS_WEEK[8].title  # the model saw sovereignty framing; an analyst removes it

# What the digest must say about WEEK, computed from the lists above.
SEED_ARTICLES = sum(len(s.outlets) for s in THIS_WEEK) + 1
SEED_STORIES = len(THIS_WEEK) + 1
SEED_OUTLETS = len({o for s in THIS_WEEK for o in s.outlets})
SEED_FRAME_STORIES = {
    CITY: sum(CITY in s.frames for s in THIS_WEEK),
    SOV: sum(SOV in s.frames for s in THIS_WEEK) - 1,
}
SEED_PREVIOUS = (sum(len(s.outlets) for s in PREVIOUS_WEEK), len(PREVIOUS_WEEK))
SEED_PREVIOUS_FRAMES = {f: sum(f in s.frames for s in PREVIOUS_WEEK) for f in (CITY, SOV)}
SEED_NEW_OUTLETS = {"The Border Herald", "Southern Cross Post", "Pacific Signal"}
SEED_CORRECTIONS = 2


def _text(story: SeedStory, salt: int) -> str:
    rng = random.Random(f"{story.title}/{salt}")
    words = story.title.lower().replace("'", "").split()
    filler = [
        "delegates", "review", "declaration", "council", "parliament", "forum", "letter", "ministry",
        "network", "budget", "shelter", "interpreter", "session", "statement", "vote", "agenda",
    ]  # fmt: skip
    return " ".join(rng.choice(words + filler) for _ in range(160)) + "."


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 15), tzinfo=TZ).astimezone(UTC)


def add_feeds(store: Store) -> dict[str, int]:
    return store.sync_feeds(
        [
            FeedConfig(name=o, url=f"https://{o.lower().replace(' ', '-').replace('&', 'and')}.example/rss")
            for o in OUTLETS
        ]
    )


def seed_article(
    store: Store,
    feed_id: int,
    *,
    title: str,
    outlet: str,
    text: str,
    url: str,
    relevant: bool,
    frames: tuple[str, ...] = (),
    quotes: dict[str, str] | None = None,
    relevance: float = 0.9,
    fetched_at: datetime,
) -> int:
    """Store one article as the pipeline would, then date it (save_article stamps now)."""
    quotes = quotes or {}
    cls = Classification(
        relevant=relevant,
        relevance=relevance if relevant else 0.04,
        pro_city_inclusion=FrameResult(
            CITY in frames, 0.9 if CITY in frames else 0.1, tuple(q for k, q in quotes.items() if k == CITY)
        ),
        sovereignty_framing=FrameResult(
            SOV in frames, 0.88 if SOV in frames else 0.1, tuple(q for k, q in quotes.items() if k == SOV)
        ),
        model_version="lr-2026.11.2",
        language="en",
    )
    article = NewArticle(
        feed_id=feed_id,
        url=url,
        canonical_url=url,
        entry=FeedEntry(link=url, title=title, summary="", published=fetched_at - timedelta(hours=1)),
        extraction=Extraction(status="ok", title=title, text=text, site_name=outlet),
        fingerprint=fingerprint_article(title, text),
        classification=cls,
    )
    saved = store.save_article(article)
    with store.writing() as session:
        session.execute(
            update(ArticleRow)
            .where(ArticleRow.id == saved.article_id)
            .values(fetched_at=fetched_at, published_at=fetched_at - timedelta(hours=1))
        )
    return saved.article_id


def seed_story(store: Store, feeds: dict[str, int], story: SeedStory, monday: date = MONDAY) -> list[int]:
    """One story carried by each of its outlets (the same wire text: one story cluster)."""
    text = _text(story, 0)
    ids = []
    slug = "-".join(story.title.lower().replace("'", "").replace(":", "").split()[:7])
    for i, outlet in enumerate(story.outlets):
        ids.append(
            seed_article(
                store,
                feeds[outlet],
                title=story.title,
                outlet=outlet,
                text=text,
                url=f"https://{outlet.lower().replace(' ', '').replace('&', '')}.example/{slug}",
                relevant=True,
                frames=story.frames,
                quotes=story.quotes,
                relevance=story.relevance,
                fetched_at=_local(monday + timedelta(days=story.day), 8 + 2 * i),
            )
        )
    return ids


def seed_realistic_week(store: Store, monday: date = MONDAY, now: datetime = NOW) -> dict[str, list[int]]:
    """Both weeks, the noise, one analyst correction, and feed health. Returns story ids by title."""
    feeds = add_feeds(store)
    ids = {s.title: seed_story(store, feeds, s, monday) for s in PREVIOUS_WEEK + THIS_WEEK}
    for n, (title, outlet) in enumerate(NOISE):
        seed_article(
            store,
            feeds[outlet],
            title=title,
            outlet=outlet,
            text=_text(SeedStory(title, (outlet,), (), 0, {}), n),
            url=f"https://noise.example/{n}",
            relevant=False,
            fetched_at=_local(monday + timedelta(days=n + 1), 12),
        )
    missed = seed_article(
        store,
        feeds[MISSED.outlets[0]],
        title=MISSED.title,
        outlet=MISSED.outlets[0],
        text=_text(MISSED, 0),
        url="https://civicledger.example/city-council-debates",
        relevant=False,
        fetched_at=_local(monday + timedelta(days=MISSED.day), 17),
    )
    store.add_label(missed, "relevant", True, source="ui", who="ana")
    store.add_label(ids[UNFRAMED][0], SOV, False, source="slack", who="ben")
    with store.writing() as session:
        session.execute(update(LabelRow).values(created_at=_local(monday + timedelta(days=4), 15)))
    _feed_health(store, monday, now)
    return ids


def _feed_health(store: Store, monday: date, now: datetime) -> None:
    week_start = _local(monday, 0)
    with store.writing() as session:
        session.execute(
            update(FeedRow).values(
                status="ok",
                last_attempt_at=now - timedelta(minutes=20),
                last_success_at=now - timedelta(minutes=20),
                last_new_entry_at=now - timedelta(hours=5),
            )
        )
        session.execute(
            update(FeedRow)
            .where(FeedRow.name == "Lakeside Gazette")
            .values(
                status="failing",
                consecutive_failures=14,
                last_success_at=week_start + timedelta(days=2, hours=9),
                last_error="HTTP 503 from lakeside-gazette.example",
            )
        )
        session.execute(
            update(FeedRow)
            .where(FeedRow.name == "Rhine Courier")
            .values(last_new_entry_at=week_start - timedelta(days=4))
        )
