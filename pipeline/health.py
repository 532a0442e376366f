"""Feed health: when to poll a feed next, given how its last poll went.

Backoff is linear, not exponential (feeds come back from what looks like death), graded
by failure kind, capped, and a server's Retry-After is honoured up to a cap. A feed is
never dropped: at worst it is polled once per `max_backoff_minutes`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.records import FeedHealth, FeedState, PollResult

HARD_FAILURE_WEIGHT = 2  # hard failures (404-class, not a feed, blocked) back off twice as fast


def assess_feed_health(
    state: FeedState,
    result: PollResult,
    *,
    interval_minutes: int,
    now: datetime,
    max_backoff_minutes: int,
) -> FeedHealth:
    """The health row after one poll: status, failure count, last error and next due time."""
    if result.status != "failed":
        return FeedHealth(
            status="ok",
            last_attempt_at=now,
            last_success_at=now,
            consecutive_failures=0,
            last_error=None,
            next_due_at=now + timedelta(minutes=interval_minutes),
        )
    failures = state.consecutive_failures + 1
    weight = HARD_FAILURE_WEIGHT if result.failure_kind == "hard" else 1
    delay = timedelta(minutes=min(interval_minutes * (1 + weight * failures), max_backoff_minutes))
    if result.retry_after is not None:
        delay = max(delay, timedelta(seconds=result.retry_after))
    return FeedHealth(
        status="failing",
        last_attempt_at=now,
        last_success_at=state.last_success_at,
        consecutive_failures=failures,
        last_error=result.error,
        next_due_at=now + delay,
    )
