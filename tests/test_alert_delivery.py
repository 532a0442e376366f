"""Slack alerts a comms team keeps switched on: routing, one alert per story, bursts,
feedback buttons, broken-feed warnings and delivery guarantees."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from starlette.applications import Starlette

from alerts.feed_health import check_feed_health
from alerts.interactivity import slack_actions_route, verify_slack_signature
from alerts.local_slack import Failure, LocalSlack
from alerts.relay import SlackSender, relay_alerts
from alerts.routing import (
    AlertsConfig,
    BurstPolicy,
    Route,
    RoutingInput,
    default_config,
    load_alerts_config,
    route_article,
)
from alerts.slack import make_client
from pipeline.errors import ConfigError
from pipeline.records import FeedHealth, PollResult
from pipeline.store import Store
from tests.conftest import REPO
from tests.factories import add_feed, classification, stored_article

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
WIRE = (
    "GENEVA (Wire) - Local governments from five continents asked on Thursday to be given a formal role in the "
    "next review of the Global Compact for Migration, saying national capitals too often report on promises "
    "that cities carry out. The appeal was signed by the mayors of Freetown, Montreal, Milan and Kampala, "
    "among others, and delivered to the president of the General Assembly ahead of the review forum. "
    "Diplomats said several governments were sympathetic but that the format of the forum would be decided "
    "by member states. The compact, adopted in Marrakech in 2018, is not legally binding."
)


def relay(store: Store, slack: LocalSlack, **kw):  # type: ignore[no-untyped-def]
    return relay_alerts(
        store,
        SlackSender(make_client("xoxb-test", slack.api_url)),
        channel_interval=0.0,
        sleep=lambda _s: None,
        **kw,
    )


# ---------------------------------------------------------------------------- routing
ITEM = RoutingInput(
    feed_name="Wire", feed_tags=("press",), language="en", title="Mayors want a seat",
    text="The mayor of Milan spoke.", relevant=True, relevance=0.8,
    frames={"pro_city_inclusion": True, "sovereignty_framing": False},
)  # fmt: skip


@pytest.mark.parametrize(
    ("route", "item_changes", "matches"),
    [
        (Route("r", "#c"), {}, True),
        (Route("r", "#c"), {"relevant": False}, False),
        (Route("r", "#c", frames_any=("pro_city_inclusion",)), {}, True),
        (Route("r", "#c", frames_any=("sovereignty_framing",)), {}, False),
        (Route("r", "#c", frames_all=("pro_city_inclusion", "sovereignty_framing")), {}, False),
        (
            Route("r", "#c", frames_all=("pro_city_inclusion", "sovereignty_framing")),
            {"frames": {"pro_city_inclusion": True, "sovereignty_framing": True}},
            True,
        ),
        (Route("r", "#c", min_relevance=0.9), {}, False),
        (Route("r", "#c", feed_tags=("press",)), {}, True),
        (Route("r", "#c", feed_tags=("un",)), {}, False),
        (Route("r", "#c", feeds=("Wire",)), {}, True),
        (Route("r", "#c", languages=("fr", "es")), {}, False),
        (Route("r", "#c", languages=("en",)), {}, True),
        (Route("r", "#c", keywords=("milan",)), {}, True),
        (Route("r", "#c", keywords=("geneva",)), {}, False),
    ],
)
def test_routing_matrix(route: Route, item_changes: dict, matches: bool) -> None:  # type: ignore[type-arg]
    from dataclasses import replace

    [decision] = route_article(AlertsConfig(routes=(route,)), replace(ITEM, **item_changes))
    assert decision.matched is matches
    assert decision.reasons and all(r[0] in "✓✗" for r in decision.reasons)


def test_one_article_can_match_several_routes_and_digest_only_routes_are_not_posted(tmp_path: Path) -> None:
    from alerts.routing import alert_targets
    from pipeline.records import FeedConfig

    config = AlertsConfig(
        routes=(
            Route("all", "#all"),
            Route("cities", "#cities", frames_any=("pro_city_inclusion",)),
            Route("dir", "", digest_only=True),
        )
    )
    targets = alert_targets(config)(
        FeedConfig("Wire", "https://w.example/rss"), "t", "x", classification(city=True)
    )
    assert [t.channel for t in targets] == ["#all", "#cities"]


def test_quiet_hours_hold_the_alert_until_the_window_ends() -> None:
    config = load_alerts_config(
        _routes_file("quiet_hours: {start: '22:00', end: '07:00', timezone: Europe/Brussels}"), "#x"
    )
    [decision] = route_article(config, ITEM, now=datetime(2026, 11, 23, 23, 30, tzinfo=UTC))
    assert decision.matched and decision.not_before == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    [daytime] = route_article(config, ITEM, now=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    assert daytime.not_before is None


def _routes_file(extra: str = "", *, tmp: list[Path] = []) -> Path:  # noqa: B006
    import tempfile

    path = Path(tempfile.mkdtemp()) / "alerts.yaml"
    path.write_text(f"alerts:\n  routes:\n    - name: team\n      channel: '#team'\n      {extra}\n")
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("frames_any: [pro_city]", "unknown frame 'pro_city'"),
        ("min_relevance: 2", "min_relevance must be a number from 0 to 1"),
        ("colour: red", "unknown route key 'colour'"),
        (
            "quiet_hours: {start: '25:00', end: '07:00', timezone: Europe/Brussels}",
            "quiet hours must look like 22:00",
        ),
        ("quiet_hours: {start: '22:00', end: '07:00', timezone: Mars/Olympus}", "unknown time zone"),
    ],
)
def test_bad_routes_file_fails_with_file_line_and_reason(extra: str, message: str) -> None:
    path = _routes_file(extra)
    with pytest.raises(ConfigError) as error:
        load_alerts_config(path, "#x")
    assert str(error.value).startswith(f"{path}:5:")
    assert message in str(error.value)


# ---------------------------------------------------------------------------- stories
OUTLETS = ["Wire Service", "City Desk Daily", "Policy Monthly", "Harbour Gazette", "Evening Courier"]


def _syndicate(store: Store, feed: int, n: int, *, frames: list[dict] | None = None) -> list[int]:  # type: ignore[type-arg]
    ids = []
    for i in range(n):
        text = (
            WIRE
            if i == 0
            else f"{OUTLETS[i]} - "
            + WIRE.replace("Thursday", "Thursday,")
            + (" Share this story." if i % 2 else "")
        )
        cls = classification(**(frames[i] if frames else {"city": True}))
        ids.append(
            stored_article(
                store,
                feed,
                title="Cities ask for a role in migration compact review",
                text=text,
                url=f"https://outlet{i}.example/story",
                cls=cls,
            )
        )
    from sqlalchemy import update

    from pipeline.store.tables import ArticleRow

    with store.writing() as session:  # each copy comes from a different outlet
        for i, article_id in enumerate(ids):
            session.execute(update(ArticleRow).where(ArticleRow.id == article_id).values(outlet=OUTLETS[i]))
    return ids


def test_wire_story_in_five_outlets_gives_one_message_then_one_update(
    store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    first, *copies = _syndicate(store, feed, 1)
    relay(store, slack)
    copies = _syndicate(store, feed, 5)[1:]  # the same story arrives again from four outlets
    assert {store.article(c).story_id for c in copies} == {store.article(first).story_id}  # type: ignore[union-attr]
    report = relay(store, slack)
    [message] = slack.posts()
    assert report.updated >= 1
    last = message.updates[-1]
    also = [b for b in last["blocks"] if b["type"] == "context" and "also in" in b["elements"][0]["text"]]
    assert also and "City Desk Daily" in also[0]["elements"][0]["text"]
    assert "Evening Courier" in also[0]["elements"][0]["text"]
    assert len(slack.posts()) == 1
    stories = store.stories()
    assert stories and stories[0]["members"] >= 2


def test_later_copy_with_a_new_frame_gets_one_thread_reply(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    _syndicate(store, feed, 1, frames=[{"city": True}])
    relay(store, slack)
    _syndicate(
        store,
        feed,
        3,
        frames=[{"city": True}, {"city": True, "sovereignty": True}, {"city": True, "sovereignty": True}],
    )
    relay(store, slack)
    [message] = slack.posts()
    replies = slack.replies(message.ts)
    assert len(replies) == 1
    assert "sovereignty framing" in replies[0].text


def test_twenty_alerts_in_one_second_give_one_summary(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    for _ in range(20):
        stored_article(store, feed)
    report = relay(store, slack, burst=BurstPolicy(max_messages=5, window_seconds=60))
    [summary] = slack.posts()
    assert report.summarised == 20
    assert "20 new stories" in summary.text
    assert sum(b["text"]["text"].count("•") for b in summary.blocks if b["type"] == "section") == 20
    assert {a["status"] for a in store.alerts()} == {"sent"}


def test_a_few_alerts_are_posted_one_by_one(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    for _ in range(3):
        stored_article(store, feed)
    relay(store, slack, burst=BurstPolicy(max_messages=5, window_seconds=60))
    assert len(slack.posts()) == 3


# ---------------------------------------------------------------------------- feedback buttons
def _signed(body: bytes, *, secret: str = SECRET, age: int = 0) -> dict[str, str]:
    ts = str(int(time.time()) - age)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sig,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def _click(alert_id: int, article_id: int, label: str, value: bool, action_ts: str = "1700000000.1") -> bytes:
    payload = {
        "type": "block_actions",
        "user": {"id": "U42", "username": "maria"},
        "channel": {"id": "C1"},
        "container": {"message_ts": "1.1"},
        "actions": [
            {
                "action_id": f"cw:{label}:{int(value)}",
                "value": f"{alert_id}:{article_id}:{label}:{int(value)}",
                "action_ts": action_ts,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def _app(store: Store, slack: LocalSlack | None = None) -> httpx.Client:
    factory = (lambda: make_client("xoxb-test", slack.api_url)) if slack else None
    app = Starlette(routes=[slack_actions_route(store, SECRET, factory)])
    return httpx.Client(transport=httpx.ASGITransport(app=app), base_url="http://testserver")  # type: ignore[arg-type]


@pytest.mark.anyio
@pytest.mark.parametrize("headers", ["missing", "bad", "stale"])
def test_unsigned_bad_or_stale_click_is_refused_and_records_nothing(
    sqlite_store: Store, headers: str
) -> None:
    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    article = stored_article(sqlite_store, feed)
    body = _click(1, article, "relevant", False)
    sent = {"missing": {}, "bad": _signed(body, secret="wrong"), "stale": _signed(body, age=301)}[headers]
    import asyncio

    async def go() -> int:
        factory = None
        app = Starlette(routes=[slack_actions_route(sqlite_store, SECRET, factory)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return (await client.post("/slack/actions", content=body, headers=sent)).status_code

    assert asyncio.run(go()) == 401
    assert sqlite_store.label_history(article) == []


def test_click_records_an_analyst_label_and_updates_the_message(
    sqlite_store: Store, slack: LocalSlack
) -> None:
    import asyncio

    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    article = stored_article(sqlite_store, feed)
    relay(sqlite_store, slack)
    message = slack.posts()[0]
    body = _click(1, article, "sovereignty_framing", True)
    payload = json.loads(__import__("urllib.parse").parse.parse_qs(body.decode())["payload"][0])
    payload["channel"]["id"], payload["container"]["message_ts"] = message.channel, message.ts
    body = urlencode({"payload": json.dumps(payload)}).encode()

    async def go() -> int:
        app = Starlette(
            routes=[
                slack_actions_route(sqlite_store, SECRET, lambda: make_client("xoxb-test", slack.api_url))
            ]
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return (await client.post("/slack/actions", content=body, headers=_signed(body))).status_code

    assert asyncio.run(go()) == 200
    [label] = sqlite_store.label_history(article)
    assert label["who"] == "slack:maria" and label["value"] is True and label["alert_id"] == 1
    assert label["model_version"] == "test-model" and label["source"] == "slack"
    assert message.updates and "corrected by an analyst" in json.dumps(message.updates[-1]["blocks"])


def test_double_click_and_slack_retry_give_one_label(sqlite_store: Store) -> None:
    import asyncio

    feed = add_feed(sqlite_store, "https://feeds.example.org/rss")
    article = stored_article(sqlite_store, feed)
    first = _click(1, article, "relevant", False, action_ts="1.1")
    second = _click(1, article, "relevant", False, action_ts="1.2")

    async def go() -> list[int]:
        app = Starlette(routes=[slack_actions_route(sqlite_store, SECRET, None)])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            codes = []
            for body in (first, first, second):  # a retry of the first, then a second click
                codes.append(
                    (
                        await client.post(
                            "/slack/actions",
                            content=body,
                            headers={**_signed(body), "X-Slack-Retry-Num": "1"},
                        )
                    ).status_code
                )
            return codes

    assert asyncio.run(go()) == [200, 200, 200]
    assert len(sqlite_store.label_history(article)) == 1
    assert sqlite_store.analyst_labels()[0][2:] == ("relevant", False)


def test_signature_helper_accepts_only_fresh_correct_signatures() -> None:
    body = b"payload=x"
    h = _signed(body)
    assert verify_slack_signature(SECRET, h["X-Slack-Request-Timestamp"], h["X-Slack-Signature"], body)
    assert not verify_slack_signature(
        SECRET, h["X-Slack-Request-Timestamp"], h["X-Slack-Signature"], body + b"1"
    )


# ---------------------------------------------------------------------------- delivery
def test_two_relays_in_parallel_never_post_twice(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    for i in range(12):
        stored_article(store, feed, channels=(f"#c{i % 3}",))
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        relay(store, slack)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for _ in range(3):  # whatever one relay left waiting goes out on later passes
        from sqlalchemy import update

        from pipeline.store.tables import AlertRow

        with store.writing() as session:
            session.execute(
                update(AlertRow).where(AlertRow.status == "pending").values(next_attempt_at=datetime.now(UTC))
            )
        relay(store, slack)
    ids = [m.metadata["event_payload"]["alert_id"] for m in slack.posts()]  # type: ignore[index]
    assert len(ids) == 12 and len(set(ids)) == 12


def test_relay_killed_during_send_then_restarted_loses_nothing_and_posts_nothing_twice(
    tmp_path: Path, slack: LocalSlack
) -> None:
    from pipeline.store import open_store

    url = f"sqlite:///{tmp_path / 'relay.db'}"
    store = open_store(url)
    feed = add_feed(store, "https://feeds.example.org/rss")
    for _ in range(3):
        stored_article(store, feed)
    slack.fail_next("chat.postMessage", Failure("hang_after_accept"))
    child = subprocess.Popen([sys.executable, "-m", "tests.relay_child", url, slack.api_url], cwd=REPO)
    deadline = time.monotonic() + 60
    while not slack.posts() and time.monotonic() < deadline:
        time.sleep(0.05)
    child.kill()  # SIGKILL while Slack holds the accepted post
    child.wait(30)
    assert len(slack.posts()) == 1
    store.expire_leases(datetime.now(UTC) + timedelta(minutes=10))  # the dead relay's lease runs out
    report = relay(store, slack)
    assert report.reconciled == 1
    ids = [m.metadata["event_payload"]["alert_id"] for m in slack.posts()]  # type: ignore[index]
    assert sorted(ids) == [1, 2, 3]
    assert {a["status"] for a in store.alerts()} == {"sent"}


# ---------------------------------------------------------------------------- feed health
def _poll(store: Store, feed_id: int, ok: bool, when: datetime) -> None:
    result = PollResult(status="ok" if ok else "failed", error=None if ok else "HTTP 500")
    state = store.feed("Flaky")[1]  # type: ignore[index]
    health = FeedHealth(
        status="ok" if ok else "failing",
        last_attempt_at=when,
        last_success_at=when if ok else state.last_success_at,
        consecutive_failures=0 if ok else state.consecutive_failures + 1,
        last_error=None if ok else "HTTP 500",
        next_due_at=when + timedelta(minutes=30),
    )
    store.record_poll(feed_id, result, health)


def test_broken_feed_gives_exactly_one_warning_and_one_recovery(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://flaky.example/rss", "Flaky")
    config = AlertsConfig(routes=(Route("r", "#alerts"),), ops_channel="#ops", feed_failing_hours=6)
    start = datetime.now(UTC) - timedelta(hours=10)
    _poll(store, feed, True, start)
    for hour in range(1, 10):  # fails every hour for nine hours
        _poll(store, feed, False, start + timedelta(hours=hour))
        check_feed_health(store, config, now=start + timedelta(hours=hour))
        relay(store, slack)
    warnings = slack.posts("#ops")
    assert len(warnings) == 1 and "Flaky is failing" in warnings[0].text
    _poll(store, feed, True, datetime.now(UTC))
    for _ in range(3):
        check_feed_health(store, config)
        relay(store, slack)
    messages = [m.text for m in slack.posts("#ops")]
    assert len(messages) == 2 and "recovered" in messages[1]


def test_default_config_routes_everything_relevant_to_one_channel() -> None:
    config = default_config("#alerts")
    [decision] = route_article(config, ITEM)
    assert decision.matched and decision.route.channel == "#alerts"
