"""Alert routing: which Slack channels an article goes to, and why.

Routes live in a YAML file beside feeds.yaml (COMPACTWATCH_ROUTES, default alerts.yaml):

    alerts:
      ops_channel: "#compactwatch-ops"     # broken/silent feed warnings
      burst: {max_messages: 5, window_seconds: 120}
      feed_failing_hours: 6                # warn when a feed has failed this long
      feed_silent_factor: 12               # ... or brought nothing for 12 × its interval
      routes:
        - name: cities
          channel: "#cities-team"
          frames_any: [pro_city_inclusion]  # at least one of these frames
          frames_all: []                    # every one of these frames
          min_relevance: 0.6
          feed_tags: [press]                # the article's feed has one of these tags
          feeds: []                         # ... or is one of these feeds (by name)
          languages: [en, fr]
          keywords: [mayor, municipal]      # in title or text, case-insensitive
          quiet_hours: {start: "22:00", end: "07:00", timezone: Europe/Brussels}
          digest_only: false                # true: never posted, only in the digest
          show_scores: false                # true: scores and model version in alerts (analysts)
          shift_alerts: true                # shift findings too (see alerts/shift_config.py)
          daily_brief: false                # yesterday in one message, at shifts.brief_time

Every filter that is given must pass; lists inside one filter are any-of (except
frames_all). A relevant article may match several routes; it is posted once per channel.
Without a routes file there is one route: every relevant article to SLACK_CHANNEL.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from alerts.shift_config import ShiftConfig, ShiftRouteOptions, load_shifts_section, route_shift_options
from alerts.slack import AlertStyle
from pipeline.errors import ConfigError
from pipeline.records import AlertTarget, Classification, FeedConfig, StoredArticle

FRAMES = ("pro_city_inclusion", "sovereignty_framing")
ROUTE_KEYS = {
    "name",
    "channel",
    "frames_any",
    "frames_all",
    "min_relevance",
    "feed_tags",
    "feeds",
    "languages",
    "keywords",
    "quiet_hours",
    "digest_only",
    "show_scores",
    "shift_alerts",
    "daily_brief",
}
TOP_KEYS = {"ops_channel", "burst", "routes", "feed_failing_hours", "feed_silent_factor", "shifts"}


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    timezone: str

    def release_time(self, now: datetime) -> datetime | None:
        """When a message due `now` may go out, or None if now is outside quiet hours."""
        zone = ZoneInfo(self.timezone)
        local = now.astimezone(zone)
        start = local.replace(hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0)
        end = local.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        if self.start <= self.end:  # e.g. 12:00-14:00
            inside = start <= local < end
            release = end
        else:  # crosses midnight, e.g. 22:00-07:00
            if local >= start:
                inside, release = True, end + timedelta(days=1)
            elif local < end:
                inside, release = True, end
            else:
                inside, release = False, end
        return release.astimezone(UTC) if inside else None


@dataclass(frozen=True)
class Route:
    name: str
    channel: str
    frames_any: tuple[str, ...] = ()
    frames_all: tuple[str, ...] = ()
    min_relevance: float = 0.0
    feed_tags: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    quiet_hours: QuietHours | None = None
    digest_only: bool = False
    show_scores: bool = False
    shifts: ShiftRouteOptions = field(default_factory=ShiftRouteOptions)  # shift_alerts (issue 14)
    daily_brief: bool = False


@dataclass(frozen=True)
class BurstPolicy:
    max_messages: int = 5
    window_seconds: int = 120


@dataclass(frozen=True)
class AlertsConfig:
    routes: tuple[Route, ...]
    ops_channel: str | None = None
    burst: BurstPolicy = field(default_factory=BurstPolicy)
    feed_failing_hours: float = 6.0
    feed_silent_factor: float = 12.0
    shifts: ShiftConfig = field(default_factory=ShiftConfig)


@dataclass(frozen=True)
class RoutingInput:
    """What routing may look at: the feed and the article's labels and words."""

    feed_name: str
    feed_tags: tuple[str, ...]
    language: str | None
    title: str
    text: str
    relevant: bool
    relevance: float
    frames: dict[str, bool]

    @classmethod
    def from_article(cls, article: StoredArticle, feed_tags: tuple[str, ...]) -> RoutingInput:
        """A stored article as routing sees it: analysts' corrections win over the model."""
        return cls(
            feed_name=article.feed_name,
            feed_tags=feed_tags,
            language=article.language,
            title=article.title,
            text=article.text,
            relevant=article.label("relevant"),
            relevance=article.relevance,
            frames={frame: article.label(frame) for frame in FRAMES},
        )


@dataclass(frozen=True)
class RouteDecision:
    route: Route
    matched: bool
    reasons: tuple[str, ...]  # one line per filter: "✓ frames_any: pro_city_inclusion"
    not_before: datetime | None = None  # quiet hours: hold until then


def default_config(channel: str, ops_channel: str | None = None) -> AlertsConfig:
    return AlertsConfig(routes=(Route(name="default", channel=channel),), ops_channel=ops_channel)


def route_article(
    config: AlertsConfig, item: RoutingInput, now: datetime | None = None
) -> list[RouteDecision]:
    """Evaluate every route for one article (matched or not, with the reasons)."""
    now = now or datetime.now(UTC)
    return [_decide(route, item, now) for route in config.routes]


def _decide(route: Route, item: RoutingInput, now: datetime) -> RouteDecision:
    checks: list[tuple[bool, str]] = [(item.relevant, f"relevant ({item.relevance:.2f})")]
    if route.min_relevance:
        checks.append((item.relevance >= route.min_relevance, f"min_relevance {route.min_relevance:.2f}"))
    present = {name for name, on in item.frames.items() if on}
    if route.frames_any:
        checks.append((bool(present & set(route.frames_any)), f"frames_any: {', '.join(route.frames_any)}"))
    if route.frames_all:
        checks.append((set(route.frames_all) <= present, f"frames_all: {', '.join(route.frames_all)}"))
    if route.feed_tags or route.feeds:
        ok = bool(set(route.feed_tags) & set(item.feed_tags)) or item.feed_name in route.feeds
        checks.append((ok, f"feed {item.feed_name!r} (tags {', '.join(item.feed_tags) or '-'})"))
    if route.languages:
        checks.append((item.language in route.languages, f"language {item.language or '?'}"))
    if route.keywords:
        haystack = f"{item.title}\n{item.text}".casefold()
        hits = [k for k in route.keywords if re.search(rf"\b{re.escape(k.casefold())}", haystack)]
        checks.append((bool(hits), f"keywords: {', '.join(hits) or 'none of ' + ', '.join(route.keywords)}"))
    matched = all(ok for ok, _ in checks)
    reasons = tuple(("✓ " if ok else "✗ ") + text for ok, text in checks)
    not_before = None
    if matched and route.quiet_hours:
        not_before = route.quiet_hours.release_time(now)
        if not_before:
            reasons += (f"quiet hours: held until {not_before:%Y-%m-%d %H:%M} UTC",)
    if matched and route.digest_only:
        reasons += ("digest only: not posted to Slack",)
    return RouteDecision(route, matched, reasons, not_before)


def alert_targets(
    config: AlertsConfig,
) -> Callable[[FeedConfig, str, str, Classification], list[AlertTarget]]:
    """The orchestrator's routing hook: the Slack targets of one classified article."""

    def targets(feed: FeedConfig, title: str, text: str, cls: Classification) -> list[AlertTarget]:
        item = RoutingInput(
            feed_name=feed.name,
            feed_tags=feed.tags,
            language=cls.language or feed.language,
            title=title,
            text=text,
            relevant=cls.relevant,
            relevance=cls.relevance,
            frames={
                "pro_city_inclusion": cls.pro_city_inclusion.present,
                "sovereignty_framing": cls.sovereignty_framing.present,
            },
        )
        return [
            AlertTarget(d.route.channel, d.route.name, d.not_before)
            for d in route_article(config, item)
            if d.matched and not d.route.digest_only
        ]

    return targets


def alert_styles(config: AlertsConfig, archive_url: str | None) -> Callable[[str], AlertStyle]:
    """Channel → how its alerts look: scores shown when any route posting there asks for
    them (a channel shared by comms people and analysts gets the analysts' view)."""
    scored = {route.channel for route in config.routes if route.show_scores}
    plain, with_scores = AlertStyle(False, archive_url), AlertStyle(True, archive_url)

    def style(channel: str) -> AlertStyle:
        return with_scores if channel in scored else plain

    return style


# ---------------------------------------------------------------------------- loading
def load_alerts_config(path: Path, default_channel: str) -> AlertsConfig:
    """Read and validate the routes file; a missing file means the single default route."""
    if not path.exists():
        return default_config(default_channel)
    label = str(path)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise ConfigError(f"{label}:{line}: {error.problem}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{label}: cannot read: {error}") from None
    if root is None:
        return default_config(default_channel)
    top = _mapping(label, root, "the file")
    if set(top) != {"alerts"}:
        raise ConfigError(
            f"{label}:{root.start_mark.line + 1}: the file must have one top-level key `alerts`"
        )
    section_node = top["alerts"][1]
    section = _mapping(label, section_node, "alerts")
    for key, (key_node, _) in section.items():
        if key not in TOP_KEYS:
            raise ConfigError(
                f"{label}:{_line(key_node)}: unknown key {key!r} (allowed: {', '.join(sorted(TOP_KEYS))})"
            )
    routes_node = section.get("routes", (None, None))[1]
    if routes_node is None or not isinstance(routes_node, yaml.SequenceNode) or not routes_node.value:
        raise ConfigError(f"{label}:{_line(section_node)}: alerts.routes must be a non-empty list")
    routes = [_route(label, node) for node in routes_node.value]
    names = [r.name for r in routes]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"{label}:{_line(routes_node.value[i])}: route name {name!r} is used twice")
    burst = BurstPolicy()
    if "burst" in section:
        raw = _value(section["burst"][1])
        node = section["burst"][1]
        if not isinstance(raw, dict) or set(raw) - {"max_messages", "window_seconds"}:
            raise ConfigError(f"{label}:{_line(node)}: burst takes max_messages and window_seconds")
        burst = BurstPolicy(
            max_messages=_positive_int(label, node, raw.get("max_messages", 5), "burst.max_messages"),
            window_seconds=_positive_int(label, node, raw.get("window_seconds", 120), "burst.window_seconds"),
        )
    ops = _value(section["ops_channel"][1]) if "ops_channel" in section else None
    return AlertsConfig(
        routes=tuple(routes),
        ops_channel=str(ops) if ops else None,
        burst=burst,
        feed_failing_hours=_positive_number(label, section, "feed_failing_hours", 6.0),
        feed_silent_factor=_positive_number(label, section, "feed_silent_factor", 12.0),
        shifts=load_shifts_section(label, section["shifts"][1] if "shifts" in section else None),
    )


def _route(label: str, node: yaml.Node) -> Route:
    items = _mapping(label, node, "a route")
    where = f"{label}:{_line(node)}"
    values: dict[str, Any] = {}
    for key, (key_node, value_node) in items.items():
        if key not in ROUTE_KEYS:
            allowed = ", ".join(sorted(ROUTE_KEYS))
            raise ConfigError(f"{label}:{_line(key_node)}: unknown route key {key!r} (allowed: {allowed})")
        values[key] = (_value(value_node), _line(value_node))
    name = values.get("name", (None, 0))[0]
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{where}: every route needs a `name`")
    channel = values.get("channel", (None, 0))[0]
    digest_only = values.get("digest_only", (False, 0))[0]
    if not isinstance(digest_only, bool):
        raise ConfigError(
            f"{label}:{values['digest_only'][1]}: route {name!r}: digest_only must be true or false"
        )
    if not digest_only and (not isinstance(channel, str) or not channel.strip()):
        raise ConfigError(f"{where}: route {name!r} needs a Slack `channel` (or digest_only: true)")

    def strings(key: str, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        raw, line = values.get(key, ([], 0))
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise ConfigError(f"{label}:{line}: route {name!r}: {key} must be a list of words")
        if allowed:
            for v in raw:
                if v not in allowed:
                    raise ConfigError(
                        f"{label}:{line}: route {name!r}: unknown frame {v!r} (use {', '.join(allowed)})"
                    )
        return tuple(raw)

    min_relevance, line = values.get("min_relevance", (0.0, 0))
    if (
        isinstance(min_relevance, bool)
        or not isinstance(min_relevance, int | float)
        or not 0 <= min_relevance <= 1
    ):
        raise ConfigError(f"{label}:{line}: route {name!r}: min_relevance must be a number from 0 to 1")
    shifts = ShiftRouteOptions()
    if "shift_alerts" in values:
        shifts = route_shift_options(label, name, *values["shift_alerts"])
    show_scores, scores_line = values.get("show_scores", (False, 0))
    if not isinstance(show_scores, bool):
        raise ConfigError(f"{label}:{scores_line}: route {name!r}: show_scores must be true or false")
    daily_brief, brief_line = values.get("daily_brief", (False, 0))
    if not isinstance(daily_brief, bool):
        raise ConfigError(f"{label}:{brief_line}: route {name!r}: daily_brief must be true or false")
    quiet = None
    if "quiet_hours" in values:
        quiet = _quiet_hours(label, name, *values["quiet_hours"])
    return Route(
        name=name.strip(),
        channel=(channel or "").strip(),
        frames_any=strings("frames_any", FRAMES),
        frames_all=strings("frames_all", FRAMES),
        min_relevance=float(min_relevance),
        feed_tags=strings("feed_tags"),
        feeds=strings("feeds"),
        languages=strings("languages"),
        keywords=strings("keywords"),
        quiet_hours=quiet,
        digest_only=digest_only,
        show_scores=show_scores,
        shifts=shifts,
        daily_brief=daily_brief,
    )


def _quiet_hours(label: str, name: str, raw: Any, line: int) -> QuietHours:
    if not isinstance(raw, dict) or set(raw) != {"start", "end", "timezone"}:
        raise ConfigError(f"{label}:{line}: route {name!r}: quiet_hours needs start, end and timezone")
    try:
        zone = str(raw["timezone"])
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{label}:{line}: route {name!r}: unknown time zone {raw['timezone']!r}") from None
    return QuietHours(_clock(label, line, name, raw["start"]), _clock(label, line, name, raw["end"]), zone)


def _clock(label: str, line: int, name: str, value: Any) -> time:
    if isinstance(value, int):  # YAML 1.1 reads 22:00 as a sexagesimal number
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not match:
        raise ConfigError(f"{label}:{line}: route {name!r}: quiet hours must look like 22:00, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def _mapping(label: str, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{label}:{_line(node)}: {what} must be a mapping")
    out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in out:
            raise ConfigError(f"{label}:{_line(key_node)}: key {key!r} appears twice")
        out[key] = (key_node, value_node)
    return out


def _value(node: yaml.Node) -> Any:
    return yaml.SafeLoader("").construct_document(node)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _positive_int(label: str, node: yaml.Node, value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{label}:{_line(node)}: {key} must be a whole number ≥ 1")
    return value


def _positive_number(
    label: str, section: dict[str, tuple[yaml.Node, yaml.Node]], key: str, default: float
) -> float:
    if key not in section:
        return default
    node = section[key][1]
    value = _value(node)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{label}:{_line(node)}: {key} must be a positive number")
    return float(value)
