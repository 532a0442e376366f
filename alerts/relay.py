"""The outbox relay: send due Slack messages, record what happened, never post twice.

Rows are claimed atomically (Store.claim_alerts), Slack is called outside any transaction,
and the result is recorded afterwards. A post whose outcome is unknown (the response was
lost, or a relay died mid-send) is reconciled by looking for the row's id in the channel's
recent message metadata: found means sent; provably absent means it may be posted again;
when history cannot be read it stays `unknown` for an operator (`alerts list --failed`).

Per channel, posts are paced (about one per second, Slack's limit) and kept in order: once
a channel hits a rate limit or an outage, nothing overtakes the waiting message. When more
than `burst.max_messages` story alerts for one channel fall due within the window, they go
out as one summary message instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from rich.console import Console
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from alerts.routing import BurstPolicy
from alerts.slack import (
    SendOutcome,
    alert_blocks,
    alert_text,
    burst_blocks,
    call_slack,
    frame_reply_text,
    ops_blocks,
)
from pipeline.records import AlertMessage
from pipeline.store import Store


class AlertSender(Protocol):
    def post(
        self, message: AlertMessage, *, text: str, blocks: list[dict], thread_ts: str | None = None
    ) -> SendOutcome: ...  # type: ignore[type-arg]

    def edit(self, channel_id: str, ts: str, *, text: str, blocks: list[dict]) -> SendOutcome: ...  # type: ignore[type-arg]

    def find_sent(self, message: AlertMessage) -> SendOutcome | None:
        """`sent` if Slack has the post, `retry` if provably absent, None if unknowable."""
        ...


class SlackSender:
    def __init__(self, client: WebClient, history_limit: int = 200) -> None:
        self.client = client
        self.history_limit = history_limit

    def post(
        self, message: AlertMessage, *, text: str, blocks: list[dict], thread_ts: str | None = None
    ) -> SendOutcome:  # type: ignore[type-arg]
        extra = {"thread_ts": thread_ts} if thread_ts else {}
        return call_slack(
            self.client.chat_postMessage,
            channel=message.channel,
            text=text,
            blocks=blocks,
            unfurl_links=False,
            unfurl_media=False,
            metadata={"event_type": "compactwatch_alert", "event_payload": {"alert_id": message.alert_id}},
            **extra,
        )

    def edit(self, channel_id: str, ts: str, *, text: str, blocks: list[dict]) -> SendOutcome:  # type: ignore[type-arg]
        return call_slack(self.client.chat_update, channel=channel_id, ts=ts, text=text, blocks=blocks)

    def find_sent(self, message: AlertMessage) -> SendOutcome | None:
        try:
            response = self.client.conversations_history(
                channel=message.channel, limit=self.history_limit, include_all_metadata=True
            )
        except (SlackApiError, OSError):
            return None  # history unreadable (scope, outage): the outcome stays unknown
        for item in response.get("messages") or []:
            payload = ((item.get("metadata") or {}).get("event_payload")) or {}
            if payload.get("alert_id") == message.alert_id:
                return SendOutcome("sent", ts=item.get("ts"), channel_id=message.channel)
        return SendOutcome("retry", error="not found in channel history")


class ConsoleSender:
    """With no Slack token: print alerts; they stay in the database as `console`."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console()

    def post(
        self, message: AlertMessage, *, text: str, blocks: list[dict], thread_ts: str | None = None
    ) -> SendOutcome:  # type: ignore[type-arg]
        label = "ALERT" if message.kind == "article" else message.kind.replace("_", " ").upper()
        self.console.print(f"[bold green]{label}[/] [dim]{message.channel}[/] ", end="")
        self.console.print(text, markup=False, highlight=False)
        article = message.article
        if article is not None and message.kind == "article":
            self.console.print(f"  {article.url}", markup=False, highlight=False)
            for frame, quotes in article.evidence.items():
                if quotes:
                    self.console.print(f"  {frame}: {quotes[0][:200]}", markup=False, highlight=False)
        return SendOutcome("console")

    def edit(self, channel_id: str, ts: str, *, text: str, blocks: list[dict]) -> SendOutcome:  # type: ignore[type-arg]
        self.console.print(f"[bold]UPDATE[/] {text}", highlight=False)
        return SendOutcome("console")

    def find_sent(self, message: AlertMessage) -> SendOutcome | None:
        return None


@dataclass(frozen=True)
class RelayReport:
    sent: int = 0
    rescheduled: int = 0
    failed: int = 0
    unknown: int = 0
    reconciled: int = 0
    summarised: int = 0
    updated: int = 0


class _Pass:
    """State of one relay pass: pacing, blocked channels, counts."""

    def __init__(
        self,
        store: Store,
        sender: AlertSender,
        channel_interval: float,
        sleep: Callable[[float], None],
        max_attempts: int,
    ) -> None:
        self.store, self.sender = store, sender
        self.channel_interval, self.sleep, self.max_attempts = channel_interval, sleep, max_attempts
        self.last_post: dict[str, float] = {}
        self.blocked: set[str] = set()
        self.counts = dict.fromkeys(RelayReport.__dataclass_fields__, 0)

    def pace(self, channel: str) -> None:
        wait = self.channel_interval - (time.monotonic() - self.last_post.get(channel, -1e9))
        if wait > 0:
            self.sleep(wait)
        self.last_post[channel] = time.monotonic()

    def hold(self, message: AlertMessage, why: str, seconds: float = 1.0) -> None:
        self.store.reschedule_alert(
            message.alert_id, at=datetime.now(UTC) + timedelta(seconds=seconds), error=why
        )
        self.counts["rescheduled"] += 1

    def record(self, message: AlertMessage, outcome: SendOutcome, counter: str = "sent") -> None:
        if outcome.kind in ("sent", "console"):
            self.store.mark_alert_sent(message.alert_id, ts=outcome.ts, channel_id=outcome.channel_id)
            if outcome.kind == "console":
                self.store.mark_alert_console(message.alert_id)
            self.counts[counter] += 1
        elif outcome.kind == "retry" and message.attempts < self.max_attempts:
            delay = (
                outcome.retry_after
                if outcome.retry_after is not None
                else min(300.0, 5.0 * 2 ** (message.attempts - 1))
            )
            self.hold(message, outcome.error or "retry", delay)
            self.blocked.add(message.channel)
        elif outcome.kind == "unknown":
            self.store.mark_alert_unknown(message.alert_id, outcome.error or "outcome unknown")
            self.counts["unknown"] += 1
        else:
            self.store.mark_alert_failed(message.alert_id, outcome.error or "failed")
            self.counts["failed"] += 1


def relay_alerts(
    store: Store,
    sender: AlertSender,
    *,
    limit: int = 50,
    max_attempts: int = 8,
    channel_interval: float = 1.0,
    burst: BurstPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> RelayReport:
    """One relay pass: reconcile unknown outcomes, then send due messages in order."""
    state = _Pass(store, sender, channel_interval, sleep, max_attempts)
    store.expire_leases()
    for message in store.unknown_alerts(limit):
        found = sender.find_sent(message)
        if found is None:
            continue
        if found.kind == "sent":
            store.mark_alert_sent(message.alert_id, ts=found.ts, channel_id=found.channel_id)
            state.counts["reconciled"] += 1
        elif found.kind == "retry":
            store.requeue_alert(message.alert_id, "re-sent: earlier attempt not in channel history")

    claimed = store.claim_alerts(limit=limit)
    bursting = _bursting_channels(store, claimed, burst)
    summarised: set[int] = set()
    for channel, messages in bursting.items():
        if channel in state.blocked:
            continue
        state.pace(channel)
        articles = [m.article for m in messages if m.article is not None]
        text = f"{len(articles)} new stories on the migration compacts"
        outcome = sender.post(messages[0], text=text, blocks=burst_blocks(articles))
        if outcome.kind in ("sent", "console"):
            store.mark_summarised(
                [m.alert_id for m in messages], ts=outcome.ts, channel_id=outcome.channel_id
            )
            state.counts["summarised"] += len(messages)
            summarised.update(m.alert_id for m in messages)
        else:
            for message in messages:
                state.record(message, outcome)
            summarised.update(m.alert_id for m in messages)

    for message in claimed:
        if message.alert_id in summarised:
            continue
        if message.channel in state.blocked:  # keep order: nothing overtakes a waiting message
            state.hold(message, "waiting for an earlier message in this channel")
            continue
        if message.kind == "article":
            assert message.article is not None
            state.pace(message.channel)
            state.record(
                message,
                sender.post(
                    message,
                    text=alert_text(message.article),
                    blocks=alert_blocks(message.article, alert_id=message.alert_id),
                ),
            )
        elif message.kind in ("story_update", "frame_reply"):
            _follow_up(state, message)
        else:  # feed_warning / feed_recovered
            state.pace(message.channel)
            text = str(message.payload.get("text", ""))
            state.record(message, sender.post(message, text=text, blocks=ops_blocks(text)))
    return RelayReport(**state.counts)


def _bursting_channels(
    store: Store, claimed: list[AlertMessage], burst: BurstPolicy | None
) -> dict[str, list[AlertMessage]]:
    if burst is None:
        return {}
    by_channel: dict[str, list[AlertMessage]] = {}
    for message in claimed:
        if message.kind == "article" and message.article is not None:
            by_channel.setdefault(message.channel, []).append(message)
    since = datetime.now(UTC) - timedelta(seconds=burst.window_seconds)
    return {
        channel: messages
        for channel, messages in by_channel.items()
        if len(messages) + store.count_recent_posts(channel, since) > burst.max_messages and len(messages) > 1
    }


def _follow_up(state: _Pass, message: AlertMessage) -> None:
    """Edit the story's first message ("also in ..."), or reply in its thread."""
    parent = state.store.story_alert(message.story_id or 0, message.channel)
    if parent is None or parent["status"] in ("failed",):
        state.store.mark_alert_failed(message.alert_id, "the story's first alert was not delivered")
        state.counts["failed"] += 1
        return
    if parent["status"] != "sent" and parent["status"] != "console":
        state.hold(message, "waiting for the story's first alert", 5.0)
        return
    if parent["summarised"] or not parent["ts"]:
        state.store.mark_alert_sent(message.alert_id, ts=None, channel_id=None)  # nothing to edit
        return
    first = state.store.article(int(parent["article_id"]))  # type: ignore[arg-type]
    if first is None:
        state.store.mark_alert_failed(message.alert_id, "the story's first article is gone")
        return
    if message.kind == "story_update":
        outlets = state.store.story_outlets(message.story_id or 0)
        also = [o for o in outlets if o != (first.outlet or first.feed_name)]
        blocks = alert_blocks(first, also_in=also, alert_id=int(parent["id"]))  # type: ignore[arg-type]
        outcome = state.sender.edit(
            str(parent["channel_id"]), str(parent["ts"]), text=alert_text(first), blocks=blocks
        )
        if outcome.kind == "unknown":  # an edit is idempotent: safe to repeat later
            outcome = SendOutcome("retry", error=outcome.error)
        state.record(message, outcome, counter="updated")
    else:
        state.pace(message.channel)
        frames = [str(f) for f in message.payload.get("frames", [])]  # type: ignore[union-attr]
        text = frame_reply_text(message.article or first, frames)
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
        state.record(
            message, state.sender.post(message, text=text, blocks=blocks, thread_ts=str(parent["ts"]))
        )
