"""Slack messages for shift findings: the alert, the "ended" note in its thread, the daily brief.

Built from the JSON payload stored in the outbox row, so the relay can render them without
the database. Every piece of text that came from feeds (headlines carry outlet names, story
titles are untrusted) goes through `alerts.slack.escape_mrkdwn`, the one escaping path for
Slack text; links are only made for plain http(s) URLs (`safe_link`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from alerts.slack import escape_mrkdwn, safe_link
from pipeline.shifts import FRAME_NAMES, Finding

SECTION_LIMIT = 3000
TITLE_LIMIT = 200
ICONS = {"volume": ":chart_with_upwards_trend:", "frame_shift": ":scales:", "frame_spread": ":seedling:"}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def trends_url(archive_url: str | None, finding: Finding, baseline_days: int = 28) -> str | None:
    """The archive's Trends page over the baseline and the finding's period, by day."""
    if not archive_url:
        return None
    start = (finding.period_start - timedelta(days=baseline_days)).date()
    end = finding.period_end.date()
    params = {"from": start.isoformat(), "to": end.isoformat(), "bucket": "day"}
    if finding.language:
        params["lang"] = finding.language
    return safe_link(f"{archive_url.rstrip('/')}/trends?{urlencode(params)}")


def _link(url: str, text: str) -> str:
    label = escape_mrkdwn(_clip(" ".join(text.split()) or "(untitled)", TITLE_LIMIT))
    link = safe_link(url)
    return f"<{link}|{label}>" if link else label


def _figures(finding: Finding) -> str:
    if finding.kind == "volume":
        return (
            f"{finding.count} stories in {_span(finding)} against about {finding.expected:g} in the same "
            f"hours of the previous days · p = {finding.p_value:.2g}"
        )
    if finding.kind == "frame_shift":
        return (
            f"this week {finding.count} of {finding.total} stories ({finding.share_now:.0%}) · "
            f"the 28 days before {finding.before_count} of {finding.before_total} "
            f"({finding.share_before:.0%}) · p = {finding.p_value:.2g}"
        )
    return f"{finding.before_total} stories without it in the previous 28 days · p = {finding.p_value:.2g}"


def _span(finding: Finding) -> str:
    hours = (finding.period_end - finding.period_start).total_seconds() / 3600
    return f"{hours:g} h"


def finding_message(payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(notification text, blocks) of a finding's alert."""
    finding = Finding.from_dict(payload["finding"])
    headline = escape_mrkdwn(finding.headline)
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _clip(f"{ICONS.get(finding.kind, '')} *{headline}*", SECTION_LIMIT),
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escape_mrkdwn(_figures(finding))}]},
    ]
    if finding.stories:
        carrying = (
            f"Stories carrying {FRAME_NAMES[finding.frame].lower()}"
            if finding.frame and finding.kind != "volume"
            else "Stories driving it"
        )
        lines = [f"*{carrying}:*"]
        for story in finding.stories:
            outlets = ", ".join(story.outlets[:3]) + (" …" if len(story.outlets) > 3 else "")
            lines.append(
                f"• {_link(story.url, story.title)}" + (f" · {escape_mrkdwn(outlets)}" if outlets else "")
            )
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), SECTION_LIMIT)}}
        )
    url = trends_url(_str(payload.get("archive_url")), finding)
    footer = "compactwatch shift alert"
    if url:
        footer += f" · <{url}|see it on the Trends page>"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return escape_mrkdwn(_clip(finding.headline, 3000)), blocks


def ended_message(payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(text, blocks) of the thread note posted when a finding's condition is over."""
    finding = Finding.from_dict(payload["finding"])
    ended = datetime.fromisoformat(str(payload["ended_at"]))
    lasted = ended - finding.period_end
    days, hours = lasted.days, lasted.seconds // 3600
    duration = f"{days} d {hours} h" if days else f"{hours} h"
    what = (
        "Coverage is back to its usual volume"
        if finding.kind == "volume"
        else "The frame's share is back in range"
    )
    text = f"Ended: {what} ({ended:%d %b %H:%M} UTC, about {duration} after this alert)."
    return text, [{"type": "section", "text": {"type": "mrkdwn", "text": escape_mrkdwn(text)}}]


def brief_message(payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(text, blocks) of the daily brief: yesterday's count, frame balance, top three."""
    count = int(payload["count"])
    day = str(payload["day_label"])
    frames = dict(payload.get("frame_counts") or {})
    balance = " · ".join(
        f"{name.replace(' framing', '').lower()} {frames.get(key, 0)} ({frames.get(key, 0) / count:.0%})"
        for key, name in FRAME_NAMES.items()
    )
    text = f"Daily brief for {day}: {count} {'story' if count == 1 else 'stories'} on the compacts"
    lines = [f"*{escape_mrkdwn(text)}*", escape_mrkdwn(f"Frame balance: {balance}")]
    top = payload.get("top") or []
    if top:
        lines.append("*Top stories:*")
        for story in top:
            outlets = ", ".join(story.get("outlets") or [])
            lines.append(
                f"• {_link(str(story['url']), str(story['title']))}"
                + (f" · {escape_mrkdwn(outlets)}" if outlets else "")
            )
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": _clip("\n".join(lines), SECTION_LIMIT)}}
    ]
    return escape_mrkdwn(text), blocks


def render(kind: str, payload: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The relay's entry point for the three shift kinds."""
    if kind == "shift_finding":
        return finding_message(payload)
    if kind == "shift_ended":
        return ended_message(payload)
    return brief_message(payload)


def _str(value: object) -> str | None:
    return str(value) if value else None
