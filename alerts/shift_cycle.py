"""Running the shift detectors: after each cycle (and every few minutes under `run`), and the
daily brief at its local time.

One round reads the stories of the last five weeks from the store, runs the pure detectors
(`pipeline.shifts`), and hands the store what changed: findings to open (with one outbox row
per opted-in route's channel) and findings whose condition is over (with the "ended" notes).
A condition that persists changes nothing, so it is never posted again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from alerts.routing import AlertsConfig, Route
from pipeline.records import AlertTarget
from pipeline.shifts import Finding, Timeline, brief_of, detect_shifts, group_stories, reconcile
from pipeline.store import Store
from pipeline.store.shift_queries import apply_findings, article_points, enqueue_brief, open_finding_keys

if TYPE_CHECKING:
    from apscheduler.schedulers.base import BaseScheduler

    from pipeline.runtime import Runtime

log = logging.getLogger("compactwatch")

CHECK_EVERY = timedelta(minutes=10)  # under `run`: polls are per feed, so "after each cycle" is this
CHECK_JOB_ID = "shifts:check"
BRIEF_JOB_ID = "shifts:brief"


@dataclass(frozen=True)
class ShiftReport:
    opened: tuple[str, ...] = ()  # headlines of the findings opened this round
    ended: int = 0


def route_wants(route: Route, finding: Finding) -> bool:
    """Has this route opted in to this finding? Frame and language filters apply to findings
    about a frame or a language; a volume surge passes both."""
    options = route.shifts
    if not options.enabled or route.digest_only or not route.channel:
        return False
    if finding.frame and options.frames and finding.frame not in options.frames:
        return False
    return not (finding.language and options.languages and finding.language not in options.languages)


def shift_targets(config: AlertsConfig, finding: Finding, now: datetime) -> list[AlertTarget]:
    """The Slack channels of one finding (quiet hours hold it like a story alert)."""
    return [
        AlertTarget(
            route.channel, route.name, route.quiet_hours.release_time(now) if route.quiet_hours else None
        )
        for route in config.routes
        if route_wants(route, finding)
    ]


def check_shifts(
    store: Store,
    config: AlertsConfig,
    *,
    now: datetime | None = None,
    archive_url: str | None = None,
    timeline: Timeline | None = None,
) -> ShiftReport:
    """One round of the detectors as of `now`; `timeline` may be given preloaded (a replay
    of history asks thousands of rounds of one set of stories)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    thresholds = config.shifts.thresholds
    if timeline is None:
        timeline = Timeline(group_stories(article_points(store, now - thresholds.lookback, now)))
    checks = detect_shifts(timeline, now, thresholds)
    reconciled = reconcile(open_finding_keys(store), checks)
    if not reconciled.open and not reconciled.end:
        return ShiftReport()
    opened, ended = apply_findings(
        store,
        reconciled,
        targets=lambda finding: shift_targets(config, finding, now),
        extra_payload={"archive_url": archive_url} if archive_url else None,
        now=now,
    )
    headlines = tuple(f.headline for f in reconciled.open) if opened else ()
    for headline in headlines:
        log.info("shift finding: %s", headline)
    return ShiftReport(opened=headlines, ended=len(ended))


# ------------------------------------------------------------------------------ daily brief
def brief_day(now: datetime, timezone: str) -> tuple[datetime, datetime, str]:
    """Yesterday in local time, as a UTC [start, end) and a label like "Sat 5 Dec"."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    yesterday = today - timedelta(days=1)
    start = datetime.combine(yesterday, time(0), zone).astimezone(UTC)
    end = datetime.combine(today, time(0), zone).astimezone(UTC)
    return start, end, f"{yesterday:%a} {yesterday.day} {yesterday:%b}"


def queue_daily_briefs(
    store: Store, config: AlertsConfig, *, timezone: str, now: datetime | None = None
) -> int:
    """Queue yesterday's brief for every route that asked for one; nothing on an empty day,
    and never twice for one day and channel. Returns how many were queued."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    routes: Sequence[Route] = [r for r in config.routes if r.daily_brief and r.channel and not r.digest_only]
    if not routes:
        return 0
    zone = config.shifts.timezone or timezone
    start, end, label = brief_day(now, zone)
    brief = brief_of(Timeline(group_stories(article_points(store, start, end))), start, end)
    if brief is None:
        return 0
    payload: dict[str, object] = {
        "day_label": label,
        "count": brief.count,
        "frame_counts": dict(brief.frame_counts),
        "top": [{"title": s.title, "url": s.url, "outlets": list(s.outlets)} for s in brief.top],
    }
    queued = 0
    for route in routes:
        target = AlertTarget(route.channel, route.name, None)
        queued += enqueue_brief(store, day=start.date().isoformat(), target=target, payload=payload, now=now)
    return queued


# ------------------------------------------------------------------------------ scheduling
def add_shift_jobs(scheduler: BaseScheduler, runtime: Runtime) -> None:
    """Under `compactwatch run`: the detectors every CHECK_EVERY, the brief at its time."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    config = runtime.alerts_config()
    settings = runtime.settings

    def check() -> None:
        check_shifts(runtime.store, runtime.alerts_config(), archive_url=settings.archive_url)

    def brief() -> None:
        queue_daily_briefs(runtime.store, runtime.alerts_config(), timezone=settings.timezone)

    scheduler.add_job(
        check,
        IntervalTrigger(seconds=int(CHECK_EVERY.total_seconds())),
        id=CHECK_JOB_ID,
        name="shift detectors",
        next_run_time=datetime.now(UTC) + timedelta(seconds=60),
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
    at = config.shifts.brief_time
    zone = ZoneInfo(config.shifts.timezone or settings.timezone)
    scheduler.add_job(
        brief,
        CronTrigger(hour=at.hour, minute=at.minute, timezone=zone),
        id=BRIEF_JOB_ID,
        name="daily brief",
        misfire_grace_time=6 * 3600,  # a machine asleep at 08:00 still sends it that morning
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )
