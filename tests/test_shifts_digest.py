"""The weekly digest's "findings of the week": the shift alerts that fired in its period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts.digest import Period, build_digest, render_html, render_text
from alerts.routing import AlertsConfig, Route
from alerts.shift_config import ShiftRouteOptions
from alerts.shift_cycle import check_shifts
from pipeline.store import Store
from tests.shift_history import Phase, build_history

CONFIG = AlertsConfig(routes=(Route(name="comms", channel="#comms", shifts=ShiftRouteOptions(True)),))


def test_weekly_digest_lists_the_findings_of_the_week(sqlite_store: Store) -> None:
    _, end, _ = build_history(
        sqlite_store,
        [Phase(days=35, per_day=5.0, sovereignty=0.15), Phase(days=7, per_day=6.0, sovereignty=0.6)],
        seed=4,
    )
    [headline] = check_shifts(sqlite_store, CONFIG, now=end).opened
    utc = ZoneInfo("UTC")
    # the digest's week holds the finding (a day ago) and the articles (found today)
    digest = build_digest(sqlite_store, Period.last_days(utc, datetime.now(UTC) + timedelta(days=1)), utc)
    assert [f.finding.headline for f in digest.shift_findings] == [headline]
    text = render_text(digest)
    assert "FINDINGS OF THE WEEK (shift alerts)" in text and f"{headline} (ongoing)" in text
    assert "Findings of the week" in render_html(digest) and headline in render_html(digest)
    earlier = build_digest(sqlite_store, Period.last_days(utc, end - timedelta(days=10)), utc)
    assert earlier.shift_findings == () and "FINDINGS OF THE WEEK" not in render_text(earlier)
