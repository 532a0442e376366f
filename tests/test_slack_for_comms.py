"""Slack alerts read right for a comms team: no raw scores unless a route asks, times in
each reader's zone, a way into the archive, and a channel that reads in order."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from alerts.local_slack import LocalSlack
from alerts.relay import SlackSender, relay_alerts
from alerts.routing import AlertsConfig, Route, alert_styles
from alerts.slack import AlertStyle, make_client, slack_date
from pipeline.store import Store
from pipeline.store.tables import ArticleRow
from tests.factories import add_feed, stored_article

ARCHIVE = "https://archive.example.org/cw"


def relay(store: Store, slack: LocalSlack, **options: Any):  # type: ignore[no-untyped-def]
    sender = SlackSender(make_client("xoxb-t", slack.api_url))
    return relay_alerts(store, sender, channel_interval=0.0, sleep=lambda _s: None, **options)


def everything_said(message: Any) -> str:
    """Every string in the message's blocks (texts, button labels, urls)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.append(node)

    walk(message.blocks)
    return "\n".join([message.text, *found])


def test_comms_channels_get_no_raw_scores_or_model_version_but_analyst_routes_do(
    store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed, title="Mayors ask for a seat", channels=("#comms", "#analysts"))
    config = AlertsConfig(routes=(Route("comms", "#comms"), Route("analysts", "#analysts", show_scores=True)))
    report = relay(store, slack, style=alert_styles(config, None))
    assert report.sent == 2
    comms = everything_said(slack.posts("#comms")[0])
    analysts = everything_said(slack.posts("#analysts")[0])
    assert not re.search(r"\b0\.\d\d\b", comms) and "relevance" not in comms and "model" not in comms
    assert re.search(r"relevance 0\.\d\d", analysts) and "model test-model" in analysts


def test_alert_time_is_a_slack_date_token_each_reader_sees_in_local_time(
    store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed)
    relay(store, slack)
    said = everything_said(slack.posts()[0])
    token = re.search(
        r"<!date\^(\d+)\^\{date_short_pretty\} at \{time\}\|(\d\d \w{3} \d{4} \d\d:\d\d UTC)>", said
    )
    assert token, said
    when = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    assert (
        slack_date(when)
        == f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|20 Nov 2026 09:30 UTC>"
    )


def test_open_in_archive_button_links_the_articles_page_when_the_archive_url_is_set(
    store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    article_id = stored_article(store, feed)
    relay(store, slack, style=lambda _channel: AlertStyle(archive_url=ARCHIVE + "/"))
    buttons = [
        element
        for block in slack.posts()[0].blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]
    assert buttons[0]["text"]["text"] == "Open in archive"
    assert buttons[0]["url"] == f"{ARCHIVE}/articles/{article_id}"
    assert AlertStyle(archive_url="javascript:alert(1)").article_link(1) is None


def test_alerts_within_one_relay_run_go_out_oldest_first(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    now = datetime.now(UTC)
    ages = {"Newest story": 1, "Oldest story": 30, "Middle story": 8}  # hours before now
    for title, hours in ages.items():
        article_id = stored_article(store, feed, title=title)
        with store.writing() as session:
            session.execute(
                update(ArticleRow)
                .where(ArticleRow.id == article_id)
                .values(published_at=now - timedelta(hours=hours))
            )
    relay(store, slack)
    order = [p.blocks[0]["text"]["text"] for p in slack.posts()]
    assert [next(t for t in ages if t in line) for line in order] == [
        "Oldest story",
        "Middle story",
        "Newest story",
    ]
