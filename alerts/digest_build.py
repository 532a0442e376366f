"""Reading the store into a `Digest`: relevant articles grouped into stories (clusters of
copies), frame shares against the period before, stories per day by publication date,
top stories per frame, outlets, feed problems, corrections and the week's shift findings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from alerts.digest_model import (
    FRAMES,
    QUOTE_LIMIT,
    TOP_FEED_PROBLEMS,
    TOP_OUTLETS,
    TOP_STORIES,
    DayVolume,
    Digest,
    Figures,
    FrameShare,
    OutletActivity,
    Period,
    StoryItem,
    StorySection,
    clean_line,
    safe_url,
    zone,
)
from pipeline.records import StoredArticle
from pipeline.store import Store
from pipeline.store.digest_queries import (
    FeedProblem,
    corrections_between,
    count_enabled_feeds,
    feed_problems,
    model_version_in_use,
    outlets_covering_before,
    relevant_articles,
)
from pipeline.store.shift_queries import findings_between


def build_digest(
    store: Store,
    period: Period,
    tz: ZoneInfo | str,
    *,
    top_n: int = TOP_STORIES,
    archive_url: str | None = None,
    now: datetime | None = None,
    include: Callable[[StoredArticle], bool] | None = None,
) -> Digest:
    """Read the store and compute everything the digest says about `period`.

    `include` narrows the digest to the articles a recipient's routes select (figures,
    chart and stories alike), for recipients who follow only part of the beat."""
    tz = zone(tz) if isinstance(tz, str) else tz
    now = now or datetime.now(UTC)
    start, end = period.bounds(tz)
    prev_start, prev_end = period.previous().bounds(tz)

    current = _relevant(relevant_articles(store, start, end), include)
    previous = _relevant(relevant_articles(store, prev_start, prev_end), include)
    stories = _group_stories(current)
    previous_stories = _group_stories(previous)

    frames = tuple(
        FrameShare(
            frame,
            sum(1 for s in stories.values() if _story_has(s, frame)),
            len(stories),
            sum(1 for s in previous_stories.values() if _story_has(s, frame)),
            len(previous_stories),
        )
        for frame in FRAMES
    )
    daily, undated, earlier = _daily(stories, period, tz)

    sections: list[StorySection] = []
    for key in (*FRAMES, "other"):
        members = [
            s
            for s in stories.values()
            if (_story_has(s, key) if key in FRAMES else not any(_story_has(s, f) for f in FRAMES))
        ]
        ranked = sorted(members, key=_story_rank)
        if members:
            items = tuple(_story_item(s, key, tz) for s in ranked[:top_n])
            sections.append(StorySection(key, items, len(members)))

    outlet_articles = Counter(a.outlet or a.feed_name for a in current)
    outlet_stories: dict[str, set[int]] = defaultdict(set)
    for key, members in stories.items():
        for a in members:
            outlet_stories[a.outlet or a.feed_name].add(key)
    active = sorted(
        outlet_articles, key=lambda o: (-outlet_articles[o], -len(outlet_stories[o]), o.casefold())
    )
    seen_before = outlets_covering_before(store, outlet_articles, start)
    new = sorted((o for o in outlet_articles if o not in seen_before), key=lambda o: (-outlet_articles[o], o))

    problems = feed_problems(store, since=start, now=now)
    corrections, corrected = corrections_between(store, start, end)
    return Digest(
        period=period,
        tz=tz.key,
        start=start,
        end=end,
        figures=_figures(current, stories),
        previous_figures=_figures(previous, previous_stories),
        frames=frames,
        daily=daily,
        sections=tuple(sections),
        new_outlets=tuple(clean_line(o, 80) for o in new[: TOP_OUTLETS * 2]),
        new_outlets_total=len(new),
        active_outlets=tuple(
            OutletActivity(clean_line(o, 80), outlet_articles[o], len(outlet_stories[o]))
            for o in active[:TOP_OUTLETS]
        ),
        feed_problems=tuple(
            FeedProblem(clean_line(p.name, 80), p.kind, p.since, p.failures, clean_line(p.error, 120) or None)
            for p in problems[:TOP_FEED_PROBLEMS]
        ),
        feed_problems_total=len(problems),
        feeds_total=count_enabled_feeds(store),
        corrections=corrections,
        corrected_articles=corrected,
        model_version=clean_line(model_version_in_use(store), 60) or None,
        archive_url=safe_url(archive_url),
        generated_at=now,
        feeds_failing=sum(1 for p in problems if p.kind == "failing"),
        undated_stories=undated,
        earlier_stories=earlier,
        shift_findings=tuple(findings_between(store, start, end)),
    )


def _relevant(
    articles: Iterable[StoredArticle], include: Callable[[StoredArticle], bool] | None = None
) -> list[StoredArticle]:
    return [a for a in articles if a.label("relevant") and (include is None or include(a))]


def _group_stories(articles: Sequence[StoredArticle]) -> dict[int, list[StoredArticle]]:
    """Relevant articles by story; an article without a story is a story of its own."""
    stories: dict[int, list[StoredArticle]] = defaultdict(list)
    for a in articles:
        stories[a.story_id if a.story_id is not None else -a.id].append(a)
    return dict(stories)


def _story_has(members: Sequence[StoredArticle], frame: str) -> bool:
    return any(a.label(frame) for a in members)


def _figures(articles: Sequence[StoredArticle], stories: dict[int, list[StoredArticle]]) -> Figures:
    return Figures(len(articles), len(stories), len({a.outlet or a.feed_name for a in articles}))


def _story_rank(members: Sequence[StoredArticle]) -> tuple[int, float, float, int]:
    """Most outlets first, then the model's relevance, then the newest."""
    outlets = len({a.outlet or a.feed_name for a in members})
    newest = max(a.fetched_at for a in members).timestamp()
    return (-outlets, -max(a.relevance for a in members), -newest, min(a.id for a in members))


def story_date(article: StoredArticle) -> datetime:
    """When an article appeared: its publication date, or the time compactwatch found it
    when the page gave none or gave one in the future (a clock or a feed that lies)."""
    published = article.published_at
    if published is None or published > article.fetched_at:
        return article.fetched_at
    return published


def _daily(
    stories: dict[int, list[StoredArticle]], period: Period, tz: ZoneInfo
) -> tuple[tuple[DayVolume, ...], int, int]:
    """Stories per local day of first publication (found date as fallback). A digest covers
    what was found in its period, so a story published earlier and found late is counted
    apart rather than drawn on a day it did not appear. Returns the days, how many stories
    needed the found-date fallback, and how many were published before the period."""
    counts: dict[date, Counter[str]] = {day: Counter() for day in period.days}
    undated = earlier = 0
    for members in stories.values():
        first = min(members, key=story_date)
        day = story_date(first).astimezone(tz).date()
        if day < period.first_day:
            earlier += 1
            continue
        if day not in counts:
            continue
        if first.published_at is None or first.published_at > first.fetched_at:
            undated += 1
        counts[day]["stories"] += 1
        for frame in FRAMES:
            if _story_has(members, frame):
                counts[day][frame] += 1
    volumes = tuple(
        DayVolume(day, c["stories"], c["pro_city_inclusion"], c["sovereignty_framing"])
        for day, c in counts.items()
    )
    return volumes, undated, earlier


def _story_item(members: Sequence[StoredArticle], key: str, tz: ZoneInfo) -> StoryItem:
    """The article that best represents the story in this section, and one evidence quote."""
    if key in FRAMES:
        carriers = [a for a in members if a.label(key)] or list(members)
        best = max(
            carriers,
            key=lambda a: (bool(a.evidence.get(key)), getattr(a, f"{key}_score"), a.relevance, -a.id),
        )
        quotes = [q for a in [best, *carriers] for q in a.evidence.get(key, []) if clean_line(q)]
        quote = clean_line(quotes[0], QUOTE_LIMIT) if quotes else None
    else:
        best = max(members, key=lambda a: (a.relevance, -a.id))
        quote = None
    when = best.published_at or best.fetched_at
    outlets = {a.outlet or a.feed_name for a in members}
    return StoryItem(
        title=clean_line(best.title) or "(untitled)",
        url=None if best.link_refused else (safe_url(best.url) or safe_url(best.canonical_url)),
        outlet=clean_line(best.outlet or best.feed_name, 80),
        outlets=len(outlets),
        articles=len(members),
        day=when.astimezone(tz).date(),
        relevance=max(a.relevance for a in members),
        frames=tuple(f for f in FRAMES if _story_has(members, f)),
        quote=quote,
    )
