"""Shift alerts: alerts.yaml `shifts:` and per-route options, the messages, the daily brief."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from alerts.local_slack import LocalSlack
from alerts.relay import SlackSender, relay_alerts
from alerts.routing import load_alerts_config
from alerts.shift_cycle import queue_daily_briefs, route_wants, shift_targets
from alerts.shift_messages import finding_message
from alerts.slack import make_client
from pipeline.errors import ConfigError
from pipeline.shifts import Finding, StoryRef
from pipeline.store import Store
from tests.factories import add_feed, classification, stored_article

ROUTES = """alerts:
  shifts:
    share_min_points: 20
    volume_p: 0.000001
    brief_time: "07:30"
    timezone: Europe/Paris
  routes:
    - name: everything
      channel: "#all"
    - name: comms
      channel: "#comms"
      shift_alerts: true
      daily_brief: true
    - name: sovereignty-fr
      channel: "#fr"
      shift_alerts: {frames: [sovereignty_framing], languages: [fr]}
"""


def finding(**extra: object) -> Finding:
    values: dict[str, object] = {
        "kind": "frame_shift",
        "key": "frame_shift:sovereignty_framing:up",
        "headline": "Sovereignty framing up from 22% to 51% of stories this week (n=37)",
        "period_start": datetime(2026, 11, 15, 12, tzinfo=UTC),
        "period_end": datetime(2026, 11, 22, 12, tzinfo=UTC),
        "p_value": 3e-5,
        "frame": "sovereignty_framing",
        "direction": "up",
        "count": 19,
        "total": 37,
        "before_count": 33,
        "before_total": 150,
        "stories": (StoryRef("Estmark quits the compact", "https://news.example.org/a", ("Wire", "Ledger")),),
    }
    values.update(extra)
    return Finding(**values)  # type: ignore[arg-type]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alerts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shifts_section_and_route_options_are_read(tmp_path: Path) -> None:
    config = load_alerts_config(write(tmp_path, ROUTES), "#default")
    assert config.shifts.thresholds.share_min_points == 20
    assert config.shifts.thresholds.volume_p == 1e-6
    assert config.shifts.thresholds.share_window_days == 7  # untouched keys keep their defaults
    assert (config.shifts.brief_time.hour, config.shifts.brief_time.minute) == (7, 30)
    assert config.shifts.timezone == "Europe/Paris"
    everything, comms, french = config.routes
    assert not everything.shifts.enabled and comms.shifts.enabled and comms.daily_brief
    assert french.shifts.frames == ("sovereignty_framing",) and french.shifts.languages == ("fr",)


def test_routes_receive_only_the_findings_they_opted_in_to(tmp_path: Path) -> None:
    config = load_alerts_config(write(tmp_path, ROUTES), "#default")
    everything, comms, french = config.routes
    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    shift = finding()
    city = finding(key="frame_shift:pro_city_inclusion:up", frame="pro_city_inclusion")
    volume = finding(kind="volume", key="volume", frame=None, direction=None)
    spread_fr = finding(
        kind="frame_spread", key="frame_spread:sovereignty_framing:language:fr", language="fr"
    )
    spread_de = finding(
        kind="frame_spread", key="frame_spread:sovereignty_framing:language:de", language="de"
    )
    assert not route_wants(everything, shift)
    assert all(route_wants(comms, f) for f in (shift, city, volume, spread_fr, spread_de))
    assert [route_wants(french, f) for f in (shift, city, volume, spread_fr, spread_de)] == [
        True,
        False,
        True,
        True,
        False,
    ]
    assert [t.channel for t in shift_targets(config, city, now)] == ["#comms"]


@pytest.mark.parametrize(
    ("snippet", "line", "message"),
    [
        ("  shifts:\n    share_p: 2\n", 3, "shifts.share_p is a probability"),
        ("  shifts:\n    sensitivity: high\n", 3, "unknown shifts key 'sensitivity'"),
        ("  shifts:\n    baseline_days: 2.5\n", 3, "shifts.baseline_days must be a whole number"),
        ("  shifts:\n    brief_time: noon\n", 3, "shifts.brief_time must look like 08:00"),
        ("  shifts:\n    timezone: Mars/Olympus\n", 3, "unknown time zone"),
        ("  shifts: [1, 2]\n", 2, "shifts must be a mapping"),
    ],
)
def test_bad_shift_settings_are_reported_with_file_and_line(
    tmp_path: Path, snippet: str, line: int, message: str
) -> None:
    text = "alerts:\n" + snippet + "  routes:\n    - name: a\n      channel: '#a'\n"
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_alerts_config(path, "#default")
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert message in str(error.value)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("shift_alerts: yes please", "shift_alerts must be true, false or a mapping"),
        ("shift_alerts: {frames: [economy]}", "unknown frame 'economy'"),
        ("shift_alerts: {outlets: [Wire]}", "shift_alerts must be true, false or a mapping"),
        ("daily_brief: sometimes", "daily_brief must be true or false"),
    ],
)
def test_bad_route_shift_options_are_reported_with_file_and_line(
    tmp_path: Path, option: str, message: str
) -> None:
    path = write(tmp_path, f"alerts:\n  routes:\n    - name: a\n      channel: '#a'\n      {option}\n")
    with pytest.raises(ConfigError) as error:
        load_alerts_config(path, "#default")
    assert str(error.value).startswith(f"{path}:5: route 'a': ")
    assert message in str(error.value)


def test_finding_message_escapes_feed_text_and_links_the_trends_page() -> None:
    hostile = finding(
        headline="Sovereignty framing appears in <!channel> & Co for the first time in 28 days",
        kind="frame_spread",
        outlet="<!channel> & Co",
        stories=(
            StoryRef("<!here> Leave the pact <b>now</b>", "https://news.example.org/b", ("<!channel> & Co",)),
            StoryRef("Not a web link", "javascript:alert(1)", ()),
        ),
    )
    text, blocks = finding_message(
        {"finding": hostile.to_dict(), "archive_url": "https://archive.example.org/"}
    )
    rendered = text + "\n".join(
        str(b.get("text", {}).get("text", ""))
        + "".join(str(e.get("text", "")) for e in b.get("elements", []))
        for b in blocks
    )
    assert "<!channel>" not in rendered and "<!here>" not in rendered
    assert "&lt;!channel&gt; &amp; Co" in rendered
    assert "<https://news.example.org/b|&lt;!here&gt; Leave the pact &lt;b&gt;now&lt;/b&gt;>" in rendered
    assert "javascript:" not in rendered and "Not a web link" in rendered
    assert "<https://archive.example.org/trends?from=2026-10-18&to=2026-11-22&bucket=day|" in rendered


def test_frame_shift_message_reads_like_the_headline_with_both_shares() -> None:
    text, blocks = finding_message({"finding": finding().to_dict()})
    assert text == "Sovereignty framing up from 22% to 51% of stories this week (n=37)"
    figures = blocks[1]["elements"][0]["text"]
    assert "this week 19 of 37 stories (51%)" in figures and "33 of 150 (22%)" in figures
    assert "Trends page" not in str(blocks)  # no archive URL configured: no link


def test_daily_brief_is_queued_once_per_day_and_not_on_an_empty_day(
    sqlite_store: Store, slack: LocalSlack, tmp_path: Path
) -> None:
    config = load_alerts_config(write(tmp_path, ROUTES), "#default")
    now = datetime.now(UTC)
    assert queue_daily_briefs(sqlite_store, config, timezone="UTC", now=now) == 0  # nothing yesterday
    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    paris = ZoneInfo("Europe/Paris")  # the brief's zone (shifts.timezone)
    yesterday_noon = datetime.combine(now.astimezone(paris).date() - timedelta(days=1), time(12), paris)
    for i, (city, sov) in enumerate([(True, False), (False, True), (True, True)]):
        stored_article(
            sqlite_store,
            feed,
            title=f"Brief story {i} & more",
            cls=classification(city=city, sovereignty=sov),
            channels=(),
            published=yesterday_noon + timedelta(minutes=i),
        )
    assert queue_daily_briefs(sqlite_store, config, timezone="UTC", now=now) == 1
    assert queue_daily_briefs(sqlite_store, config, timezone="UTC", now=now + timedelta(hours=1)) == 0
    relay_alerts(sqlite_store, SlackSender(make_client("xoxb-test", slack.api_url)), channel_interval=0.0)
    [brief] = slack.posts("#comms")
    assert brief.text.startswith("Daily brief for ") and "3 stories on the compacts" in brief.text
    body = brief.blocks[0]["text"]["text"]
    assert "pro-city inclusion 2 (67%)" in body and "sovereignty 2 (67%)" in body
    assert body.count("• <https://news.example.org/") == 3 and "&amp; more" in body


def test_run_schedules_the_detectors_and_the_daily_brief_at_its_local_time(
    sqlite_store: Store, tmp_path: Path
) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from alerts.schedule import add_scheduled_jobs
    from alerts.shift_cycle import BRIEF_JOB_ID, CHECK_JOB_ID
    from pipeline.runtime import Runtime
    from pipeline.settings import load_settings

    settings = load_settings(
        routes=write(tmp_path, ROUTES), database_url=f"sqlite:///{tmp_path / 'x.db'}", timezone="UTC"
    )
    scheduler = BackgroundScheduler(timezone=UTC)
    add_scheduled_jobs(scheduler, Runtime(settings, sqlite_store, []), web=False)
    check, brief = scheduler.get_job(CHECK_JOB_ID), scheduler.get_job(BRIEF_JOB_ID)
    assert isinstance(check.trigger, IntervalTrigger) and check.trigger.interval == timedelta(minutes=10)
    assert isinstance(brief.trigger, CronTrigger)
    fields = {f.name: str(f) for f in brief.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("7", "30")
    assert str(brief.trigger.timezone) == "Europe/Paris"  # shifts.timezone wins over the setting
    assert check.max_instances == 1 and brief.coalesce is True


def test_shift_alerts_respect_a_route_s_quiet_hours(tmp_path: Path) -> None:
    text = ROUTES.replace(
        "      daily_brief: true\n",
        '      daily_brief: true\n      quiet_hours: {start: "22:00", end: "07:00", timezone: UTC}\n',
    )
    config = load_alerts_config(write(tmp_path, text), "#default")
    night = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    city = finding(key="frame_shift:pro_city_inclusion:up", frame="pro_city_inclusion")  # only #comms
    [target] = shift_targets(config, city, night)
    assert target.channel == "#comms" and target.not_before == datetime(2026, 11, 23, 7, tzinfo=UTC)
    [daytime] = shift_targets(config, city, night.replace(hour=12))
    assert daytime.not_before is None
