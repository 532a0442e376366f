"""What `compactwatch run` did lately, as one log line every few minutes.

`once` ends with a summary, but `run` polls each feed on its own timer and never "ends a
cycle", so without this an operator watching its log sees per-feed lines when articles
arrive and nothing at all when every feed is failing, which is exactly when they need to
know. Every `status_interval` minutes the scheduler logs what happened since the last line:
`last 10 min: 11/12 feeds ok, 1 failed (timeout 1); 14 new, 3 relevant, 3 alerts queued,
0 pending`, and the same "is this machine offline?" warning as `once` when no feed could be
reached at all. A window in which no feed was due says so, with the next poll time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from pipeline.logs import feeds_and_articles, offline_warning
from pipeline.orchestrator import FeedOutcome, summarize

log = logging.getLogger("compactwatch")


class RunTally:
    """Feed outcomes since the last status line; safe to add to from the polling threads."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._outcomes: list[FeedOutcome] = []
        self._since = clock()

    def add(self, outcome: FeedOutcome) -> None:
        with self._lock:
            self._outcomes.append(outcome)

    def take(self) -> tuple[list[FeedOutcome], datetime]:
        """The outcomes since the last `take` and when that window started; starts a new one."""
        with self._lock:
            outcomes, since = self._outcomes, self._since
            self._outcomes, self._since = [], self._clock()
        return outcomes, since


def status_lines(
    outcomes: list[FeedOutcome],
    minutes: float,
    pending: int,
    next_poll: datetime | None = None,
) -> tuple[str, str | None]:
    """(the status line, the offline warning or None) for one window of `run`."""
    window = f"last {minutes:.0f} min"
    if not outcomes:
        when = f"; next poll at {next_poll:%H:%M} UTC" if next_poll is not None else ""
        return f"{window}: no feed was due{when}; {pending} alerts pending", None
    summary = summarize(outcomes)
    line = feeds_and_articles(summary)
    queued = summary.alerts_queued
    line += f", {queued} alert{'' if queued == 1 else 's'} queued, {pending} pending"
    return f"{window}: {line}", offline_warning(summary)


def log_status(
    tally: RunTally,
    pending: Callable[[], int],
    next_poll: Callable[[], datetime | None] = lambda: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """The scheduler's status job: log the window's line (and warning), start the next."""
    outcomes, since = tally.take()
    minutes = max(1.0, (clock() - since).total_seconds() / 60)
    try:
        waiting = pending()
    except Exception as error:  # a database hiccup must not silence the status line
        log.warning("could not count pending alerts: %s", error)
        waiting = 0
    line, warning = status_lines(outcomes, minutes, waiting, next_poll() if not outcomes else None)
    log.info("%s", line)
    if warning:
        log.warning("%s", warning)
