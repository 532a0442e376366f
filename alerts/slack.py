"""Slack alert messages and the one client call that posts them.

Everything from feeds and pages is untrusted: it is escaped for mrkdwn (only &, < and >
are control characters, so `<!channel>` in a headline shows literally and pings no one),
links are only made for http(s) URLs, and messages stay well inside Block Kit limits.
"""

from __future__ import annotations

import re
import socket
import urllib.error
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import RemoteDisconnected
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from pipeline.records import StoredArticle

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
FALLBACK_LIMIT = 3000
QUOTE_LIMIT = 280
PERMANENT_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "no_permission",
        "missing_scope",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "invalid_arguments",
        "team_access_not_granted",
    }
)


@dataclass(frozen=True)
class AlertStyle:
    """How a channel wants its alerts. Comms people read headlines, frames and quotes; raw
    scores and the model version are for analysts, so a route opts in with `show_scores`.
    With `archive_url` set, each alert links to the article's page in the archive."""

    show_scores: bool = False
    archive_url: str | None = None

    def article_link(self, article_id: int) -> str | None:
        base = safe_link(self.archive_url or "")
        return f"{base.rstrip('/')}/articles/{int(article_id)}" if base else None


DEFAULT_STYLE = AlertStyle()

FRAME_LABELS = {
    "pro_city_inclusion": "Pro-city inclusion",
    "sovereignty_framing": "Sovereignty framing",
}


def escape_mrkdwn(text: str) -> str:
    """Escape Slack's three control characters; nothing else may be entity-encoded.

    THE escaping function for everything sent to Slack: every builder here applies it to
    each untrusted field, and `call_slack` applies it once more, as a safety net, to the
    top-level `text` and to any `<...>` token in mrkdwn blocks that we did not build."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_mrkdwn(text: str) -> str:
    """The reverse of `escape_mrkdwn` (for the console, which shows the plain text)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# A `<...>` token Slack would act on. Ours are only http(s) links (built from safe_link with
# an escaped label) and `<!date^...>`; mentions (`<!channel>`, `<!here>`, `<@U123>`,
# `<#C1>`, `<!subteam^...>`) never come from us, so any such token is neutralised.
_TOKEN = re.compile(r"<([^<>]*)>")
_OUR_TOKEN = re.compile(r"^(?:https?://[^\s|<>]+(?:\|[^<>]*)?|!date\^[^<>]*)$", re.IGNORECASE)


def neutralise_tokens(mrkdwn: str) -> str:
    """Escape (with `escape_mrkdwn`) every `<...>` token that is not one of ours."""
    return _TOKEN.sub(
        lambda m: m.group(0) if _OUR_TOKEN.match(m.group(1)) else escape_mrkdwn(m.group(0)), mrkdwn
    )


def _guard_blocks(value: Any) -> Any:
    if isinstance(value, list):
        return [_guard_blocks(item) for item in value]
    if isinstance(value, dict):
        guarded = {key: _guard_blocks(item) for key, item in value.items()}
        if guarded.get("type") == "mrkdwn" and isinstance(guarded.get("text"), str):
            guarded["text"] = neutralise_tokens(guarded["text"])
        return guarded
    return value


def guard_message(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The last step before any Web API call: top-level `text` (notifications, the channel
    list, screen readers) escaped idempotently, blocks and attachments cleared of tokens we
    did not build. Builders escape already; this makes a missed field harmless."""
    guarded = dict(kwargs)
    if isinstance(guarded.get("text"), str):
        guarded["text"] = escape_mrkdwn(unescape_mrkdwn(guarded["text"]))
    for key in ("blocks", "attachments"):
        if guarded.get(key) is not None:
            guarded[key] = _guard_blocks(guarded[key])
    for attachment in guarded.get("attachments") or []:
        if isinstance(attachment, dict):
            for field in ("fallback", "pretext", "title", "footer"):
                if isinstance(attachment.get(field), str):
                    attachment[field] = escape_mrkdwn(unescape_mrkdwn(attachment[field]))
            if isinstance(attachment.get("text"), str):
                attachment["text"] = neutralise_tokens(attachment["text"])
    return guarded


def safe_link(url: str) -> str | None:
    """A URL usable inside `<url|text>`, or None when it is not plain http(s)."""
    url = url.strip()
    if not re.match(r"^https?://[^\s]+$", url, flags=re.IGNORECASE):
        return None
    return url.replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def trim_at_sentence(text: str, limit: int) -> str:
    """Shorten to `limit` chars, preferring a sentence end, else a word boundary."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "), cut.rfind('." '))
    if end >= limit // 2:
        return cut[: end + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut[: limit - 1]) + "…"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def alert_text(article: StoredArticle) -> str:
    """Plain-text notification fallback (also what the console shows)."""
    frames = [name for key, name in FRAME_LABELS.items() if article.label(key)]
    framing = f" [{', '.join(frames)}]" if frames else ""
    title = escape_mrkdwn(article.title or "(untitled)")
    outlet = escape_mrkdwn(article.outlet or article.feed_name)
    return _clip(f"Relevant coverage: {title} ({outlet}){framing}", FALLBACK_LIMIT)


def alert_blocks(
    article: StoredArticle,
    *,
    also_in: list[str] | None = None,
    alert_id: int | None = None,
    style: AlertStyle = DEFAULT_STYLE,
) -> list[dict[str, Any]]:
    """Block Kit for one alert: linked headline, outlet and the reader's local time, frames,
    evidence, "also in" outlets for syndicated copies, a link to the archive, feedback
    buttons; scores and the model version only for channels whose route asks for them."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(_headline(article), SECTION_LIMIT)}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": _clip(_meta(article, style), SECTION_LIMIT)}],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": _badges(article, style)}},
    ]
    for key, name in FRAME_LABELS.items():
        quotes = article.evidence.get(key) or []
        if article.label(key) and quotes:
            quote = escape_mrkdwn(trim_at_sentence(quotes[0], QUOTE_LIMIT))
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{name}*\n>{quote}"}})
    if also_in:
        shown = ", ".join(escape_mrkdwn(o) for o in also_in[:5])
        more = f" ({len(also_in) - 5} more)" if len(also_in) > 5 else ""
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": _clip(f"also in: {shown}{more}", 2000)}],
            }
        )
    if article.corrections:
        fixed = ", ".join(
            f"{k.replace('_', ' ')} → {'yes' if v else 'no'}" for k, v in article.corrections.items()
        )
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f":pencil2: corrected by an analyst: {fixed}"}],
            }
        )
    archive_link = style.article_link(article.id)
    if alert_id is not None:
        blocks.append(feedback_actions(article, alert_id, archive_link))
    elif archive_link:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"<{archive_link}|Open in archive>"}]}
        )
    footer = "compactwatch" + (f" · model {article.model_version}" if style.show_scores else "")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(footer)}]})
    return blocks[:50]


def feedback_actions(
    article: StoredArticle, alert_id: int, archive_link: str | None = None
) -> dict[str, Any]:
    """Buttons that SET a label to a value (never flip it), so a double click or a Slack
    retry records nothing new; after a correction the message shows the next choice. An
    "Open in archive" link button comes first when the archive's address is known."""

    def button(text: str, label: str, value: bool, style: str | None = None) -> dict[str, Any]:
        element: dict[str, Any] = {
            "type": "button",
            "text": {"type": "plain_text", "text": text, "emoji": True},
            "action_id": f"cw:{label}:{'1' if value else '0'}",
            "value": f"{alert_id}:{article.id}:{label}:{'1' if value else '0'}",
        }
        if style:
            element["style"] = style
        return element

    city, sovereignty = article.label("pro_city_inclusion"), article.label("sovereignty_framing")
    opening: list[dict[str, Any]] = []
    if archive_link:
        opening.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": "Open in archive", "emoji": True},
                "action_id": "cw:open",
                "url": archive_link,
            }
        )
    return {
        "type": "actions",
        "block_id": f"cw_feedback_{alert_id}",
        "elements": [
            *opening,
            button("Relevant ✓", "relevant", True, "primary"),
            button("Not relevant", "relevant", False, "danger"),
            button("Not pro-city" if city else "Pro-city inclusion", "pro_city_inclusion", not city),
            button(
                "Not sovereignty" if sovereignty else "Sovereignty framing",
                "sovereignty_framing",
                not sovereignty,
            ),
        ],
    }


def _headline(article: StoredArticle) -> str:
    title = escape_mrkdwn(_clip(article.title or "(untitled)", HEADER_LIMIT * 2))
    link = None if article.link_refused else safe_link(article.url)
    return f"*<{link}|{title}>*" if link else f"*{title}*"


def slack_date(when: datetime) -> str:
    """A time each reader sees in their own time zone (Slack's date token), with a UTC
    fallback for clients that cannot render it (notifications, old apps)."""
    moment = when if when.tzinfo else when.replace(tzinfo=UTC)
    fallback = moment.astimezone(UTC).strftime("%d %b %Y %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _meta(article: StoredArticle, style: AlertStyle = DEFAULT_STYLE) -> str:
    when = article.published_at or article.fetched_at
    return " · ".join(
        part
        for part in (
            escape_mrkdwn(article.outlet or article.feed_name),
            slack_date(when) if when else "",
            f"relevance {article.relevance:.2f}" if style.show_scores else "",
        )
        if part
    )


def _badges(article: StoredArticle, style: AlertStyle = DEFAULT_STYLE) -> str:
    badges = []
    for key, name in FRAME_LABELS.items():
        mark = ":large_green_circle:" if article.label(key) else ":white_circle:"
        score = f" {getattr(article, f'{key}_score'):.2f}" if style.show_scores else ""
        badges.append(f"{mark} {name}{score}")
    return "   ".join(badges)


def burst_blocks(articles: list[StoredArticle]) -> list[dict[str, Any]]:
    """One summary message for a burst: a line per story, within Block Kit limits."""
    lines = []
    for article in articles:
        frames = [name for key, name in FRAME_LABELS.items() if article.label(key)]
        suffix = f" · _{', '.join(frames)}_" if frames else ""
        lines.append(f"• {_headline(article)} · {escape_mrkdwn(article.outlet or article.feed_name)}{suffix}")
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _clip(f"{len(articles)} new stories on the migration compacts", HEADER_LIMIT),
            },
        }
    ]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > SECTION_LIMIT - 50 or len(chunk) == 10:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
            chunk = []
        chunk.append(_clip(line, SECTION_LIMIT - 50))
    if chunk:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}})
    return blocks[:50]


def frame_reply_text(article: StoredArticle, frames: list[str]) -> str:
    names = " and ".join(FRAME_LABELS.get(f, f).lower() for f in frames)
    outlet = escape_mrkdwn(article.outlet or article.feed_name)
    return f"Update: the version in {outlet} carries {names}, which the first report did not."


def ops_blocks(text: str) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip(escape_mrkdwn(text), SECTION_LIMIT)}}
    ]


@dataclass(frozen=True)
class SendOutcome:
    """What happened to one chat.postMessage call.

    kind: sent | retry (nothing was posted; try later) | failed (permanent) |
    unknown (Slack may have posted it; never re-post blindly).
    """

    kind: str
    ts: str | None = None
    channel_id: str | None = None
    error: str | None = None
    retry_after: float | None = None


def make_client(token: str, base_url: str, timeout: int = 15) -> WebClient:
    """A WebClient that never retries by itself: a retried post after a lost response
    would duplicate the alert, so the outbox decides."""
    return WebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


def call_slack(method: Any, **kwargs: Any) -> SendOutcome:
    """Run one Web API call and map every failure mode to a SendOutcome."""
    try:
        response = method(**guard_message(kwargs))
    except SlackApiError as error:
        status = error.response.status_code
        code = str(error.response.get("error", "") or f"HTTP {status}")
        if status == 429:
            retry = error.response.headers.get("Retry-After") or error.response.headers.get("retry-after")
            return SendOutcome("retry", error="ratelimited", retry_after=float(retry or 30))
        if status >= 500:
            return SendOutcome("retry", error=f"Slack server error {status}")
        if code in PERMANENT_ERRORS or 400 <= status < 500:
            return SendOutcome("failed", error=code)
        return SendOutcome("failed", error=code)
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ConnectionRefusedError | socket.gaierror):
            return SendOutcome("retry", error=f"Slack unreachable: {reason}")
        return SendOutcome("unknown", error=f"connection lost: {reason}")
    except (TimeoutError, RemoteDisconnected, ConnectionResetError) as error:
        return SendOutcome("unknown", error=f"no response from Slack: {error!r:.200}")
    except ConnectionRefusedError as error:
        return SendOutcome("retry", error=f"Slack unreachable: {error}")
    data = response.data if isinstance(response.data, dict) else {}
    return SendOutcome("sent", ts=data.get("ts"), channel_id=data.get("channel"))
