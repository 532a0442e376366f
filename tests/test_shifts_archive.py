"""Shift findings on the archive's Trends page: a marker where each fired, headline on hover."""

from __future__ import annotations

from datetime import timedelta

from alerts.routing import AlertsConfig, Route
from alerts.shift_config import ShiftRouteOptions
from alerts.shift_cycle import check_shifts
from pipeline.store import Store
from pipeline.store.shift_queries import findings_between
from tests.shift_history import Phase, build_history
from tests.test_archive_support import logged_in

CONFIG = AlertsConfig(routes=(Route(name="comms", channel="#comms", shifts=ShiftRouteOptions(True)),))


def test_trends_page_marks_where_a_shift_finding_fired_with_its_headline(sqlite_store: Store) -> None:
    _, end, _ = build_history(
        sqlite_store,
        [Phase(days=35, per_day=5.0, sovereignty=0.15), Phase(days=7, per_day=6.0, sovereignty=0.6)],
        seed=4,
    )
    report = check_shifts(sqlite_store, CONFIG, now=end)
    [headline] = report.opened
    [stored] = findings_between(sqlite_store, end - timedelta(days=1), end + timedelta(days=1))
    client = logged_in(sqlite_store)
    start = (end - timedelta(days=40)).date().isoformat()
    page = client.get(f"/trends?from={start}&to={end.date().isoformat()}&bucket=day")
    assert page.status_code == 200
    assert page.text.count('class="finding-marker"') == 2  # on the volume and the share charts
    assert f"<title>{headline}</title>" in page.text
    assert "Shift alerts in this period" in page.text and stored.finding.headline in page.text
    quiet = client.get(f"/trends?from={start}&to={(end - timedelta(days=20)).date().isoformat()}&bucket=day")
    assert "finding-marker" not in quiet.text  # outside the period: no marker
