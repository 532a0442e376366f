"""Every alert out: `once` empties the outbox batch after batch, the summary counts alerts
delivered in burst summaries, and `run`'s relay is woken by a commit instead of its timer.

Slack is alerts.local_slack behind the real slack-sdk client; the store is real SQLite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import yaml

from alerts.local_slack import Failure, LocalSlack
from alerts.relay import RelayReport, SlackSender, relay_alerts
from alerts.relay_loop import RelayLoop, relay_until_done
from alerts.routing import BurstPolicy
from alerts.slack import make_client
from pipeline.localserver import LocalServer
from pipeline.store import Store, open_store
from tests.conftest import REPO
from tests.factories import add_feed, rss, stored_article


def sender(slack: LocalSlack) -> SlackSender:
    return SlackSender(make_client("xoxb-test", slack.api_url))


def test_relaying_until_done_delivers_more_than_one_batch_one_by_one(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    for _ in range(73):
        stored_article(sqlite_store, feed)

    def one_pass(last_post: dict[str, float]) -> RelayReport:
        return relay_alerts(sqlite_store, sender(slack), channel_interval=0.0, last_post=last_post)

    report = relay_until_done(one_pass, sqlite_store)
    assert report.sent == report.delivered == 73
    assert len(slack.posts()) == 73
    assert sqlite_store.alert_counts() == {"sent": 73}


def test_relaying_until_done_waits_out_a_short_rate_limit_when_allowed_to_linger(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    for _ in range(3):
        stored_article(sqlite_store, feed)
    slack.fail_next("chat.postMessage", Failure("ratelimited", retry_after=1))
    naps: list[float] = []

    def nap(seconds: float) -> None:
        naps.append(seconds)
        threading.Event().wait(seconds)

    def one_pass(last_post: dict[str, float]) -> RelayReport:
        return relay_alerts(sqlite_store, sender(slack), channel_interval=0.0, last_post=last_post)

    report = relay_until_done(one_pass, sqlite_store, linger=30.0, sleep=nap)
    # The 429 held the channel (nothing overtook the first alert); the relay waited for the
    # Retry-After instead of leaving the alerts for the next run, and then sent all three.
    assert report.rescheduled >= 1 and naps
    assert report.delivered == 3 and sqlite_store.alert_counts() == {"sent": 3}
    assert len(slack.posts()) == 3


def test_summary_count_includes_alerts_delivered_in_burst_summaries(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    for _ in range(60):
        stored_article(sqlite_store, feed)

    def one_pass(last_post: dict[str, float]) -> RelayReport:
        return relay_alerts(
            sqlite_store,
            sender(slack),
            channel_interval=0.0,
            burst=BurstPolicy(max_messages=5, window_seconds=120),
            last_post=last_post,
        )

    report = relay_until_done(one_pass, sqlite_store)
    assert report.sent == 0 and report.summarised == 60
    assert report.delivered == 60
    assert [p.text for p in slack.posts()] == [
        "50 new stories on the migration compacts",
        "10 new stories on the migration compacts",
    ]


def test_once_with_more_than_50_pending_alerts_delivers_them_all_and_counts_them(
    tmp_path: Path, site: LocalServer, slack: LocalSlack
) -> None:
    db_url = f"sqlite:///{tmp_path}/once.db"
    site.route("/feed", body=rss(site.base_url, []), content_type="application/rss+xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"name": "Quiet", "url": site.url("/feed")}]}))
    store = open_store(db_url)
    feed = add_feed(store, site.url("/feed"), name="Quiet")
    for _ in range(85):
        stored_article(store, feed, channels=("#compactwatch",))
    store.close()
    env = {
        **os.environ,
        "COMPACTWATCH_FEEDS": str(feeds),
        "DATABASE_URL": db_url,
        "COMPACTWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_API_URL": slack.api_url,
        "COMPACTWATCH_LOG_LEVEL": "WARNING",
        "COLUMNS": "200",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "once"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # The default burst policy summarises: 50 in the first batch, 35 in the second.
    assert sorted(p.text for p in slack.posts()) == [
        "35 new stories on the migration compacts",
        "50 new stories on the migration compacts",
    ]
    after = open_store(db_url)
    assert after.alert_counts() == {"sent": 85}
    after.close()
    assert _count(result.stdout, "alerts sent") == 85
    assert _count(result.stdout, "pending") == 0


def _count(stdout: str, label: str) -> int:
    """The number printed in the summary table's cell right after `label`."""
    found = re.search(re.escape(label) + r"\s*[│┃|]?\s*(\d+)", stdout)
    assert found, stdout
    return int(found.group(1))


def test_run_relay_is_woken_by_a_commit_not_only_by_its_timer() -> None:
    relayed = threading.Event()
    loop = RelayLoop(relayed.set, interval=3600.0, settle=0.0).start()  # the timer never fires
    try:
        loop.wake()
        assert relayed.wait(30)
    finally:
        loop.stop()
    assert loop.passes == 1
