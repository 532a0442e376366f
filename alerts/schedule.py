"""Jobs `compactwatch run` adds to its scheduler beyond polling and the relay: the weekly digest
(and, from alerts/shift_cycle.py, the shift detectors and the daily brief).

The digest runs on a cron trigger built from COMPACTWATCH_DIGEST_DAY / _DIGEST_TIME /
_TIMEZONE. The job store is in memory, so APScheduler alone would forget a 08:00 run
that happened while compactwatch was down: a job added at 09:30 is simply next due a week
later. Hence, at start-up, when the latest scheduled time is less than MISFIRE_GRACE ago,
the job's first run is set to "now". This is safe to do on every start because sending is
idempotent per (period, recipient): a digest already sent is never sent again. While the
scheduler runs, misfire_grace_time and coalesce cover a sleeping machine or busy
executor: one late run, never several.

The period a run covers comes from the scheduled time, not the clock at run time, so a
late run (after midnight, even) sends the same week the on-time run would have.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from alerts.digest_period import digest_trigger, latest_fire_time, scheduled_period
from alerts.shift_cycle import add_shift_jobs

if TYPE_CHECKING:
    from pipeline.runtime import Runtime

log = logging.getLogger("compactwatch")

MISFIRE_GRACE = timedelta(hours=6)  # a scheduler down at 08:00 still sends until 14:00
RETRY_EVERY = timedelta(minutes=30)  # SMTP down: failed recipients are retried ...
RETRY_FOR = timedelta(hours=12)  # ... for this long after the scheduled time
JOB_ID = "digest:weekly"
RETRY_JOB_ID = "digest:retry"


class WeeklyDigestJob:
    """The job body: send this week's digest to the configured recipients, at most once each."""

    def __init__(self, runtime: Runtime, trigger: CronTrigger, scheduler: BaseScheduler) -> None:
        self.runtime = runtime
        self.trigger = trigger
        self.scheduler = scheduler
        self._told_unconfigured = False

    def configured(self) -> bool:
        settings = self.runtime.settings
        return bool(settings.smtp_host and settings.digest_recipients)

    def __call__(self) -> None:
        from alerts.digest_command import scheduled_send

        if not self.configured():
            if not self._told_unconfigured:  # once per process, not every week
                log.warning(
                    "weekly digest not sent: set SMTP_HOST and COMPACTWATCH_DIGEST_RECIPIENTS to email it"
                )
                self._told_unconfigured = True
            return
        now = datetime.now(UTC)
        scheduled = latest_fire_time(self.trigger, now, RETRY_FOR) or now
        settings = self.runtime.settings
        period = scheduled_period(settings.digest_day, settings.digest_time, settings.timezone, scheduled)
        results = scheduled_send(self.runtime.store, self.runtime.settings, period)
        retry = not results or any(r.status == "failed" for r in results)
        if retry and now + RETRY_EVERY < scheduled + RETRY_FOR:
            log.info("weekly digest: retrying failed recipients in %d minutes", RETRY_EVERY.seconds // 60)
            self.scheduler.add_job(
                self,
                DateTrigger(run_date=now + RETRY_EVERY),
                id=RETRY_JOB_ID,
                name="weekly digest (retry)",
                misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
                replace_existing=True,
            )


def add_scheduled_jobs(scheduler: BaseScheduler, runtime: Runtime, web: bool = False) -> None:
    """Add the weekly digest job (the archive, when `web`, is served by its own module)."""
    settings = runtime.settings
    trigger = digest_trigger(settings.digest_day, settings.digest_time, settings.timezone)
    job = WeeklyDigestJob(runtime, trigger, scheduler)
    now = datetime.now(UTC)
    missed = latest_fire_time(trigger, now, MISFIRE_GRACE)
    options: dict[str, object] = {}
    if missed is not None and job.configured():
        log.info("weekly digest: the %s run was missed; sending at start-up", missed.strftime("%a %H:%M"))
        options["next_run_time"] = now + timedelta(seconds=5)  # after the first polls have started
    scheduler.add_job(
        job,
        trigger,
        id=JOB_ID,
        name="weekly digest",
        misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
        coalesce=True,
        max_instances=1,
        replace_existing=True,
        **options,
    )
    if job.configured():
        count = len(settings.digest_recipients)
        log.info(
            "weekly digest: %s %s %s to %d recipient%s",
            settings.digest_day,
            settings.digest_time,
            settings.timezone,
            count,
            "" if count == 1 else "s",
        )
    add_shift_jobs(scheduler, runtime)  # shift detectors after cycles, and the daily brief (issue 14)
