"""The weekly digest: what the press said about the compacts, in one email a director reads in two minutes.

Three layers, each testable on its own:

* `build_digest` turns the store into a `Digest`: plain numbers and short cleaned strings,
  no HTML. Every rendering reads the same object, so the plain-text part, the HTML part,
  the chart and the subject cannot disagree.
* `render_text`, `render_html` and `render_chart` present it (templates in
  alerts/templates/digest_email.*). The HTML is a table layout with inline CSS, ≤ 640 px
  wide and without scripts, because that is what Outlook, Gmail and Apple Mail all render;
  Jinja autoescaping covers every string that came from a feed. The chart's numbers are
  repeated as a small table, so a reader with images blocked loses nothing.
* `build_message` assembles the `EmailMessage`: multipart/alternative (text, then HTML with
  the chart inline by Content-ID). Headers carry only numbers and settings, never feed
  text, so a headline with CR/LF in it cannot add a header.

The unit of coverage is the *story* (a cluster of syndicated copies and near-duplicates):
twenty outlets running one wire piece are one story carried by twenty outlets, which is why
top stories are ranked by outlets first. Analysts' corrections win over the model
everywhere (`StoredArticle.label`).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pipeline.errors import ConfigError
from pipeline.records import StoredArticle
from pipeline.shifts import StoredFinding
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

FRAMES = ("pro_city_inclusion", "sovereignty_framing")
FRAME_NAMES = {"pro_city_inclusion": "pro-city inclusion", "sovereignty_framing": "sovereignty framing"}
SECTION_TITLES = {
    "pro_city_inclusion": "Cities at the table",
    "sovereignty_framing": "Sovereignty framing",
    "other": "Other coverage",
}
SECTION_BLURBS = {
    "pro_city_inclusion": "Stories carrying the frame that cities and mayors belong in the compacts.",
    "sovereignty_framing": "Stories where national sovereignty is a prominent lens.",
    "other": "Relevant stories carrying neither frame: news, explainers, procedure.",
}
PROBLEM_LABELS = {"failing": "failing", "silent": "silent", "never_polled": "not polled"}
COLORS = {"stories": "#c3cad5", "pro_city_inclusion": "#1f6fb2", "sovereignty_framing": "#d9822b"}

TOP_STORIES = 5  # per frame section: enough to see the week, short enough for two minutes
TOP_OUTLETS = 8
TOP_FEED_PROBLEMS = 10
TITLE_LIMIT = 180
QUOTE_LIMIT = 240
EMAIL_WIDTH = 640
CHART_WIDTH = 592  # EMAIL_WIDTH minus the card's 24 px side padding

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_SAFE_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)


# =========================================================================== period
def zone(name: str) -> ZoneInfo:
    """The configured time zone; a typo is a one-line ConfigError, not a traceback."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"setting COMPACTWATCH_TIMEZONE: unknown time zone {name!r}") from None


@dataclass(frozen=True)
class Period:
    """Whole local calendar days, first_day to last_day inclusive.

    Days rather than instants so that a digest sent at 08:00 or, after a restart, at 09:30
    covers the same period and so has the same idempotency key.
    """

    first_day: date
    last_day: date

    @classmethod
    def last_days(cls, tz: ZoneInfo, now: datetime | None = None, days: int = 7) -> Period:
        """The `days` full local days before today (the default digest period)."""
        today = (now or datetime.now(UTC)).astimezone(tz).date()
        return cls(today - timedelta(days=days), today - timedelta(days=1))

    @classmethod
    def iso_week(cls, spec: str) -> Period:
        """An ISO week such as 2026-W47 (Monday to Sunday)."""
        match = re.fullmatch(r"\s*(\d{4})-?[Ww](\d{1,2})\s*", spec)
        if not match:
            raise ValueError(f"week {spec!r} is not an ISO week like 2026-W47")
        try:
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            raise ValueError(f"week {spec!r} does not exist") from None
        return cls(monday, monday + timedelta(days=6))

    @property
    def days(self) -> list[date]:
        count = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(count)]

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        length = timedelta(days=len(self.days))
        return Period(self.first_day - length, self.last_day - length)

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as aware UTC instants: local midnight to local midnight (DST-safe)."""
        start = datetime.combine(self.first_day, time(0), tzinfo=tz)
        end = datetime.combine(self.last_day + timedelta(days=1), time(0), tzinfo=tz)
        return start.astimezone(UTC), end.astimezone(UTC)

    def label(self) -> str:
        """16–22 November 2026 / 28 November – 4 December 2026 / 28 December 2026 – 3 January 2027."""
        a, b = self.first_day, self.last_day
        if a == b:
            return f"{a.day} {MONTHS[a.month - 1]} {a.year}"
        if (a.year, a.month) == (b.year, b.month):
            return f"{a.day}–{b.day} {MONTHS[b.month - 1]} {b.year}"
        if a.year == b.year:
            return f"{a.day} {MONTHS[a.month - 1]} – {b.day} {MONTHS[b.month - 1]} {b.year}"
        return f"{a.day} {MONTHS[a.month - 1]} {a.year} – {b.day} {MONTHS[b.month - 1]} {b.year}"


# =========================================================================== content
@dataclass(frozen=True)
class Figures:
    """Headline counts for one period (relevant coverage only)."""

    articles: int = 0
    stories: int = 0
    outlets: int = 0


@dataclass(frozen=True)
class FrameShare:
    """How many relevant stories carried one frame, this period and the previous one."""

    frame: str
    stories: int
    total: int
    previous_stories: int
    previous_total: int

    @property
    def name(self) -> str:
        return FRAME_NAMES[self.frame]

    @property
    def percent(self) -> int | None:
        return _percent(self.stories, self.total)

    @property
    def previous_percent(self) -> int | None:
        return _percent(self.previous_stories, self.previous_total)

    @property
    def change_points(self) -> int | None:
        """Difference of the two rounded percentages, so the numbers shown add up."""
        if self.percent is None or self.previous_percent is None:
            return None
        return self.percent - self.previous_percent


def _percent(part: int, whole: int) -> int | None:
    """Rounded half up (1 of 8 is 13%, not Python's banker's 12%), None for 0 of 0."""
    return int(100 * part / whole + 0.5) if whole else None


@dataclass(frozen=True)
class DayVolume:
    """Stories first seen on one local day, and how many carried each frame."""

    day: date
    stories: int
    pro_city_inclusion: int
    sovereignty_framing: int


@dataclass(frozen=True)
class StoryItem:
    """One story as the digest shows it: its best article, how widely it ran, one quote."""

    title: str
    url: str | None  # http(s) only, else no link
    outlet: str
    outlets: int
    articles: int
    day: date
    relevance: float
    frames: tuple[str, ...]
    quote: str | None


@dataclass(frozen=True)
class StorySection:
    key: str  # a frame name or "other"
    stories: tuple[StoryItem, ...]
    total: int

    @property
    def title(self) -> str:
        return SECTION_TITLES[self.key]

    @property
    def blurb(self) -> str:
        return SECTION_BLURBS[self.key]

    @property
    def more(self) -> int:
        return self.total - len(self.stories)


@dataclass(frozen=True)
class OutletActivity:
    name: str
    articles: int
    stories: int


@dataclass(frozen=True)
class Digest:
    """Everything one digest says, as plain data (no markup, strings already cleaned)."""

    period: Period
    tz: str
    start: datetime
    end: datetime
    figures: Figures
    previous_figures: Figures
    frames: tuple[FrameShare, ...]
    daily: tuple[DayVolume, ...]
    sections: tuple[StorySection, ...]
    new_outlets: tuple[str, ...]
    new_outlets_total: int
    active_outlets: tuple[OutletActivity, ...]
    feed_problems: tuple[FeedProblem, ...]
    feed_problems_total: int
    feeds_total: int
    corrections: int
    corrected_articles: int
    model_version: str | None
    archive_url: str | None = None
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    feeds_failing: int = 0  # enabled feeds unreachable during the period
    undated_stories: int = 0  # stories placed on the day found: no usable publication date
    earlier_stories: int = 0  # found this period but published before it: not in the chart
    shift_findings: tuple[StoredFinding, ...] = ()  # shift alerts that fired in the period (issue 14)

    @property
    def feeds_reachable(self) -> int:
        return max(self.feeds_total - self.feeds_failing, 0)

    @property
    def coverage_incomplete(self) -> bool:
        """Most feeds could not be reached: an empty or thin week says nothing about the
        press, only about the machine, and the reader must be told so first."""
        return self.feeds_total > 0 and self.feeds_failing * 2 > self.feeds_total

    @property
    def is_empty(self) -> bool:
        return self.figures.articles == 0

    @property
    def truncated(self) -> bool:
        """Some section shows only its top N: the reader should be pointed to the archive."""
        return (
            any(s.more for s in self.sections)
            or self.new_outlets_total > len(self.new_outlets)
            or self.feed_problems_total > len(self.feed_problems)
        )


def clean_line(text: str | None, limit: int = TITLE_LIMIT) -> str:
    """One display line from untrusted text: no control or bidi characters, no line breaks,
    bounded length. Escaping is each renderer's job; this only makes the text tame."""
    text = " ".join(_CONTROL.sub(" ", text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:-") + "…"


def safe_url(url: str | None) -> str | None:
    """The URL if it is plain http(s) (no javascript:, data:, spaces or quotes), else None."""
    url = (url or "").strip()
    return url if _SAFE_URL.match(url) else None


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


# =========================================================================== wording
def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else ("±0" if n == 0 else f"−{-n}")


def _day(d: date) -> str:
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1][:3]}"


def _short_date(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1][:3]}"


def _strongest_move(digest: Digest) -> FrameShare | None:
    moves = [f for f in digest.frames if f.change_points is not None]
    return max(moves, key=lambda f: abs(f.change_points or 0)) if moves else None


def digest_subject(digest: Digest) -> str:
    """Numbers and fixed words only: nothing from a feed ever reaches a header."""
    if digest.coverage_incomplete:
        reach = f"only {digest.feeds_reachable} of {digest.feeds_total} feeds reachable"
        if digest.is_empty:
            return f"compactwatch weekly: {reach}, no coverage found"
        return f"compactwatch weekly: {_plural(digest.figures.stories, 'story', 'stories')} ({reach})"
    if digest.is_empty:
        return "compactwatch weekly: no coverage of the compacts this week"
    head = f"compactwatch weekly: {_plural(digest.figures.stories, 'story', 'stories')}"
    move = _strongest_move(digest)
    if move is None:
        top = max(digest.frames, key=lambda f: f.stories)
        return f"{head}, {top.percent}% with {top.name}" if top.stories else head
    points = move.change_points or 0
    if points == 0:
        return f"{head}, framing steady"
    return f"{head}, {move.name} {'up' if points > 0 else 'down'} {_plural(abs(points), 'point')}"


def summary_line(digest: Digest) -> str:
    """The one sentence under the title, also the inbox preview text."""
    p = digest.period
    if digest.coverage_incomplete:
        warning = (
            f"Only {digest.feeds_reachable} of {digest.feeds_total} feeds were reachable this week: "
            "coverage below is incomplete."
        )
        if digest.is_empty:
            return f"{warning} No coverage of the migration compacts was found in the feeds that answered."
        return f"{warning} {_coverage_sentence(digest)}"
    if digest.is_empty:
        return (
            f"A quiet week: compactwatch found no coverage of the migration compacts "
            f"between {_short_date(p.first_day)} and {_short_date(p.last_day)}."
        )
    return _coverage_sentence(digest)


def _coverage_sentence(digest: Digest) -> str:
    f = digest.figures
    head = (
        f"{_plural(f.stories, 'story', 'stories')} on the migration compacts in "
        f"{_plural(f.outlets, 'outlet')} this week."
    )
    frames = sorted(digest.frames, key=lambda fs: -abs(fs.change_points or 0))
    moves = []
    for fs in frames:
        if fs.change_points is None:
            moves.append(f"{fs.name} in {fs.percent}%")
        elif fs.change_points == 0:
            moves.append(f"{fs.name} steady at {fs.percent}%")
        else:
            way = "up" if fs.change_points > 0 else "down"
            moves.append(f"{fs.name} {way} {_plural(abs(fs.change_points), 'point')} to {fs.percent}%")
    sentence = "; ".join(moves)
    return f"{head} {sentence[0].upper()}{sentence[1:]} of stories."


def _chart_note(digest: Digest) -> str:
    """The footnote under the chart: which date places a story on a day."""
    parts = ["Stories are counted on the day they were published"]
    if digest.undated_stories:
        parts.append(
            f"{_plural(digest.undated_stories, 'story', 'stories')} without a publication date "
            "on the day compactwatch found them"
        )
    if digest.earlier_stories:
        parts.append(
            f"{_plural(digest.earlier_stories, 'story', 'stories')} published before "
            f"{_short_date(digest.period.first_day)} and found this week "
            f"{'is' if digest.earlier_stories == 1 else 'are'} not in the chart"
        )
    return "; ".join(parts) + "."


def _change_text(now: int, before: int) -> str:
    if now == before:
        return f"same as the period before ({before})"
    return f"{'up' if now > before else 'down'} {abs(now - before)} from {before}"


PLAIN_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"dns|name or service|getaddrinfo|resolve|nodename", "its web address could not be found"),
        (r"time(d)? ?out|deadline", "the site did not answer in time"),
        (r"refused|unreachable|no route|reset|network", "the site could not be reached"),
        (r"private|not public|not allowed|blocked", "the address is not allowed"),
        (r"\b(401|403)\b|forbidden|unauthori", "the site refused access"),
        (r"\b404\b|not found|\b410\b|gone", "the feed is no longer at that address"),
        (r"\b429\b|rate", "the site asked us to slow down"),
        (r"\b5\d\d\b|server error", "the site had a server error"),
        (r"not a feed|no feed|parse|xml|malformed", "the address no longer serves a news feed"),
        (r"too large|size|bytes", "the feed was too large"),
        (r"ssl|tls|certificate", "the site's security certificate was not accepted"),
    )
)


def plain_reason(error: str | None) -> str:
    """The technical error of a feed, as a director would want it said: the cause in plain
    words; the exact error stays on the archive's Feeds page for whoever fixes it."""
    for pattern, reason in PLAIN_REASONS:
        if error and pattern.search(error):
            return reason
    return "it could not be read"


def _problem_text(p: FeedProblem, tz: ZoneInfo) -> str:
    if p.kind == "failing":
        since = f"since {_short_date(p.since.astimezone(tz).date())}" if p.since else "never reached"
        return f"unreachable {since}: {plain_reason(p.error)}"
    if p.kind == "silent":
        last = f"last new item {_short_date(p.since.astimezone(tz).date())}" if p.since else "no items yet"
        return f"answers, but brought nothing new this week ({last})"
    return "configured but not polled yet"


def _context(digest: Digest, *, chart_src: str | None, unsubscribe: str | None) -> dict[str, object]:
    """What both templates see; all wording decisions live here, not in markup."""
    tz = zone(digest.tz)
    fig, prev = digest.figures, digest.previous_figures
    rows = [
        ("Relevant articles", fig.articles, prev.articles),
        ("Stories", fig.stories, prev.stories),
        ("Outlets", fig.outlets, prev.outlets),
    ]
    unsubscribe_link = _unsubscribe_targets(unsubscribe)
    return {
        "d": digest,
        "subject": digest_subject(digest),
        "summary": summary_line(digest),
        "period": digest.period.label(),
        "previous_period": digest.period.previous().label(),
        "figures": [
            {"label": label, "now": now, "before": before, "change": _change_text(now, before)}
            for label, now, before in rows
        ],
        "frames": [
            {
                "name": f.name.capitalize(),
                "color": COLORS[f.frame],
                "percent": f.percent or 0,
                "previous_percent": f.previous_percent,
                "stories": f.stories,
                "total": f.total,
                "change": (
                    "no earlier stories to compare"
                    if f.change_points is None
                    else ("unchanged" if f.change_points == 0 else f"{_signed(f.change_points)} points")
                ),
                "arrow": "" if not f.change_points else ("▲" if f.change_points > 0 else "▼"),
            }
            for f in digest.frames
        ],
        "shift_findings": [
            {
                "when": _day(f.started_at.astimezone(tz).date()),
                "headline": clean_line(f.finding.headline, 200),
                "ended": _day(f.ended_at.astimezone(tz).date()) if f.ended_at else None,
            }
            for f in digest.shift_findings
        ],
        "daily": [
            {
                "day": _day(v.day),
                "weekday": WEEKDAYS[v.day.weekday()],
                "date": v.day.day,
                "stories": v.stories,
                "city": v.pro_city_inclusion,
                "sovereignty": v.sovereignty_framing,
            }
            for v in digest.daily
        ],
        "sections": [
            {
                "title": s.title,
                "blurb": s.blurb,
                "color": COLORS.get(s.key, "#6b7280"),
                "more": s.more,
                "total": s.total,
                "stories": [
                    {
                        "title": item.title,
                        "url": item.url,
                        "outlet": item.outlet,
                        "also": (
                            f"and {_plural(item.outlets - 1, 'other outlet')}" if item.outlets > 1 else ""
                        ),
                        "date": _short_date(item.day),
                        "quote": item.quote,
                        "frames": ", ".join(FRAME_NAMES[f] for f in item.frames if f != s.key),
                    }
                    for item in s.stories
                ],
            }
            for s in digest.sections
        ],
        "new_outlets": list(digest.new_outlets),
        "new_more": digest.new_outlets_total - len(digest.new_outlets),
        "active": digest.active_outlets,
        "problems": [
            {"name": p.name, "kind": PROBLEM_LABELS[p.kind], "text": _problem_text(p, tz)}
            for p in digest.feed_problems
        ],
        "problems_more": digest.feed_problems_total - len(digest.feed_problems),
        "healthy": digest.feeds_total - digest.feed_problems_total,
        "corrections": (
            f"Analysts corrected {_plural(digest.corrections, 'label')} on "
            f"{_plural(digest.corrected_articles, 'article')} this week."
            if digest.corrections
            else "No labels were corrected by analysts this week."
        ),
        "model": digest.model_version,
        "chart_src": chart_src,
        "chart_alt": "Stories per day by frame; the same numbers are in the table below.",
        "chart_note": _chart_note(digest),
        "incomplete": digest.coverage_incomplete,
        "feeds_reachable": digest.feeds_reachable,
        "archive_url": digest.archive_url,
        "unsubscribe_url": unsubscribe_link,
        "colors": COLORS,
        "width": EMAIL_WIDTH,
        "chart_width": CHART_WIDTH,
        "tz": digest.tz,
    }


def _unsubscribe_targets(unsubscribe: str | None) -> str | None:
    """The first usable unsubscribe target for the footer link (https or mailto)."""
    targets = unsubscribe_uris(unsubscribe)
    return next((t for t in targets if t.startswith("https:")), targets[0] if targets else None)


def unsubscribe_uris(unsubscribe: str | None) -> list[str]:
    """Validated List-Unsubscribe targets from the setting (comma-separated, https:/mailto:).

    The setting is operator input, yet it goes into a header: anything with whitespace,
    angle brackets or another scheme is refused with a ConfigError rather than sent.
    """
    uris = []
    for raw in (unsubscribe or "").split(","):
        uri = raw.strip().strip("<>")
        if not uri:
            continue
        if not re.fullmatch(r"(https://|mailto:)[^\s<>,\"]+", uri, flags=re.IGNORECASE):
            raise ConfigError(
                f"setting COMPACTWATCH_UNSUBSCRIBE: {uri[:60]!r} is not an https: or mailto: URL"
            )
        uris.append(uri)
    return uris


# =========================================================================== text
def render_text(digest: Digest, *, unsubscribe: str | None = None) -> str:
    """The plain-text part: the same content as the HTML, for text-only clients."""
    return _TEXT.render(**_context(digest, chart_src=None, unsubscribe=unsubscribe)).strip() + "\n"


# =========================================================================== html
def render_html(digest: Digest, *, chart_src: str | None = None, unsubscribe: str | None = None) -> str:
    """The HTML part. `chart_src` is "cid:..." in the email and a file name in a preview."""
    return _HTML.render(**_context(digest, chart_src=chart_src, unsubscribe=unsubscribe))


# =========================================================================== chart
def render_chart(digest: Digest) -> bytes:
    """Daily stories by frame as a PNG (matplotlib's Agg canvas, no pyplot global state,
    so it is safe inside the scheduler's worker threads)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    days = [_day(v.day).rsplit(" ", 1)[0] for v in digest.daily]
    series = [
        ("All stories", [v.stories for v in digest.daily], COLORS["stories"]),
        ("Pro-city inclusion", [v.pro_city_inclusion for v in digest.daily], COLORS["pro_city_inclusion"]),
        ("Sovereignty framing", [v.sovereignty_framing for v in digest.daily], COLORS["sovereignty_framing"]),
    ]
    figure = Figure(figsize=(CHART_WIDTH / 100, 2.3), dpi=200)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    width = 0.26
    for i, (label, values, color) in enumerate(series):
        positions = [x + (i - 1) * width for x in range(len(days))]
        ax.bar(positions, values, width=width, color=color, label=label, zorder=3)
    ax.set_xticks(range(len(days)), days, fontsize=9, color="#374151")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    ax.tick_params(axis="y", labelsize=8.5, colors="#6b7280", length=0)
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="y", color="#e5e7eb", linewidth=0.8, zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#9ca3af")
    ax.set_ylim(0, max(1, *(v for _, values, _ in series for v in values)) * 1.15)
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=3,
        frameon=False,
        fontsize=9,
        handlelength=1.0,
        borderaxespad=0.2,
    )
    figure.subplots_adjust(left=0.05, right=0.99, top=0.83, bottom=0.13)
    out = BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None}, facecolor="white")
    return out.getvalue()


# =========================================================================== message
def build_message(
    digest: Digest,
    *,
    sender: str,
    recipient: str,
    unsubscribe: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """The email for one recipient.

    Structure: multipart/alternative → text/plain, multipart/related → (text/html,
    image/png referenced as cid:). Subject, From, To and List-Unsubscribe come from numbers
    and settings only; EmailMessage's default policy would refuse CR/LF in any of them.
    """
    sender_addr = address(sender, what="COMPACTWATCH_DIGEST_FROM")
    recipient_addr = address(recipient, what="recipient")
    domain = sender_addr.domain or "compactwatch.localhost"
    message = EmailMessage()
    message["Subject"] = digest_subject(digest)
    message["From"] = sender_addr
    message["To"] = recipient_addr
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = make_msgid("digest", domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message["List-Id"] = f"compactwatch weekly digest <digest.{domain}>"
    uris = unsubscribe_uris(unsubscribe)
    if uris:
        message["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in uris)
        if any(u.lower().startswith("https:") for u in uris):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"  # RFC 8058
    message.set_content(render_text(digest, unsubscribe=unsubscribe))
    if digest.is_empty:
        message.add_alternative(render_html(digest, unsubscribe=unsubscribe), subtype="html")
        return message
    cid = make_msgid("chart", domain=domain)
    message.add_alternative(
        render_html(digest, chart_src=f"cid:{cid[1:-1]}", unsubscribe=unsubscribe), subtype="html"
    )
    html_part = message.get_payload()[1]  # type: ignore[index]
    html_part.add_related(
        render_chart(digest), maintype="image", subtype="png", cid=cid, filename="frames-by-day.png"
    )
    return message


def address(value: str, *, what: str) -> Address:
    """Parse one address strictly: one mailbox, no CR/LF, no list (header injection guard)."""
    if any(c in value for c in "\r\n\t,;") or not value.strip():
        raise ConfigError(f"{what}: {value[:80]!r} is not a single email address")
    name, addr = parseaddr(value.strip())
    if addr.count("@") != 1 or " " in addr or addr.startswith("@") or addr.endswith("@"):
        raise ConfigError(f"{what}: {value[:80]!r} is not a valid email address")
    user, host = addr.split("@")
    return Address(display_name=name, username=user, domain=host)


# =========================================================================== templates
# HTML is autoescaped (every feed string); the plain-text part must not be entity-encoded.
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_TEXT = _ENV.get_template("digest_email.txt")
_HTML = _ENV.get_template("digest_email.html")
