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
from alerts.shift_relay import SHIFT_KINDS, post_shift
from alerts.slack import (
    DEFAULT_STYLE,
    AlertStyle,
    SendOutcome,
    alert_blocks,
    alert_text,
    burst_blocks,
    call_slack,
    escape_mrkdwn,
    frame_reply_text,
    ops_blocks,
    unescape_mrkdwn,
)
from pipeline.records import AlertMessage
from pipeline.sanitize import SafeConsole, escape_terminal
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
        self.console = console or SafeConsole()

    def post(
        self, message: AlertMessage, *, text: str, blocks: list[dict], thread_ts: str | None = None
    ) -> SendOutcome:  # type: ignore[type-arg]
        label = "ALERT" if message.kind == "article" else message.kind.replace("_", " ").upper()
        self.console.print(f"[bold green]{label}[/] ", end="")
        # Everything after the label came from feeds or config: no markup, and control
        # characters shown as visible escapes (escape_terminal), never sent to the terminal.
        self.console.print(f"{escape_terminal(message.channel)} ", style="dim", end="", markup=False)
        self.console.print(_plain(text), markup=False, highlight=False)
        article = message.article
        if article is not None and message.kind == "article":
            self.console.print(f"  {escape_terminal(article.url)}", markup=False, highlight=False)
            for frame, quotes in article.evidence.items():
                if quotes:
                    quote = escape_terminal(quotes[0][:200])
                    self.console.print(f"  {frame}: {quote}", markup=False, highlight=False)
        return SendOutcome("console")

    def edit(self, channel_id: str, ts: str, *, text: str, blocks: list[dict]) -> SendOutcome:  # type: ignore[type-arg]
        self.console.print("[bold]UPDATE[/] ", end="")
        self.console.print(_plain(text), markup=False, highlight=False)
        return SendOutcome("console")

    def find_sent(self, message: AlertMessage) -> SendOutcome | None:
        return None


def _plain(text: str) -> str:
    """A message's text for the terminal: Slack escaping undone, then terminal-escaped."""
    return escape_terminal(unescape_mrkdwn(text))


@dataclass(frozen=True)
class RelayReport:
    sent: int = 0  # posted one by one (or printed, without a Slack token)
    rescheduled: int = 0
    failed: int = 0
    unknown: int = 0
    reconciled: int = 0  # an earlier post with an unknown outcome was found in the channel
    summarised: int = 0  # delivered inside a burst summary message
    updated: int = 0
    claimed: int = 0  # due messages this pass took from the outbox

    @property
    def delivered(self) -> int:
        """Alerts that reached their channel: individually, in a burst summary, or confirmed
        from channel history. This is what "alerts sent" means to a user."""
        return self.sent + self.summarised + self.reconciled

    def __add__(self, other: RelayReport) -> RelayReport:
        fields = RelayReport.__dataclass_fields__
        return RelayReport(**{name: getattr(self, name) + getattr(other, name) for name in fields})


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
        self.last_post: dict[str, float] = {}  # replaced by the caller's to pace across passes
        self.blocked: set[str] = set()
        self.counts = dict.fromkeys(RelayReport.__dataclass_fields__, 0)
        self.style: Callable[[str], AlertStyle] = lambda _channel: DEFAULT_STYLE

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
    style: Callable[[str], AlertStyle] | None = None,
    last_post: dict[str, float] | None = None,
) -> RelayReport:
    """One relay pass: reconcile unknown outcomes, then send due messages in order.

    `style` says, per channel, how alerts look (scores for analysts' channels, the archive
    link); by default comms-friendly alerts without scores. `last_post` (channel -> monotonic
    time of its last post) carries Slack's per-channel pacing from one pass to the next."""
    state = _Pass(store, sender, channel_interval, sleep, max_attempts)
    if last_post is not None:
        state.last_post = last_post
    if style is not None:
        state.style = style
    style_of = state.style
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

    claimed = oldest_stories_first(store.claim_alerts(limit=limit))
    state.counts["claimed"] = len(claimed)
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
                    blocks=alert_blocks(
                        message.article, alert_id=message.alert_id, style=style_of(message.channel)
                    ),
                ),
            )
        elif message.kind in ("story_update", "frame_reply"):
            _follow_up(state, message)
        elif message.kind in SHIFT_KINDS:  # shift findings, "ended" notes, daily briefs
            post_shift(state, message)
        else:  # feed_warning / feed_recovered
            state.pace(message.channel)
            text = str(message.payload.get("text", ""))
            state.record(message, sender.post(message, text=escape_mrkdwn(text), blocks=ops_blocks(text)))
    return RelayReport(**state.counts)


def oldest_stories_first(claimed: list[AlertMessage]) -> list[AlertMessage]:
    """Story alerts in the order their articles appeared (published, else found), so a
    channel reads chronologically even when a cycle found them in another order. Other
    messages (edits, replies, ops notes) keep their places in the queue."""
    slots = [i for i, m in enumerate(claimed) if m.kind == "article" and m.article is not None]

    def appeared(message: AlertMessage) -> tuple[datetime, int]:
        article = message.article
        assert article is not None
        when = article.published_at or article.fetched_at
        if when > article.fetched_at:  # a date in the future is not believed
            when = article.fetched_at
        return when, message.alert_id

    ordered = sorted((claimed[i] for i in slots), key=appeared)
    result = list(claimed)
    for slot, message in zip(slots, ordered, strict=True):
        result[slot] = message
    return result


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
        blocks = alert_blocks(
            first,
            also_in=also,
            alert_id=int(parent["id"]),  # type: ignore[arg-type]
            style=state.style(message.channel),
        )
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
