"""Hostile titles and site names never ping or mislead a Slack channel, in any message kind.

The attack: a feed title or an `og:site_name` holding `<!channel>`, `<!here>`, `<@U123>` or
`<https://evil|label>` went raw into the message's top-level `text` (what Slack shows in
push notifications, the channel list and to screen readers), pinging the whole channel.
Each message kind is sent through the real slack-sdk client to the local Slack Web API, and
every string Slack received is checked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import update
from starlette.applications import Starlette

from alerts.feed_health import check_feed_health
from alerts.interactivity import slack_actions_route
from alerts.local_slack import LocalSlack
from alerts.relay import ConsoleSender, SlackSender, relay_alerts
from alerts.routing import AlertsConfig, BurstPolicy, Route
from alerts.slack import make_client
from pipeline.localserver import LocalServer
from pipeline.records import FeedHealth, PollResult
from pipeline.store import Store
from pipeline.store.tables import ArticleRow
from tests.factories import add_feed, classification, stored_article
from tests.test_alert_delivery import SECRET, WIRE, _signed

HOSTILE_TITLE = "<!channel> <!here> <@U123> <https://evil.example/login|Read the memo> & <#C42>"
HOSTILE_SITE = "<!everyone> Gazette <@U999> <https://evil.example|Official>"
LIVE_TOKENS = ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<@U999>", "<#C42>", "<https://evil")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def assert_nothing_live(slack: LocalSlack) -> list[str]:
    """Every string of every Web API call Slack received: no live mention or foreign link."""
    methods = []
    for method, payload in slack.calls:
        for text in _strings(payload):
            for token in LIVE_TOKENS:
                assert token not in text, f"{method} carried {token!r}: {text!r}"
        methods.append(method)
    return methods


def relay(store: Store, slack: LocalSlack, **kw: Any):  # type: ignore[no-untyped-def]
    sender = SlackSender(make_client("xoxb-test", slack.api_url))
    return relay_alerts(store, sender, channel_interval=0.0, sleep=lambda _s: None, **kw)


def _hostile_copies(store: Store, feed: int, frames: list[dict[str, bool]]) -> list[int]:
    """The same wire story from several outlets, each with a hostile site name."""
    ids = [
        stored_article(
            store,
            feed,
            title=HOSTILE_TITLE,
            text=WIRE + (f" Copy {i}." if i else ""),
            url=f"https://outlet{i}.example/story",
            cls=classification(**frames[i]),  # type: ignore[arg-type]
            outlet=f"{HOSTILE_SITE} {i}",
        )
        for i in range(len(frames))
    ]
    with store.writing() as session:
        for i, article_id in enumerate(ids):
            session.execute(
                update(ArticleRow).where(ArticleRow.id == article_id).values(outlet=f"{HOSTILE_SITE} {i}")
            )
    return ids


def test_hostile_title_and_site_name_are_escaped_in_the_notification_text_and_blocks(
    store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed, title=HOSTILE_TITLE, url="https://news.example.org/a", outlet=HOSTILE_SITE)
    assert relay(store, slack).sent == 1
    [message] = slack.posts()
    assert "&lt;!channel&gt;" in message.text and "&lt;@U123&gt;" in message.text
    assert "&lt;!everyone&gt; Gazette" in message.text
    assert assert_nothing_live(slack) == ["chat.postMessage"]


def test_story_update_and_frame_reply_with_hostile_outlets_are_escaped(
    store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    _hostile_copies(store, feed, [{"city": True}])
    relay(store, slack)
    _hostile_copies(store, feed, [{"city": True}, {"city": True}, {"city": True, "sovereignty": True}])
    report = relay(store, slack)
    assert report.updated >= 1  # the first message was edited ("also in ...")
    [message] = slack.posts()
    assert message.updates and slack.replies(message.ts)  # an edit and a thread reply happened
    methods = assert_nothing_live(slack)
    assert {"chat.postMessage", "chat.update"} <= set(methods)


def test_burst_summary_of_hostile_titles_is_escaped(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    for i in range(6):
        stored_article(store, feed, title=f"{HOSTILE_TITLE} {i}", outlet=HOSTILE_SITE)
    report = relay(store, slack, burst=BurstPolicy(max_messages=3, window_seconds=60))
    assert report.summarised == 6
    assert assert_nothing_live(slack) == ["chat.postMessage"]


def test_feed_health_warning_with_a_hostile_reason_is_escaped(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://flaky.example/rss", "Flaky <!here>")
    config = AlertsConfig(routes=(Route("r", "#alerts"),), ops_channel="#ops", feed_failing_hours=6)
    when = datetime.now(UTC) - timedelta(hours=8)
    for hour in range(4):
        state = store.feed("Flaky <!here>")[1]  # type: ignore[index]
        store.record_poll(
            feed,
            PollResult(status="failed", error=HOSTILE_TITLE),
            FeedHealth(
                status="failing",
                last_attempt_at=when + timedelta(hours=hour),
                last_success_at=None,
                consecutive_failures=state.consecutive_failures + 1,
                last_error=HOSTILE_TITLE,
                next_due_at=when + timedelta(hours=hour, minutes=30),
            ),
        )
    assert check_feed_health(store, config) == 1
    relay(store, slack)
    [warning] = slack.posts("#ops")
    assert "&lt;!here&gt;" in warning.text
    assert_nothing_live(slack)


def test_message_refreshed_after_a_button_click_is_escaped(sqlite_store: Store, slack: LocalSlack) -> None:
    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    article = stored_article(sqlite_store, feed, title=HOSTILE_TITLE, outlet=HOSTILE_SITE)
    payload = {
        "type": "block_actions",
        "user": {"id": "U42", "username": "maria"},
        "channel": {"id": "C1"},
        "container": {"message_ts": "1.1"},
        "actions": [
            {"action_id": "cw:relevant:0", "value": f"1:{article}:relevant:0", "action_ts": "1700000000.2"}
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    app = Starlette(
        routes=[slack_actions_route(sqlite_store, SECRET, lambda: make_client("xoxb-test", slack.api_url))]
    )

    async def click() -> int:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.post("/slack/actions", content=body, headers=_signed(body))).status_code

    assert asyncio.run(click()) == 200
    assert assert_nothing_live(slack) == ["chat.update"]


def test_console_alert_line_shows_hostile_text_plainly_without_terminal_control(sqlite_store: Store) -> None:
    from io import StringIO

    from rich.console import Console

    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    stored_article(
        sqlite_store,
        feed,
        title="Pact [bold]row[/bold] \x1b[2J\x1b]0;owned\x07 <!here>",
        outlet="Wire\x1b[31m",
    )
    out = StringIO()
    sender = ConsoleSender(Console(file=out, force_terminal=True, color_system="standard", width=300))
    relay_alerts(sqlite_store, sender, channel_interval=0.0, sleep=lambda _s: None)
    shown = out.getvalue()
    assert "\x1b[2J" not in shown and "\x1b]0;" not in shown and "\x07" not in shown
    assert "\\x1b[2J" in shown  # visible, inert
    assert "[bold]row[/bold]" in shown  # rich markup in a title is printed, not interpreted
    assert "<!here>" in shown  # the console shows the title as written, not Slack-escaped


def test_guard_escapes_any_mention_a_builder_might_miss() -> None:
    from alerts.slack import guard_message

    sent = guard_message(
        {
            "text": "raw <!channel> and already &lt;!here&gt;",
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "<@U1> <https://ok.example|ok>"}}
            ],
            "attachments": [{"fallback": "<!here>", "text": "<!channel>"}],
        }
    )
    assert sent["text"] == "raw &lt;!channel&gt; and already &lt;!here&gt;"
    assert sent["blocks"][0]["text"]["text"] == "&lt;@U1&gt; <https://ok.example|ok>"
    assert sent["attachments"] == [{"fallback": "&lt;!here&gt;", "text": "&lt;!channel&gt;"}]


# ---------------------------------------------------------------------------- small defects
MALFORMED = [
    "[1,2]",
    '"just a string"',
    '{"type": "block_actions", "actions": "not a list"}',
    '{"type": "block_actions", "user": "U1", "actions": [{"value": "1:1:relevant:0"}]}',
    '{"type": "block_actions", "actions": [1, 2]}',
    "{not json",
]


def test_signed_but_malformed_slack_payload_is_refused_with_400_and_stores_nothing(
    sqlite_store: Store,
) -> None:
    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    article = stored_article(sqlite_store, feed)
    app = Starlette(routes=[slack_actions_route(sqlite_store, SECRET, None)])

    async def post(body: bytes) -> int:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return (await client.post("/slack/actions", content=body, headers=_signed(body))).status_code

    for raw in MALFORMED:
        body = urlencode({"payload": raw}).encode()
        assert asyncio.run(post(body)) == 400, raw
    assert sqlite_store.label_history(article) == []


def test_page_refused_as_a_private_address_is_never_linked_in_alerts_digest_or_archive(
    sqlite_store: Store, slack: LocalSlack, site: LocalServer
) -> None:
    from alerts.digest import Period, build_digest
    from pipeline.fetcher import FetchOptions, GuardedFetcher
    from pipeline.orchestrator import process_article, single_channel
    from pipeline.records import FeedEntry
    from tests.test_archive_support import logged_in

    internal = site.url("/admin/secret-report")  # what a feed entry pointed at: loopback
    site.route("/admin/secret-report", body="<html><body>internal</body></html>", content_type="text/html")
    feed_id = add_feed(sqlite_store, "https://feeds.example.org/rss", "Wire")
    feed, _state = sqlite_store.feed("Wire")  # type: ignore[misc]
    entry = FeedEntry(
        link=internal,
        title="Mayors ask for a seat at the migration compact review",
        summary="Mayors asked for a formal role in the review of the global compact for migration.",
        published=datetime.now(UTC),
    )
    fetcher = GuardedFetcher(FetchOptions(allow_private_networks=False, timeout=5.0))
    try:
        saved = process_article(
            fetcher, sqlite_store, lambda pairs: [classification() for _ in pairs],
            single_channel("#alerts"), feed, feed_id, internal, entry,
        )  # fmt: skip
    finally:
        fetcher.close()
    assert site.requests == []  # refused before connecting
    stored = sqlite_store.article(saved.article_id)
    assert stored is not None and stored.link_refused and stored.url == internal

    relay(sqlite_store, slack)
    [message] = slack.posts()
    assert not any(internal in text for text in _strings(slack.calls[0][1]))
    assert "Mayors ask for a seat" in message.blocks[0]["text"]["text"]

    today = datetime.now(UTC).date().isocalendar()
    digest = build_digest(sqlite_store, Period.iso_week(f"{today.year}-W{today.week:02d}"), "UTC")
    assert "Mayors ask for a seat" in repr(digest) and internal not in repr(digest)

    page = logged_in(sqlite_store).get(f"/articles/{saved.article_id}").text
    assert f'href="{internal}"' not in page

    from pipeline.store.shift_queries import article_points  # the stories shift alerts link

    points = article_points(sqlite_store, datetime.now(UTC) - timedelta(days=1), datetime.now(UTC))
    assert [p.title for p in points] == ["Mayors ask for a seat at the migration compact review"]
    assert all(internal not in p.url for p in points)
