"""How the relay posts shift messages (issue 14): a finding's alert, its "ended" note as a
reply in the alert's thread, and the daily brief.

The outbox row carries everything the message needs (the finding as JSON), so this is
rendering plus the thread lookup; claiming, pacing, retries and "never post twice" are the
relay's, exactly as for story alerts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.shift_messages import render
from pipeline.records import AlertMessage
from pipeline.store.shift_queries import SHIFT_KINDS, shift_parent

if TYPE_CHECKING:
    from alerts.relay import _Pass

__all__ = ["SHIFT_KINDS", "post_shift"]


def post_shift(state: _Pass, message: AlertMessage) -> None:
    """Post one shift message; an "ended" note waits for its alert and goes in its thread."""
    text, blocks = render(message.kind, dict(message.payload))
    thread_ts = None
    if message.kind == "shift_ended":
        parent = shift_parent(state.store, int(message.payload.get("finding_id", 0)), message.channel)  # type: ignore[arg-type]
        if parent is None or parent["status"] == "failed":
            state.store.mark_alert_failed(message.alert_id, "the finding's alert was not delivered")
            state.counts["failed"] += 1
            return
        if parent["status"] not in ("sent", "console"):
            state.hold(message, "waiting for the finding's alert", 5.0)
            return
        thread_ts = str(parent["ts"]) if parent["ts"] else None
    state.pace(message.channel)
    state.record(message, state.sender.post(message, text=text, blocks=blocks, thread_ts=thread_ts))
