"""Slack interactivity: the feedback buttons on alerts, at POST /slack/actions.

Every request is verified before anything is read from it, by slack-sdk's own
`SignatureVerifier`: HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret,
timestamps more than five minutes off refused, constant-time comparison. A signed request
whose payload is not the JSON object Slack sends is answered 400 and stores nothing. A
click records an analyst label (who, when, model version, alert) and is acknowledged at
once; the alert message is updated afterwards, in the background, so Slack's three-second
limit is never at risk. Buttons *set* a value, and each click carries Slack's action
timestamp, so a double click or a Slack retry of the same request records nothing new.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.signature import Clock, SignatureVerifier
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alerts.slack import DEFAULT_STYLE, AlertStyle, alert_blocks, alert_text, call_slack
from pipeline.store import Store

log = logging.getLogger("compactwatch")
MAX_SKEW_SECONDS = 60 * 5
LABELS = ("relevant", "pro_city_inclusion", "sovereignty_framing")


def verify_slack_signature(
    secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None
) -> bool:
    """True only for a fresh request signed with `secret` (slack-sdk's SignatureVerifier)."""
    if not secret or not timestamp or not signature:
        return False
    try:
        int(timestamp)
    except ValueError:
        return False
    return SignatureVerifier(secret, clock=_FixedClock(now)).is_valid(body, timestamp, signature)


class _FixedClock(Clock):
    """The verifier's clock: real time, or a given instant (tests)."""

    def __init__(self, now: float | None) -> None:
        self._now = now

    def now(self) -> float:
        return self._now if self._now is not None else time.time()


def slack_actions_route(
    store: Store,
    signing_secret: str | None,
    client_factory: Callable[[], object] | None,
    style: Callable[[str], AlertStyle] | None = None,
) -> Route:
    """The Starlette route for Slack's interactivity requests. `style` (channel → how its
    alerts look) keeps a refreshed alert looking like the one that was posted."""

    async def endpoint(request: Request) -> Response:
        body = await request.body()
        if not verify_slack_signature(
            signing_secret or "",
            request.headers.get("x-slack-request-timestamp"),
            request.headers.get("x-slack-signature"),
            body,
        ):
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        payload = _payload(body)
        if payload is None:
            return JSONResponse({"error": "malformed payload"}, status_code=400)
        if payload.get("type") != "block_actions":
            return Response(status_code=200)
        recorded = record_actions(store, payload)
        task = None
        if recorded and client_factory is not None:
            task = BackgroundTask(_refresh_message, store, client_factory, payload, recorded, style)
        return Response(status_code=200, background=task)

    return Route("/slack/actions", endpoint, methods=["POST"])


def _payload(body: bytes) -> dict[str, Any] | None:
    """Slack's `payload` form field as a JSON object with well-formed parts, else None
    (a signed but malformed request is refused, never half-processed)."""
    try:
        payload = json.loads(parse_qs(body.decode("utf-8"), max_num_fields=20)["payload"][0])
    except (KeyError, IndexError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    shapes = {"user": dict, "channel": dict, "container": dict, "message": dict, "actions": list}
    if any(key in payload and not isinstance(payload[key], shape) for key, shape in shapes.items()):
        return None
    if not all(isinstance(action, dict) for action in payload.get("actions") or []):
        return None
    return payload


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
    store: Store,
    client_factory: Callable[[], object],
    payload: dict,  # type: ignore[type-arg]
    changed: list[tuple[int, int]],
    style: Callable[[str], AlertStyle] | None = None,
) -> None:
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
            blocks=alert_blocks(
                article,
                also_in=also,
                alert_id=alert_id,
                style=style(store.alert_channel(alert_id) or "") if style else DEFAULT_STYLE,
            ),
        )
