"""What a weekly digest says, as plain data: the period it covers, its figures, frames,
days, stories and feed problems (`Digest`), plus the constants and text-taming helpers
every part of the digest shares. No store access and no markup here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipeline.errors import ConfigError
from pipeline.shifts import StoredFinding
from pipeline.store.digest_queries import (
    FeedProblem,
)

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


def unsubscribe_link(unsubscribe: str | None) -> str | None:
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
