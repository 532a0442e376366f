"""Alerts through the real slack-sdk client against a local Slack Web API server."""

from __future__ import annotations

from alerts.local_slack import Failure, LocalSlack
from alerts.relay import SlackSender, relay_alerts
from alerts.slack import alert_blocks, escape_mrkdwn, make_client, safe_link, trim_at_sentence
from pipeline.store import Store
from tests.factories import add_feed, classification, stored_article


def relay(store: Store, slack: LocalSlack, token: str = "xoxb-test"):  # type: ignore[no-untyped-def]
    sender = SlackSender(make_client(token, slack.api_url))
    return relay_alerts(store, sender, channel_interval=0.0, sleep=lambda _s: None)


def test_relevant_article_is_posted_with_headline_frames_and_evidence(
    store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    cls = classification(
        city=True,
        evidence={
            "pro_city_inclusion": ("Mayors asked for a formal seat in the review. (— Mayor Ana Ruiz)",)
        },
    )
    stored_article(store, feed, title="Mayors want a say", url="https://news.example.org/a", cls=cls)
    report = relay(store, slack)
    assert report.sent == 1
    [message] = slack.posts("#alerts")
    text = "\n".join(b.get("text", {}).get("text", "") for b in message.blocks if b.get("text"))
    assert "<https://news.example.org/a|Mayors want a say>" in text
    assert "Pro-city inclusion" in text and "Mayor Ana Ruiz" in text
    assert message.metadata == {"event_type": "compactwatch_alert", "event_payload": {"alert_id": 1}}
    assert slack.calls[0][1]["unfurl_links"] is False
    assert store.alerts()[0]["slack_ts"] == message.ts


def test_channel_mention_and_ampersand_in_a_headline_are_escaped(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed, title="<!channel> Cities & states <b>clash</b> over the pact")
    relay(store, slack)
    [message] = slack.posts()
    section = message.blocks[0]["text"]["text"]
    assert "<!channel>" not in section
    assert "&lt;!channel&gt; Cities &amp; states &lt;b&gt;clash&lt;/b&gt;" in section
    assert "<!channel>" not in message.text or message.text.startswith("Relevant coverage")


def test_rate_limited_post_is_rescheduled_then_sent_exactly_once(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed)
    slack.fail_next("chat.postMessage", Failure("ratelimited", retry_after=0))
    first = relay(store, slack)
    assert first.rescheduled == 1 and first.sent == 0
    assert store.alerts()[0]["status"] == "pending"
    second = relay(store, slack)
    assert second.sent == 1
    assert len(slack.posts()) == 1
    assert relay(store, slack).sent == 0


def test_slack_server_error_is_retried_later(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed)
    slack.fail_next("chat.postMessage", Failure("server_error"))
    assert relay(store, slack).rescheduled == 1
    row = store.alerts()[0]
    assert row["status"] == "pending" and "500" in str(row["last_error"])


def test_channel_not_found_marks_the_alert_failed_with_the_reason(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed, channels=("#missing",))
    slack.unknown_channels.add("#missing")
    report = relay(store, slack)
    assert report.failed == 1
    row = store.alerts()[0]
    assert row["status"] == "failed" and row["last_error"] == "channel_not_found"
    assert relay(store, slack).failed == 0  # not retried in a loop


def test_invalid_token_marks_the_alert_failed(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed)
    relay(store, slack, token="not-a-bot-token")
    assert store.alerts()[0]["last_error"] == "invalid_auth"


def test_lost_response_is_never_blindly_reposted_but_reconciled_from_history(
    store: Store, slack: LocalSlack
) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed)
    slack.fail_next("chat.postMessage", Failure("drop_after_accept"))
    first = relay(store, slack)
    assert first.unknown == 1
    assert len(slack.posts()) == 1  # Slack did get it
    second = relay(store, slack)
    assert second.reconciled == 1
    assert len(slack.posts()) == 1  # and it was not posted again
    row = store.alerts()[0]
    assert row["status"] == "sent" and row["slack_ts"] == slack.posts()[0].ts


def test_unreachable_slack_keeps_alerts_pending_and_in_order(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    first = stored_article(store, feed, title="First story about the compact review")
    second = stored_article(store, feed, title="Second story about the compact review")
    dead = SlackSender(make_client("xoxb-test", "http://127.0.0.1:9/api/"))
    report = relay_alerts(store, dead, channel_interval=0.0)
    assert report.sent == 0
    assert {r["status"] for r in store.alerts()} == {"pending"}
    # Slack comes back: both go out, oldest first.
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from pipeline.store.tables import AlertRow

    with store.writing() as session:
        session.execute(update(AlertRow).values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
    relay(store, slack)
    titles = [m.text for m in slack.posts()]
    assert len(titles) == 2 and "First story" in titles[0] and "Second story" in titles[1]
    assert first < second


def test_irrelevant_article_queues_no_alert(store: Store, slack: LocalSlack) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    stored_article(store, feed, cls=classification(relevant=False))
    assert relay(store, slack).sent == 0
    assert slack.posts() == []


def test_message_respects_block_kit_limits_and_only_links_http_urls(store: Store) -> None:
    feed = add_feed(store, "https://feeds.example.org/rss")
    long_quote = "The mayors said cities must be heard. " * 200
    cls = classification(city=True, evidence={"pro_city_inclusion": (long_quote,)})
    article_id = stored_article(store, feed, title="T" * 5000, url="javascript:alert(1)", cls=cls)
    article = store.article(article_id)
    assert article is not None
    blocks = alert_blocks(article)
    assert len(blocks) <= 50
    for block in blocks:
        if block.get("text"):
            assert len(block["text"]["text"]) <= 3000
    assert "javascript:" not in str(blocks)
    quote = next(
        b["text"]["text"] for b in blocks if "Pro-city inclusion*" in b.get("text", {}).get("text", "")
    )
    assert quote.rstrip().endswith(".")


def test_escaping_and_link_helpers() -> None:
    assert escape_mrkdwn("<@U123> & <!here>") == "&lt;@U123&gt; &amp; &lt;!here&gt;"
    assert safe_link("ftp://x.org/a") is None
    assert safe_link("https://x.org/a|b>c") == "https://x.org/a%7Cb%3Ec"
    assert trim_at_sentence("One. Two three four. Five six seven eight nine", 25) == "One. Two three four."
