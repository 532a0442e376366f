"""The `shifts:` section of alerts.yaml and the per-route shift options, validated with
file and line like the rest of the routes file.

    alerts:
      shifts:                       # every key optional; defaults shown
        volume_window_hours: 6
        baseline_days: 28
        volume_p: 0.00001
        volume_min_stories: 5
        share_window_days: 7
        share_min_points: 15
        share_p: 0.0002
        share_min_stories: 10
        brief_time: "08:00"         # the daily brief, local time ...
        timezone: Europe/Brussels   # ... in this zone (default: COMPACTWATCH_TIMEZONE)
      routes:
        - name: comms
          channel: "#comms"
          shift_alerts: true        # or {frames: [sovereignty_framing], languages: [fr]}
          daily_brief: true

Routes opt in; without `shift_alerts` a route gets no shift messages. A frame or language
filter applies to findings about a frame or a language; a volume surge concerns every
frame and language and passes both filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from pipeline.errors import ConfigError
from pipeline.shifts import FRAMES, ShiftThresholds

#: Threshold keys that are counts (whole numbers); the rest are probabilities, points or hours.
_INTS = {"baseline_days", "volume_min_stories", "volume_min_baseline", "share_window_days",
         "share_min_stories", "share_min_baseline", "share_min_frame_stories", "spread_min_prior",
         "max_stories"}  # fmt: skip
_PROBABILITIES = {"volume_p", "volume_end_p", "share_p", "spread_p"}
_POINTS = {"share_min_points", "share_end_points"}
THRESHOLD_KEYS = {f.name for f in fields(ShiftThresholds)}
SHIFT_KEYS = THRESHOLD_KEYS | {"brief_time", "timezone"}


@dataclass(frozen=True)
class ShiftRouteOptions:
    """A route's shift options: opted in, and which findings it wants."""

    enabled: bool = False
    frames: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ShiftConfig:
    thresholds: ShiftThresholds = field(default_factory=ShiftThresholds)
    brief_time: time = time(8, 0)
    timezone: str | None = None  # None: the COMPACTWATCH_TIMEZONE setting


def load_shifts_section(label: str, node: yaml.Node | None) -> ShiftConfig:
    """Parse `alerts.shifts`; every error names the file and line."""
    if node is None:
        return ShiftConfig()
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{label}:{_line(node)}: shifts must be a mapping")
    values: dict[str, Any] = {}
    seen: set[str] = set()
    config = ShiftConfig()
    for key_node, value_node in node.value:
        key = str(key_node.value)
        where = f"{label}:{_line(value_node)}"
        if key not in SHIFT_KEYS:
            allowed = ", ".join(sorted(SHIFT_KEYS))
            raise ConfigError(f"{label}:{_line(key_node)}: unknown shifts key {key!r} (allowed: {allowed})")
        if key in seen:
            raise ConfigError(f"{label}:{_line(key_node)}: key {key!r} appears twice")
        seen.add(key)
        raw = yaml.SafeLoader("").construct_document(value_node)
        if key == "brief_time":
            config = replace(config, brief_time=_clock(where, raw))
        elif key == "timezone":
            try:
                ZoneInfo(str(raw))
            except (ZoneInfoNotFoundError, ValueError):
                raise ConfigError(f"{where}: shifts.timezone: unknown time zone {raw!r}") from None
            config = replace(config, timezone=str(raw))
        else:
            values[key] = _number(where, key, raw)
    thresholds = replace(ShiftThresholds(), **values)
    if thresholds.share_end_points > thresholds.share_min_points:
        raise ConfigError(f"{label}:{_line(node)}: shifts.share_end_points must not exceed share_min_points")
    if thresholds.volume_end_p < thresholds.volume_p:
        raise ConfigError(f"{label}:{_line(node)}: shifts.volume_end_p must not be below volume_p")
    return replace(config, thresholds=thresholds)


def _number(where: str, key: str, raw: Any) -> float | int:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ConfigError(f"{where}: shifts.{key} must be a number, got {raw!r}")
    if key in _INTS:
        if not isinstance(raw, int) or raw < 1:
            raise ConfigError(f"{where}: shifts.{key} must be a whole number ≥ 1")
        return raw
    if key in _PROBABILITIES and not 0 < raw < 1:
        raise ConfigError(f"{where}: shifts.{key} is a probability: a number between 0 and 1")
    if key in _POINTS and not 0 < raw <= 100:
        raise ConfigError(f"{where}: shifts.{key} is in percentage points: a number from 0 to 100")
    if raw <= 0:
        raise ConfigError(f"{where}: shifts.{key} must be a positive number")
    return float(raw)


def _clock(where: str, value: Any) -> time:
    if isinstance(value, int):  # YAML 1.1 reads 08:00 as a sexagesimal number
        value = f"{value // 60:02d}:{value % 60:02d}"
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", str(value).strip())
    if not match:
        raise ConfigError(f"{where}: shifts.brief_time must look like 08:00, got {value!r}")
    return time(int(match.group(1)), int(match.group(2)))


def route_shift_options(label: str, name: str, raw: Any, line: int) -> ShiftRouteOptions:
    """`shift_alerts: true | false | {frames: [...], languages: [...]}` of one route."""
    where = f"{label}:{line}: route {name!r}"
    if isinstance(raw, bool):
        return ShiftRouteOptions(enabled=raw)
    if not isinstance(raw, dict) or not raw or set(raw) - {"frames", "languages"}:
        raise ConfigError(f"{where}: shift_alerts must be true, false or a mapping of frames and languages")
    out: dict[str, tuple[str, ...]] = {}
    for key in ("frames", "languages"):
        value = raw.get(key, [])
        value = [value] if isinstance(value, str) else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: shift_alerts.{key} must be a list of words")
        if key == "frames":
            for v in value:
                if v not in FRAMES:
                    raise ConfigError(f"{where}: shift_alerts: unknown frame {v!r} (use {', '.join(FRAMES)})")
        out[key] = tuple(value)
    return ShiftRouteOptions(True, out["frames"], out["languages"])


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1
