"""The outbox relay: send pending alerts, record what happened, never post twice.

Rows are claimed atomically (see Store.claim_alerts), the Slack call happens outside any
transaction, and the result is recorded afterwards. A send whose outcome is unknown (the
response was lost, or a relay died mid-send) is reconciled by looking for the alert's id in
the channel's recent message metadata: found means sent; provably absent means it may be
posted again; when history cannot be read it stays `unknown` for an operator.
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

from alerts.slack import SendOutcome, alert_text, post_alert
from pipeline.records import AlertMessage
from pipeline.store import Store


class AlertSender(Protocol):
    def send(self, message: AlertMessage) -> SendOutcome: ...

    def find_sent(self, message: AlertMessage) -> SendOutcome | None:
        """`sent` outcome if Slack has it, `retry` if provably absent, None if unknowable."""
        ...


class SlackSender:
    def __init__(self, client: WebClient, history_limit: int = 200) -> None:
        self.client = client
        self.history_limit = history_limit

    def send(self, message: AlertMessage) -> SendOutcome:
        return post_alert(self.client, message.channel, message.article, alert_id=message.alert_id)

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

    def send(self, message: AlertMessage) -> SendOutcome:
        article = message.article
        self.console.print(f"[bold green]ALERT[/] [dim]{message.channel}[/] ", end="")
        self.console.print(alert_text(article), markup=False, highlight=False)
        self.console.print(f"  {article.url}", markup=False, highlight=False)
        for frame, quotes in article.evidence.items():
            if quotes:
                self.console.print(f"  {frame}: {quotes[0][:200]}", markup=False, highlight=False)
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


def relay_alerts(
    store: Store,
    sender: AlertSender,
    *,
    limit: int = 50,
    max_attempts: int = 8,
    channel_interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> RelayReport:
    """One relay pass: reconcile unknown outcomes, then send due alerts in order."""
    counts = {"sent": 0, "rescheduled": 0, "failed": 0, "unknown": 0, "reconciled": 0}
    store.expire_leases()
    for message in store.unknown_alerts(limit):
        found = sender.find_sent(message)
        if found is None:
            continue
        if found.kind == "sent":
            store.mark_alert_sent(message.alert_id, ts=found.ts, channel_id=found.channel_id)
            counts["reconciled"] += 1
        elif found.kind == "retry":
            store.requeue_alert(message.alert_id, "re-sent: earlier attempt not in channel history")
    last_post: dict[str, float] = {}
    blocked_channels: set[str] = set()
    for message in store.claim_alerts(limit=limit):
        if message.channel in blocked_channels:  # keep order: nothing overtakes a waiting alert
            store.reschedule_alert(
                message.alert_id,
                at=datetime.now(UTC) + timedelta(seconds=1),
                error="waiting for an earlier alert in this channel",
            )
            counts["rescheduled"] += 1
            continue
        wait = channel_interval - (time.monotonic() - last_post.get(message.channel, -1e9))
        if wait > 0:
            sleep(wait)
        outcome = sender.send(message)
        last_post[message.channel] = time.monotonic()
        if outcome.kind in ("sent", "console"):
            store.mark_alert_sent(message.alert_id, ts=outcome.ts, channel_id=outcome.channel_id)
            if outcome.kind == "console":
                store.mark_alert_console(message.alert_id)
            counts["sent"] += 1
        elif outcome.kind == "retry" and message.attempts < max_attempts:
            delay = (
                outcome.retry_after
                if outcome.retry_after is not None
                else min(300.0, 5.0 * 2 ** (message.attempts - 1))
            )
            store.reschedule_alert(
                message.alert_id,
                at=datetime.now(UTC) + timedelta(seconds=delay),
                error=outcome.error or "retry",
            )
            blocked_channels.add(message.channel)
            counts["rescheduled"] += 1
        elif outcome.kind == "unknown":
            store.mark_alert_unknown(message.alert_id, outcome.error or "outcome unknown")
            counts["unknown"] += 1
        else:
            store.mark_alert_failed(message.alert_id, outcome.error or "failed")
            counts["failed"] += 1
    return RelayReport(**counts)
