"""Shift detectors over synthetic histories stored through the real store (issue 14).

Simulated time is replayed hour by hour: each round is what `check_shifts` does after a
cycle, with the stories read from the store once (`article_points`) instead of every hour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from alerts.local_slack import LocalSlack
from alerts.relay import SlackSender, relay_alerts
from alerts.routing import AlertsConfig, Route
from alerts.shift_config import ShiftRouteOptions
from alerts.shift_cycle import check_shifts
from alerts.slack import make_client
from pipeline.shifts import (
    ShiftThresholds,
    Timeline,
    check_frame_shares,
    check_volume,
    group_stories,
    share_p_values,
    surge_p_value,
)
from pipeline.store import Store, open_store
from pipeline.store.shift_queries import article_points, findings_between
from tests.factories import add_feed, classification, stored_article
from tests.shift_history import WORDS, Phase, build_history, end_of_history

CONFIG = AlertsConfig(routes=(Route(name="comms", channel="#comms", shifts=ShiftRouteOptions(True)),))
HOUR = timedelta(hours=1)


def replay(
    store: Store,
    start: datetime,
    end: datetime,
    *,
    slack: LocalSlack | None = None,
    config: AlertsConfig = CONFIG,
    step: timedelta = HOUR,
) -> int:
    """Run a detector round every `step` over [start, end]; relay when something changed.
    Returns the number of rounds."""
    lookback = config.shifts.thresholds.lookback
    timeline = Timeline(group_stories(article_points(store, start - lookback, end + HOUR)))
    now, rounds = start, 0
    while now <= end:
        report = check_shifts(
            store, config, now=now, timeline=timeline, archive_url="https://archive.example.org"
        )
        if slack is not None and (report.opened or report.ended):
            relay_alerts(store, SlackSender(make_client("xoxb-test", slack.api_url)), channel_interval=0.0)
        now += step
        rounds += 1
    return rounds


@pytest.fixture(scope="module")
def steady(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, datetime, datetime]]:
    """31 weeks at about 4 stories a day, 20% sovereignty, 45% pro-city: 5 weeks of warm-up
    (the detectors' baseline) and 26 weeks to watch."""
    path: Path = tmp_path_factory.mktemp("steady") / "steady.db"
    store = open_store(f"sqlite:///{path}")
    start, end, _ = build_history(store, [Phase(days=31 * 7, per_day=4.0)], seed=26)
    yield store, start, end
    store.close()


def test_steady_history_over_26_weeks_fires_no_finding(steady: tuple[Store, datetime, datetime]) -> None:
    store, start, end = steady
    watch_from = end - timedelta(weeks=26)
    assert watch_from - start >= CONFIG.shifts.thresholds.lookback - timedelta(days=1)
    rounds = replay(store, watch_from, end)
    assert rounds == 26 * 7 * 24 + 1  # hourly, as after each cycle
    assert findings_between(store, None, None) == []
    assert store.alert_counts() == {}


def test_injected_surge_fires_exactly_one_volume_finding_and_ends(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    end = end_of_history()
    surge_at = end - timedelta(days=2)
    # five quiet weeks, then 14 stories within three hours, then quiet again
    build_history(sqlite_store, [Phase(days=35, per_day=2.0)], seed=3, end=surge_at)
    build_history(
        sqlite_store, [Phase(days=3 / 24, per_day=14 * 8)], seed=4, end=surge_at + timedelta(hours=3)
    )
    build_history(sqlite_store, [Phase(days=2 - 3 / 24, per_day=2.0)], seed=5, end=end)
    replay(sqlite_store, surge_at - timedelta(days=1), end, slack=slack)
    findings = findings_between(sqlite_store, None, None)
    assert [f.finding.kind for f in findings] == ["volume"]
    [volume] = findings
    assert volume.finding.count >= 10 and volume.finding.expected < 1
    assert volume.ended_at is not None  # the window moved past the surge
    [post] = slack.posts("#comms")
    assert post.text.startswith("Coverage surge:")
    [note] = slack.replies(post.ts)
    assert note.text.startswith("Ended:")


def test_frame_share_from_20_to_50_percent_fires_one_shift_and_an_ended_note_when_it_returns(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    start, end, _ = build_history(
        sqlite_store,
        [
            Phase(days=35, per_day=6.0, sovereignty=0.2),
            Phase(days=7, per_day=6.0, sovereignty=0.5),
            Phase(days=14, per_day=6.0, sovereignty=0.2),
        ],
        seed=11,
    )
    replay(sqlite_store, start + timedelta(days=35), end, slack=slack)
    findings = findings_between(sqlite_store, None, None)
    assert [(f.finding.kind, f.finding.key) for f in findings] == [
        ("frame_shift", "frame_shift:sovereignty_framing:up")
    ]
    shift = findings[0]
    assert shift.finding.share_before == pytest.approx(0.2, abs=0.07)
    assert shift.finding.share_now >= 0.4 and shift.finding.total >= 20
    assert shift.ended_at is not None
    [post] = slack.posts("#comms")
    assert post.text.startswith("Sovereignty framing up from ")
    assert "of stories this week (n=" in post.text
    blocks = "\n".join(b.get("text", {}).get("text", "") for b in post.blocks if b.get("text"))
    assert "https://news.example.org/" in blocks  # the stories carrying it, as links
    footer = post.blocks[-1]["elements"][0]["text"]
    assert "<https://archive.example.org/trends?from=" in footer and "bucket=day" in footer
    [note] = slack.replies(post.ts)
    assert note.text.startswith("Ended: The frame's share is back in range")


def test_small_counts_never_fire(sqlite_store: Store, slack: LocalSlack) -> None:
    # a trickle for five weeks, then a week where every story is sovereignty-framed and
    # four stories land within the hour: striking shares and bursts, too few stories to mean much
    start, end, _ = build_history(
        sqlite_store,
        [Phase(days=35, per_day=0.5, sovereignty=0.0), Phase(days=7, per_day=1.0, sovereignty=1.0)],
        seed=9,
    )
    build_history(sqlite_store, [Phase(days=1 / 24, per_day=4 * 24 * 1.5, sovereignty=1.0)], seed=10, end=end)
    replay(sqlite_store, start + timedelta(days=35), end, slack=slack)
    assert findings_between(sqlite_store, None, None) == []
    assert slack.posts() == []


def test_a_second_cycle_does_not_post_a_persisting_finding_again(store: Store, slack: LocalSlack) -> None:
    _, end, _ = build_history(
        store,
        [Phase(days=35, per_day=5.0, sovereignty=0.15), Phase(days=7, per_day=6.0, sovereignty=0.6)],
        seed=4,
    )
    sender = SlackSender(make_client("xoxb-test", slack.api_url))
    first = check_shifts(store, CONFIG, now=end)
    assert len(first.opened) == 1 and first.opened[0].startswith("Sovereignty framing up from")
    assert relay_alerts(store, sender, channel_interval=0.0).sent == 1
    second = check_shifts(store, CONFIG, now=end + timedelta(minutes=10))
    assert second.opened == () and second.ended == 0
    assert relay_alerts(store, sender, channel_interval=0.0).sent == 0
    assert len(slack.posts("#comms")) == 1
    assert len(findings_between(store, None, None)) == 1


def test_copies_of_one_story_count_once(sqlite_store: Store) -> None:
    end = end_of_history()
    build_history(sqlite_store, [Phase(days=35, per_day=2.0)], seed=21, end=end - timedelta(hours=3))
    # four stories within the last three hours, each carried by eight outlets: 32 articles
    feed = add_feed(sqlite_store, "https://feeds.example.org/wire", name="Wire")
    for story in range(4):
        text = f"wire story {story} " + " ".join(WORDS[(story * 7 + i) % len(WORDS)] for i in range(90))
        for copy in range(8):
            stored_article(
                sqlite_store,
                feed,
                title=f"Wire story {story}",
                text=text,
                url=f"https://news.example.org/wire-{story}-{copy}",
                channels=(),
                published=end - timedelta(hours=2, minutes=-story * 10 - copy),
                outlet=f"Outlet {copy}",
            )
    timeline = Timeline(group_stories(article_points(sqlite_store, end - timedelta(days=40), end)))
    recent = timeline.between(end - timedelta(hours=6), end)
    assert len(recent) == 4
    assert all(len(s.outlets) == 8 for s in recent)
    check = check_volume(timeline, end, ShiftThresholds())
    assert check.finding is None  # four stories are under the minimum; 32 articles would not be


def test_analyst_corrections_win_over_the_model_in_the_counts(sqlite_store: Store) -> None:
    end = end_of_history()
    build_history(sqlite_store, [Phase(days=2, per_day=3.0, sovereignty=0.0)], seed=31, end=end)
    points = article_points(sqlite_store, end - timedelta(days=3), end)
    target = points[0].article_id
    sqlite_store.add_label(target, "sovereignty_framing", True, source="ui", who="ana")
    after = {p.article_id: p for p in article_points(sqlite_store, end - timedelta(days=3), end)}
    assert "sovereignty_framing" in after[target].frames
    sqlite_store.add_label(target, "relevant", False, source="ui", who="ana")
    assert target not in {p.article_id for p in article_points(sqlite_store, end - timedelta(days=3), end)}


# ------------------------------------------------------------------------------ the statistics
def test_surge_tail_is_wider_when_the_baseline_is_bursty() -> None:
    steady, bursty = [1] * 28, [0] * 21 + [4] * 7
    assert sum(steady) == sum(bursty)
    assert surge_p_value(8, steady) < 1e-4 < surge_p_value(8, bursty)
    assert surge_p_value(0, steady) == 1.0


def test_share_p_values_reflect_direction_and_sample_size() -> None:
    up, down = share_p_values(19, 37, 30, 150)  # 51% this week against 20%
    assert up < 1e-3 and down > 0.99
    assert share_p_values(5, 10, 30, 150)[0] > 0.01  # same jump on ten stories: not enough


def test_frame_share_needs_enough_stories_on_both_sides() -> None:
    timeline = Timeline([])
    now = end_of_history()
    checks = check_frame_shares(timeline, now, ShiftThresholds())
    assert {c.key for c in checks} == {
        "frame_shift:pro_city_inclusion:up",
        "frame_shift:pro_city_inclusion:down",
        "frame_shift:sovereignty_framing:up",
        "frame_shift:sovereignty_framing:down",
    }
    assert not any(c.holds or c.finding for c in checks)


def test_a_frame_new_to_an_outlet_and_a_language_is_a_spread_that_ends_silently(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    end = end_of_history()
    feed = add_feed(sqlite_store, "https://feeds.example.org/mixed", name="Mixed")
    n = 0

    def story(when: datetime, outlet: str, language: str, sovereignty: bool) -> None:
        nonlocal n
        n += 1
        cls = replace(classification(sovereignty=sovereignty), language=language)
        stored_article(sqlite_store, feed, title=f"Spread story {n}", url=f"https://news.example.org/sp{n}",
                       cls=cls, channels=(), published=when, outlet=outlet)  # fmt: skip

    # a month: half the Harbour Herald's stories carry the frame (a third of all coverage);
    # Le Veilleur, in French, ran 28 without it: had it followed the overall share, the odds
    # of that were (2/3)^28, about 1 in 100,000
    for day in range(30, 0, -1):
        base = end - timedelta(days=day)
        story(base + timedelta(hours=8), "Harbour Herald", "en", sovereignty=True)
        story(base + timedelta(hours=14), "Harbour Herald", "en", sovereignty=False)
        story(base + timedelta(hours=10), "Le Veilleur", "fr", sovereignty=False)
    story(end - timedelta(hours=2), "Le Veilleur", "fr", sovereignty=True)
    sender = SlackSender(make_client("xoxb-test", slack.api_url))
    report = check_shifts(sqlite_store, CONFIG, now=end)
    assert sorted(report.opened) == [
        "Sovereignty framing appears in Le Veilleur for the first time in 28 days (28 stories without it)",
        "Sovereignty framing appears in fr coverage for the first time in 28 days (28 stories without it)",
    ]
    relay_alerts(sqlite_store, sender, channel_interval=0.0)
    assert len(slack.posts("#comms")) == 2
    later = check_shifts(sqlite_store, CONFIG, now=end + timedelta(hours=23))
    assert later.opened == () and later.ended == 2  # out of its 24-hour window
    relay_alerts(sqlite_store, sender, channel_interval=0.0)
    assert all(slack.replies(post.ts) == [] for post in slack.posts("#comms"))  # no "ended" note
