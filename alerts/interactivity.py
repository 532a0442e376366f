"""Slack interactivity: the feedback buttons on alerts, at POST /slack/actions.

Every request is verified before anything is read from it: HMAC-SHA256 of
`v0:{timestamp}:{raw body}` with the signing secret, timestamps more than five minutes
off refused, constant-time comparison. A click records an analyst label (who, when, model
version, alert) and is acknowledged at once; the alert message is updated afterwards, in
the background, so Slack's three-second limit is never at risk. Buttons *set* a value,
and each click carries Slack's action timestamp, so a double click or a Slack retry of
the same request records nothing new.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alerts.slack import alert_blocks, alert_text, call_slack
from pipeline.store import Store

log = logging.getLogger("compactwatch")
MAX_SKEW_SECONDS = 60 * 5
LABELS = ("relevant", "pro_city_inclusion", "sovereignty_framing")


def verify_slack_signature(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None
) -> bool:
    """True only for a fresh request signed with `secret`."""
    if not secret or not timestamp or not signature:
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    if abs((now or time.time()) - sent_at) > MAX_SKEW_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def slack_actions_route(
    store: Store, signing_secret: str | None, client_factory: Callable[[], object] | None
) -> Route:
    """The Starlette route for Slack's interactivity requests."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        if not verify_slack_signature(
            signing_secret or "",
            request.headers.get("x-slack-request-timestamp"),
            request.headers.get("x-slack-signature"),
            body,
        ):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        try:
            payload = json.loads(parse_qs(body.decode("utf-8"))["payload"][0])
        except (KeyError, IndexError, ValueError, UnicodeDecodeError):
            return JSONResponse({"error": "no payload"}, status_code=400)
        if payload.get("type") != "block_actions":
            return Response(status_code=200)
        recorded = record_actions(store, payload)
        task = None
        if recorded and client_factory is not None:
            task = BackgroundTask(_refresh_message, store, client_factory, payload, recorded)
        return Response(status_code=200, background=task)

    return Route("/slack/actions", endpoint, methods=["POST"])


def record_actions(store: Store, payload: dict) -> list[tuple[int, int]]:  # type: ignore[type-arg]
    """Store each click as an analyst label; returns (alert id, article id) that changed."""
    user = payload.get("user") or {}
    who = f"slack:{user.get('username') or user.get('name') or user.get('id') or 'unknown'}"
    changed: list[tuple[int, int]] = []
    for action in payload.get("actions") or []:
        try:
            alert_id, article_id, label, value = str(action.get("value", "")).split(":")
            alert, article = int(alert_id), int(article_id)
        except ValueError:
            continue
        if label not in LABELS or value not in ("0", "1"):
            continue
        key = f"slack:{user.get('id')}:{action.get('action_ts')}:{action.get('action_id')}"
        try:
            if store.add_label(
                article, label, value == "1", source="slack", who=who, alert_id=alert, idempotency_key=key
            ):
                changed.append((alert, article))
        except ValueError:
            log.warning("slack action for unknown article %s", article)
    return changed


def _refresh_message(
    store: Store, client_factory: Callable[[], object], payload: dict, changed: list[tuple[int, int]]
) -> None:  # type: ignore[type-arg]
    """Show the correction on the alert itself (best effort; the label is already saved)."""
    channel = (payload.get("channel") or {}).get("id")
    ts = (payload.get("container") or {}).get("message_ts") or (payload.get("message") or {}).get("ts")
    if not channel or not ts:
        return
    client = client_factory()
    for alert_id, article_id in changed[-1:]:
        article = store.article(article_id)
        if article is None:
            continue
        outlets = store.story_outlets(article.story_id) if article.story_id else []
        also = [o for o in outlets if o != (article.outlet or article.feed_name)]
        call_slack(
            client.chat_update,  # type: ignore[attr-defined]
            channel=channel,
            ts=ts,
            text=alert_text(article),
            blocks=alert_blocks(article, also_in=also, alert_id=alert_id),
        )
