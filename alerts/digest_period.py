"""When the weekly digest is due and which period it covers: one definition shared by the
scheduled job (alerts/schedule.py) and `digest --preview` (alerts/digest_command.py), so
a preview shows exactly what readers got or will get.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger

from alerts.digest import Period, zone
from pipeline.errors import ConfigError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def digest_trigger(day: str, at: str, timezone: str) -> CronTrigger:
    """The weekly cron trigger; a bad day or time is a one-line ConfigError."""
    weekday = day.strip().lower()[:3]
    if weekday not in DAYS:
        raise ConfigError(f"setting COMPACTWATCH_DIGEST_DAY: {day!r} is not a weekday (mon..sun)")
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", at)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(f"setting COMPACTWATCH_DIGEST_TIME: {at!r} is not a time like 08:00")
    return CronTrigger(day_of_week=weekday, hour=int(match[1]), minute=int(match[2]), timezone=zone(timezone))


def latest_fire_time(trigger: CronTrigger, now: datetime, within: timedelta) -> datetime | None:
    """The most recent scheduled time in (now - within, now], if any."""
    latest = None
    fire = trigger.get_next_fire_time(None, now - within)
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return latest


def scheduled_period(day: str, at: str, timezone: str, now: datetime | None = None) -> Period:
    """The period the latest scheduled send (at or before `now`) covers: what the weekly job
    sends and what `digest --preview` shows, so a preview on a Wednesday shows the digest
    readers got on Monday, not a Wednesday-to-Tuesday week nobody receives."""
    now = now or datetime.now(UTC)
    trigger = digest_trigger(day, at, timezone)
    scheduled = latest_fire_time(trigger, now, timedelta(days=8)) or now
    return Period.last_days(zone(timezone), scheduled)
