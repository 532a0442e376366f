"""Broken and silent feeds: one warning to the ops channel, one "recovered" message.

A feed is *failing* when it has not been polled successfully for `feed_failing_hours`
(or, never having succeeded, has failed three times in a row), and *silent* when it
answers but has brought no new entry for `feed_silent_factor` × its interval. The warning
state lives on the feed row, so a warning is posted when a feed enters a bad state, not on
every poll, and a recovery message when it leaves it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.routing import AlertsConfig
from pipeline.store import Store


def assess_warning(row: dict[str, object], config: AlertsConfig, now: datetime) -> tuple[str, str]:
    """(state, reason) for one feed row: none | failing | silent."""
    if not row["enabled"]:
        return "none", ""
    interval = timedelta(minutes=int(row["interval"]))  # type: ignore[call-overload]
    last_success = row["last_success_at"]
    if row["status"] == "failing":
        failures = int(row["consecutive_failures"])  # type: ignore[call-overload]
        too_long = (
            isinstance(last_success, datetime)
            and now - last_success >= timedelta(hours=config.feed_failing_hours)
        ) or (last_success is None and failures >= 3)
        if too_long:
            since = (
                f"since {last_success:%Y-%m-%d %H:%M} UTC"
                if isinstance(last_success, datetime)
                else "every time so far"
            )
            return "failing", f"failing {since} ({failures} attempts): {row['last_error']}"
    last_new = row["last_new_entry_at"]
    if row["status"] == "ok" and isinstance(last_new, datetime):
        quiet_for = now - last_new
        if quiet_for >= interval * config.feed_silent_factor:
            hours = quiet_for.total_seconds() / 3600
            return "silent", f"no new articles for {hours:.0f} hours (polls succeed)"
    return "none", ""


def check_feed_health(store: Store, config: AlertsConfig, now: datetime | None = None) -> int:
    """Queue warnings/recoveries for feeds whose state changed; returns messages queued."""
    now = now or datetime.now(UTC)
    channel = config.ops_channel or config.routes[0].channel
    queued = 0
    for row in store.feed_rows():
        state, reason = assess_warning(row, config, now)
        current = str(row["health_warning"])
        if state == current:
            continue
        name = row["name"]
        if current == "none":
            kind, text = "feed_warning", f":warning: Feed {name} is {state}: {reason}"
        elif state == "none":
            kind, text = "feed_recovered", f":white_check_mark: Feed {name} has recovered."
        else:  # failing ↔ silent: the warning already posted still stands
            kind, text = "", ""
        if (
            store.transition_feed_warning(
                int(row["id"]),
                expected=current,
                new=state,
                channel=channel,
                kind=kind,
                text=text,  # type: ignore[call-overload]
            )
            and kind
        ):
            queued += 1
    return queued
