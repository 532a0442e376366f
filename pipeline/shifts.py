"""Shift detectors: has coverage of the compacts surged, or has its framing turned?

Pure functions over counts of *stories* (clusters of copies, so one wire story carried by
ten outlets counts once), returning frozen findings. The store supplies the points
(`pipeline/store/shift_queries.py`); the alerts layer runs the detectors after each cycle,
persists what fires and posts it once.

Three detectors, each built to stay quiet on an ordinary week:

* **Volume surge** - relevant stories in the last window (6 h) against the same clock
  window on each of the previous 28 days. The tail probability is the Poisson tail with
  the rate's own uncertainty folded in (a Gamma-Poisson, i.e. negative binomial,
  predictive) and, when the 28 baseline windows vary more than Poisson allows (news is
  bursty), the moment-matched negative binomial tail; the larger p-value wins.
* **Frame-share shift** - a frame's share of the last 7 days' stories against the 28 days
  before. Fires when the change is both large (points) and unlikely by chance: the
  beta-binomial predictive tail of the recent count given the baseline share (which accounts
  for the baseline being an estimate, unlike a plain binomial).
* **Frame spread** - a frame seen in an outlet or a language that carried none of it in the
  previous 28 days, although it covered the compacts often enough that such an absence would
  have been unlikely had it followed the overall share.

A condition that starts a finding must be met strictly; the finding then stays open while a
looser condition holds (hysteresis), so a share wobbling around the threshold does not post
again and again. `reconcile` turns one round of checks into findings to open and to end.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

FRAMES = ("pro_city_inclusion", "sovereignty_framing")
FRAME_NAMES = {
    "pro_city_inclusion": "Pro-city inclusion framing",
    "sovereignty_framing": "Sovereignty framing",
}
KINDS = ("volume", "frame_shift", "frame_spread")
#: Findings whose end is worth a note in the thread (a spread is an event, not a state).
ENDS_NOTIFIED = ("volume", "frame_shift")


@dataclass(frozen=True)
class ShiftThresholds:
    """Detector settings (alerts.yaml `shifts:`); README "Shift alerts" explains each default."""

    volume_window_hours: float = 6.0
    baseline_days: int = 28
    volume_p: float = 1e-5
    volume_end_p: float = 0.05
    volume_min_stories: int = 5
    volume_min_baseline: int = 10
    share_window_days: int = 7
    share_min_points: float = 15.0
    share_end_points: float = 7.5
    share_p: float = 2e-4
    share_min_stories: int = 10
    share_min_baseline: int = 20
    share_min_frame_stories: int = 5
    spread_window_hours: float = 24.0
    spread_min_prior: int = 8
    spread_p: float = 1e-3
    max_stories: int = 5

    @property
    def lookback(self) -> timedelta:
        """How far back the detectors read, from `now`."""
        return timedelta(days=self.baseline_days + max(self.share_window_days, 1) + 1)


@dataclass(frozen=True)
class ArticlePoint:
    """One relevant article as the detectors see it (labels are the effective ones)."""

    article_id: int
    story_id: int
    story_at: datetime  # when the story began: its earliest member's date
    title: str
    url: str
    outlet: str
    language: str
    frames: frozenset[str]


@dataclass(frozen=True)
class Story:
    story_id: int
    at: datetime
    title: str
    url: str
    frames: frozenset[str]
    outlets: tuple[str, ...]
    languages: tuple[str, ...]


@dataclass(frozen=True)
class StoryRef:
    """A driving story as shown in a message: headline, link and its outlets."""

    title: str
    url: str
    outlets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """Something changed. `key` names the condition: one open finding per key at a time."""

    kind: str  # volume | frame_shift | frame_spread
    key: str
    headline: str
    period_start: datetime
    period_end: datetime
    p_value: float
    stories: tuple[StoryRef, ...] = ()
    frame: str | None = None
    direction: str | None = None  # up | down (frame_shift)
    count: int = 0  # volume: stories in the window; shift: frame stories now; spread: sightings
    expected: float = 0.0  # volume: usual count for the window
    total: int = 0  # shift: relevant stories now
    before_count: int = 0  # shift: frame stories in the baseline
    before_total: int = 0  # shift: relevant stories in the baseline
    outlet: str | None = None  # spread by outlet
    language: str | None = None  # spread by language

    @property
    def share_now(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def share_before(self) -> float:
        return self.before_count / self.before_total if self.before_total else 0.0

    def to_dict(self) -> dict[str, object]:
        """JSON-safe form, stored with the finding and in its outbox rows."""
        data = asdict(self)
        data["period_start"] = self.period_start.isoformat()
        data["period_end"] = self.period_end.isoformat()
        data["stories"] = [{"title": s.title, "url": s.url, "outlets": list(s.outlets)} for s in self.stories]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Finding:
        values = dict(data)
        values["period_start"] = datetime.fromisoformat(str(values["period_start"]))
        values["period_end"] = datetime.fromisoformat(str(values["period_end"]))
        values["stories"] = tuple(
            StoryRef(str(s["title"]), str(s["url"]), tuple(s.get("outlets") or ()))  # type: ignore[union-attr,index]
            for s in values.get("stories") or ()  # type: ignore[union-attr]
        )
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in values.items() if k in known})  # type: ignore[arg-type]


@dataclass(frozen=True)
class Check:
    """One condition evaluated at one time: `finding` when it starts (strict), `holds`
    while it persists (loose)."""

    key: str
    kind: str
    holds: bool
    finding: Finding | None = None


@dataclass(frozen=True)
class Reconciled:
    open: tuple[Finding, ...] = ()
    end: tuple[str, ...] = ()  # keys of open findings whose condition is over


@dataclass(frozen=True)
class StoredFinding:
    """A finding as persisted: when it started and (once its condition is over) ended."""

    finding_id: int
    finding: Finding
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Brief:
    """Yesterday in one message (the optional daily brief)."""

    day_start: datetime
    day_end: datetime
    count: int
    frame_counts: dict[str, int] = field(default_factory=dict)
    top: tuple[StoryRef, ...] = ()


# ------------------------------------------------------------------------------ stories
def group_stories(points: Iterable[ArticlePoint]) -> list[Story]:
    """Relevant articles → stories, oldest first; a story carries every frame any relevant
    copy carries, and lists each outlet and language once."""
    by_story: dict[int, list[ArticlePoint]] = {}
    for point in points:
        by_story.setdefault(point.story_id, []).append(point)
    stories = []
    for story_id, members in by_story.items():
        members.sort(key=lambda p: p.article_id)
        first = members[0]
        stories.append(
            Story(
                story_id=story_id,
                at=min(p.story_at for p in members),
                title=first.title,
                url=first.url,
                frames=frozenset().union(*(p.frames for p in members)),
                outlets=tuple(dict.fromkeys(p.outlet for p in members)),
                languages=tuple(dict.fromkeys(p.language for p in members)),
            )
        )
    return sorted(stories, key=lambda s: (s.at, s.story_id))


class Timeline:
    """Stories sorted by time, for fast window counts (the 26-week replay asks thousands)."""

    def __init__(self, stories: Sequence[Story]) -> None:
        self.stories = sorted(stories, key=lambda s: (s.at, s.story_id))
        self.times = [s.at for s in self.stories]

    def between(self, start: datetime, end: datetime) -> Sequence[Story]:
        """Stories that began in [start, end)."""
        return self.stories[bisect.bisect_left(self.times, start) : bisect.bisect_left(self.times, end)]

    def count(self, start: datetime, end: datetime) -> int:
        return bisect.bisect_left(self.times, end) - bisect.bisect_left(self.times, start)


def _refs(stories: Iterable[Story], limit: int) -> tuple[StoryRef, ...]:
    """The stories most widely carried first, then the newest."""
    ranked = sorted(stories, key=lambda s: (-len(s.outlets), -s.at.timestamp()))
    return tuple(StoryRef(s.title, s.url, s.outlets) for s in ranked[:limit])


# ------------------------------------------------------------------------------ volume
def surge_p_value(count: int, baseline: Sequence[int]) -> float:
    """P(at least `count` stories) given the baseline windows' counts."""
    from scipy import stats  # lazy: scipy.stats costs ~1 s at import, CLI start-up pays it

    if count <= 0:
        return 1.0
    n, total = len(baseline), sum(baseline)
    if n == 0:
        return 1.0
    # Poisson tail with the rate's uncertainty integrated out (Jeffreys prior on the rate).
    p = float(stats.nbinom.sf(count - 1, total + 0.5, n / (n + 1.0)))
    mean = total / n
    if n > 1 and mean > 0:
        variance = sum((c - mean) ** 2 for c in baseline) / (n - 1)
        if variance > mean:  # overdispersed: bursty news; use the wider tail
            r = mean * mean / (variance - mean)
            p = max(p, float(stats.nbinom.sf(count - 1, r, r / (r + mean))))
    return min(1.0, p)


def check_volume(timeline: Timeline, now: datetime, t: ShiftThresholds) -> Check:
    """Relevant stories in the last window against the same window on each previous day."""
    window = timedelta(hours=t.volume_window_hours)
    start = now - window
    current = timeline.between(start, now)
    baseline = [
        timeline.count(start - timedelta(days=d), now - timedelta(days=d))
        for d in range(1, t.baseline_days + 1)
    ]
    count = len(current)
    if sum(baseline) < t.volume_min_baseline:
        return Check("volume", "volume", holds=False)
    p = surge_p_value(count, baseline)
    expected = sum(baseline) / len(baseline)
    holds = p < t.volume_end_p and count > expected
    if count < t.volume_min_stories or p >= t.volume_p:
        return Check("volume", "volume", holds=holds)
    hours = f"{t.volume_window_hours:g}"
    headline = (
        f"Coverage surge: {count} stories on the compacts in the last {hours} hours "
        f"(usually {_about(expected)})"
    )
    finding = Finding(
        kind="volume",
        key="volume",
        headline=headline,
        period_start=start,
        period_end=now,
        p_value=p,
        stories=_refs(current, t.max_stories),
        count=count,
        expected=round(expected, 2),
    )
    return Check("volume", "volume", holds=True, finding=finding)


def _about(expected: float) -> str:
    return f"about {expected:.0f}" if expected >= 1 else "fewer than 1"


# ------------------------------------------------------------------------------ frame shares
def share_p_values(k_now: int, n_now: int, k_before: int, n_before: int) -> tuple[float, float]:
    """(P(share at least this high), P(at least this low)) under the baseline share: the
    beta-binomial predictive with a Jeffreys prior on the baseline share."""
    from scipy import stats  # lazy: scipy.stats costs ~1 s at import, CLI start-up pays it

    a, b = k_before + 0.5, n_before - k_before + 0.5
    up = float(stats.betabinom.sf(k_now - 1, n_now, a, b)) if k_now > 0 else 1.0
    down = float(stats.betabinom.cdf(k_now, n_now, a, b))
    return up, down


def check_frame_shares(timeline: Timeline, now: datetime, t: ShiftThresholds) -> list[Check]:
    """For each frame and direction: is its share of this week's stories a shift?"""
    recent_start = now - timedelta(days=t.share_window_days)
    base_start = recent_start - timedelta(days=t.baseline_days)
    recent = timeline.between(recent_start, now)
    before = timeline.between(base_start, recent_start)
    n_now, n_before = len(recent), len(before)
    checks: list[Check] = []
    for frame in FRAMES:
        carrying = [s for s in recent if frame in s.frames]
        k_now = len(carrying)
        k_before = sum(1 for s in before if frame in s.frames)
        enough = n_now >= t.share_min_stories and n_before >= t.share_min_baseline
        if not enough:
            checks += [Check(f"frame_shift:{frame}:{d}", "frame_shift", holds=False) for d in ("up", "down")]
            continue
        share_now, share_before = k_now / n_now, k_before / n_before
        diff = (share_now - share_before) * 100
        p_up, p_down = share_p_values(k_now, n_now, k_before, n_before)
        for direction, p, moved, high_side in (
            ("up", p_up, diff, k_now),
            ("down", p_down, -diff, k_before),
        ):
            key = f"frame_shift:{frame}:{direction}"
            holds = moved >= t.share_end_points
            fires = moved >= t.share_min_points and p < t.share_p and high_side >= t.share_min_frame_stories
            finding = None
            if fires:
                finding = Finding(
                    kind="frame_shift",
                    key=key,
                    headline=(
                        f"{FRAME_NAMES[frame]} {direction} from {_pct(share_before)} to {_pct(share_now)} "
                        f"of stories this week (n={n_now})"
                    ),
                    period_start=recent_start,
                    period_end=now,
                    p_value=p,
                    stories=_refs(carrying, t.max_stories),
                    frame=frame,
                    direction=direction,
                    count=k_now,
                    total=n_now,
                    before_count=k_before,
                    before_total=n_before,
                )
            checks.append(Check(key, "frame_shift", holds=holds or fires, finding=finding))
    return checks


def _pct(share: float) -> str:
    return f"{share * 100:.0f}%"


# ------------------------------------------------------------------------------ spreads
def check_spreads(timeline: Timeline, now: datetime, t: ShiftThresholds) -> list[Check]:
    """A frame in an outlet or language that carried none of it in the previous 28 days."""
    from scipy import stats  # lazy: scipy.stats costs ~1 s at import, CLI start-up pays it

    recent_start = now - timedelta(hours=t.spread_window_hours)
    prior_start = recent_start - timedelta(days=t.baseline_days)
    recent = timeline.between(recent_start, now)
    prior = timeline.between(prior_start, recent_start)
    if not recent or not prior:
        return []
    checks: list[Check] = []
    for frame in FRAMES:
        share = sum(1 for s in prior if frame in s.frames) / len(prior)
        if share <= 0:
            continue  # a frame nobody used is a share shift, not a spread
        for dimension in ("outlet", "language"):
            carriers: dict[str, list[Story]] = {}
            for story in recent:
                if frame in story.frames:
                    for value in _values(story, dimension):
                        carriers.setdefault(value, []).append(story)
            for value, stories in carriers.items():
                seen = [s for s in prior if value in _values(s, dimension)]
                if any(frame in s.frames for s in seen) or len(seen) < t.spread_min_prior:
                    continue
                absence = float(stats.binom.pmf(0, len(seen), share))
                if absence >= t.spread_p:
                    continue
                key = f"frame_spread:{frame}:{dimension}:{value.casefold()}"
                where = value if dimension == "outlet" else f"{value} coverage"
                finding = Finding(
                    kind="frame_spread",
                    key=key,
                    headline=(
                        f"{FRAME_NAMES[frame]} appears in {where} for the first time in "
                        f"{t.baseline_days} days ({len(seen)} stories without it)"
                    ),
                    period_start=recent_start,
                    period_end=now,
                    p_value=absence,
                    stories=_refs(stories, t.max_stories),
                    frame=frame,
                    count=len(stories),
                    before_total=len(seen),
                    outlet=value if dimension == "outlet" else None,
                    language=value if dimension == "language" else None,
                )
                checks.append(Check(key, "frame_spread", holds=True, finding=finding))
    return checks


def _values(story: Story, dimension: str) -> tuple[str, ...]:
    return story.outlets if dimension == "outlet" else story.languages


# ------------------------------------------------------------------------------ all together
def detect_shifts(timeline: Timeline, now: datetime, thresholds: ShiftThresholds) -> list[Check]:
    """Every detector at time `now` (UTC)."""
    now = now.astimezone(UTC)
    return [
        check_volume(timeline, now, thresholds),
        *check_frame_shares(timeline, now, thresholds),
        *check_spreads(timeline, now, thresholds),
    ]


def reconcile(open_keys: Iterable[str], checks: Sequence[Check]) -> Reconciled:
    """Findings to open (condition started, none open for its key) and open findings to end
    (their condition no longer holds; a spread ends when it leaves its window)."""
    active = set(open_keys)
    holding = {c.key for c in checks if c.holds}
    to_open = tuple(c.finding for c in checks if c.finding is not None and c.key not in active)
    to_end = tuple(sorted(key for key in active if key not in holding))
    return Reconciled(open=to_open, end=to_end)


def brief_of(timeline: Timeline, start: datetime, end: datetime, top: int = 3) -> Brief | None:
    """Stories that began in [start, end): count, frame counts, the most carried three;
    None on a day with nothing."""
    stories = timeline.between(start, end)
    if not stories:
        return None
    counts = {frame: sum(1 for s in stories if frame in s.frames) for frame in FRAMES}
    return Brief(start, end, len(stories), counts, _refs(stories, top))
