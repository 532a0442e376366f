"""Presenting a `Digest`: the wording (subject, summary, plain feed-health causes, chart
footnote), the plain-text and HTML parts from alerts/templates/digest_email.*, and the
chart. HTML is autoescaped, so every string that came from a feed is escaped.
"""

from __future__ import annotations

import re
from datetime import date
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from alerts.digest_model import (
    CHART_WIDTH,
    COLORS,
    EMAIL_WIDTH,
    FRAME_NAMES,
    MONTHS,
    PROBLEM_LABELS,
    WEEKDAYS,
    Digest,
    FrameShare,
    clean_line,
    unsubscribe_link,
    zone,
)
from pipeline.store.digest_queries import (
    FeedProblem,
)


# =========================================================================== wording
def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else ("±0" if n == 0 else f"−{-n}")


def _day(d: date) -> str:
    return f"{WEEKDAYS[d.weekday()]} {d.day} {MONTHS[d.month - 1][:3]}"


def _short_date(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1][:3]}"


def _strongest_move(digest: Digest) -> FrameShare | None:
    moves = [f for f in digest.frames if f.change_points is not None]
    return max(moves, key=lambda f: abs(f.change_points or 0)) if moves else None


def digest_subject(digest: Digest) -> str:
    """Numbers and fixed words only: nothing from a feed ever reaches a header."""
    if digest.coverage_incomplete:
        reach = f"only {digest.feeds_reachable} of {digest.feeds_total} feeds reachable"
        if digest.is_empty:
            return f"compactwatch weekly: {reach}, no coverage found"
        return f"compactwatch weekly: {_plural(digest.figures.stories, 'story', 'stories')} ({reach})"
    if digest.is_empty:
        return "compactwatch weekly: no coverage of the compacts this week"
    head = f"compactwatch weekly: {_plural(digest.figures.stories, 'story', 'stories')}"
    move = _strongest_move(digest)
    if move is None:
        top = max(digest.frames, key=lambda f: f.stories)
        return f"{head}, {top.percent}% with {top.name}" if top.stories else head
    points = move.change_points or 0
    if points == 0:
        return f"{head}, framing steady"
    return f"{head}, {move.name} {'up' if points > 0 else 'down'} {_plural(abs(points), 'point')}"


def summary_line(digest: Digest) -> str:
    """The one sentence under the title, also the inbox preview text."""
    p = digest.period
    if digest.coverage_incomplete:
        warning = (
            f"Only {digest.feeds_reachable} of {digest.feeds_total} feeds were reachable this week: "
            "coverage below is incomplete."
        )
        if digest.is_empty:
            return f"{warning} No coverage of the migration compacts was found in the feeds that answered."
        return f"{warning} {_coverage_sentence(digest)}"
    if digest.is_empty:
        return (
            f"A quiet week: compactwatch found no coverage of the migration compacts "
            f"between {_short_date(p.first_day)} and {_short_date(p.last_day)}."
        )
    return _coverage_sentence(digest)


def _coverage_sentence(digest: Digest) -> str:
    f = digest.figures
    head = (
        f"{_plural(f.stories, 'story', 'stories')} on the migration compacts in "
        f"{_plural(f.outlets, 'outlet')} this week."
    )
    frames = sorted(digest.frames, key=lambda fs: -abs(fs.change_points or 0))
    moves = []
    for fs in frames:
        if fs.change_points is None:
            moves.append(f"{fs.name} in {fs.percent}%")
        elif fs.change_points == 0:
            moves.append(f"{fs.name} steady at {fs.percent}%")
        else:
            way = "up" if fs.change_points > 0 else "down"
            moves.append(f"{fs.name} {way} {_plural(abs(fs.change_points), 'point')} to {fs.percent}%")
    sentence = "; ".join(moves)
    return f"{head} {sentence[0].upper()}{sentence[1:]} of stories."


def _chart_note(digest: Digest) -> str:
    """The footnote under the chart: which date places a story on a day."""
    parts = ["Stories are counted on the day they were published"]
    if digest.undated_stories:
        parts.append(
            f"{_plural(digest.undated_stories, 'story', 'stories')} without a publication date "
            "on the day compactwatch found them"
        )
    if digest.earlier_stories:
        parts.append(
            f"{_plural(digest.earlier_stories, 'story', 'stories')} published before "
            f"{_short_date(digest.period.first_day)} and found this week "
            f"{'is' if digest.earlier_stories == 1 else 'are'} not in the chart"
        )
    return "; ".join(parts) + "."


def _change_text(now: int, before: int) -> str:
    if now == before:
        return f"same as the period before ({before})"
    return f"{'up' if now > before else 'down'} {abs(now - before)} from {before}"


PLAIN_REASONS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"dns|name or service|getaddrinfo|resolve|nodename", "its web address could not be found"),
        (r"time(d)? ?out|deadline", "the site did not answer in time"),
        (r"refused|unreachable|no route|reset|network", "the site could not be reached"),
        (r"private|not public|not allowed|blocked", "the address is not allowed"),
        (r"\b(401|403)\b|forbidden|unauthori", "the site refused access"),
        (r"\b404\b|not found|\b410\b|gone", "the feed is no longer at that address"),
        (r"\b429\b|rate", "the site asked us to slow down"),
        (r"\b5\d\d\b|server error", "the site had a server error"),
        (r"not a feed|no feed|parse|xml|malformed", "the address no longer serves a news feed"),
        (r"too large|size|bytes", "the feed was too large"),
        (r"ssl|tls|certificate", "the site's security certificate was not accepted"),
    )
)


def plain_reason(error: str | None) -> str:
    """The technical error of a feed, as a director would want it said: the cause in plain
    words; the exact error stays on the archive's Feeds page for whoever fixes it."""
    for pattern, reason in PLAIN_REASONS:
        if error and pattern.search(error):
            return reason
    return "it could not be read"


def _problem_text(p: FeedProblem, tz: ZoneInfo) -> str:
    if p.kind == "failing":
        since = f"since {_short_date(p.since.astimezone(tz).date())}" if p.since else "never reached"
        return f"unreachable {since}: {plain_reason(p.error)}"
    if p.kind == "silent":
        last = f"last new item {_short_date(p.since.astimezone(tz).date())}" if p.since else "no items yet"
        return f"answers, but brought nothing new this week ({last})"
    return "configured but not polled yet"


def _context(digest: Digest, *, chart_src: str | None, unsubscribe: str | None) -> dict[str, object]:
    """What both templates see; all wording decisions live here, not in markup."""
    tz = zone(digest.tz)
    fig, prev = digest.figures, digest.previous_figures
    rows = [
        ("Relevant articles", fig.articles, prev.articles),
        ("Stories", fig.stories, prev.stories),
        ("Outlets", fig.outlets, prev.outlets),
    ]
    footer_unsubscribe = unsubscribe_link(unsubscribe)
    return {
        "d": digest,
        "subject": digest_subject(digest),
        "summary": summary_line(digest),
        "period": digest.period.label(),
        "previous_period": digest.period.previous().label(),
        "figures": [
            {"label": label, "now": now, "before": before, "change": _change_text(now, before)}
            for label, now, before in rows
        ],
        "frames": [
            {
                "name": f.name.capitalize(),
                "color": COLORS[f.frame],
                "percent": f.percent or 0,
                "previous_percent": f.previous_percent,
                "stories": f.stories,
                "total": f.total,
                "change": (
                    "no earlier stories to compare"
                    if f.change_points is None
                    else ("unchanged" if f.change_points == 0 else f"{_signed(f.change_points)} points")
                ),
                "arrow": "" if not f.change_points else ("▲" if f.change_points > 0 else "▼"),
            }
            for f in digest.frames
        ],
        "shift_findings": [
            {
                "when": _day(f.started_at.astimezone(tz).date()),
                "headline": clean_line(f.finding.headline, 200),
                "ended": _day(f.ended_at.astimezone(tz).date()) if f.ended_at else None,
            }
            for f in digest.shift_findings
        ],
        "daily": [
            {
                "day": _day(v.day),
                "weekday": WEEKDAYS[v.day.weekday()],
                "date": v.day.day,
                "stories": v.stories,
                "city": v.pro_city_inclusion,
                "sovereignty": v.sovereignty_framing,
            }
            for v in digest.daily
        ],
        "sections": [
            {
                "title": s.title,
                "blurb": s.blurb,
                "color": COLORS.get(s.key, "#6b7280"),
                "more": s.more,
                "total": s.total,
                "stories": [
                    {
                        "title": item.title,
                        "url": item.url,
                        "outlet": item.outlet,
                        "also": (
                            f"and {_plural(item.outlets - 1, 'other outlet')}" if item.outlets > 1 else ""
                        ),
                        "date": _short_date(item.day),
                        "quote": item.quote,
                        "frames": ", ".join(FRAME_NAMES[f] for f in item.frames if f != s.key),
                    }
                    for item in s.stories
                ],
            }
            for s in digest.sections
        ],
        "new_outlets": list(digest.new_outlets),
        "new_more": digest.new_outlets_total - len(digest.new_outlets),
        "active": digest.active_outlets,
        "problems": [
            {"name": p.name, "kind": PROBLEM_LABELS[p.kind], "text": _problem_text(p, tz)}
            for p in digest.feed_problems
        ],
        "problems_more": digest.feed_problems_total - len(digest.feed_problems),
        "healthy": digest.feeds_total - digest.feed_problems_total,
        "corrections": (
            f"Analysts corrected {_plural(digest.corrections, 'label')} on "
            f"{_plural(digest.corrected_articles, 'article')} this week."
            if digest.corrections
            else "No labels were corrected by analysts this week."
        ),
        "model": digest.model_version,
        "chart_src": chart_src,
        "chart_alt": "Stories per day by frame; the same numbers are in the table below.",
        "chart_note": _chart_note(digest),
        "incomplete": digest.coverage_incomplete,
        "feeds_reachable": digest.feeds_reachable,
        "archive_url": digest.archive_url,
        "unsubscribe_url": footer_unsubscribe,
        "colors": COLORS,
        "width": EMAIL_WIDTH,
        "chart_width": CHART_WIDTH,
        "tz": digest.tz,
    }


# =========================================================================== text
def render_text(digest: Digest, *, unsubscribe: str | None = None) -> str:
    """The plain-text part: the same content as the HTML, for text-only clients."""
    return _TEXT.render(**_context(digest, chart_src=None, unsubscribe=unsubscribe)).strip() + "\n"


# =========================================================================== html
def render_html(digest: Digest, *, chart_src: str | None = None, unsubscribe: str | None = None) -> str:
    """The HTML part. `chart_src` is "cid:..." in the email and a file name in a preview."""
    return _HTML.render(**_context(digest, chart_src=chart_src, unsubscribe=unsubscribe))


# =========================================================================== chart
def render_chart(digest: Digest) -> bytes:
    """Daily stories by frame as a PNG (matplotlib's Agg canvas, no pyplot global state,
    so it is safe inside the scheduler's worker threads)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    days = [_day(v.day).rsplit(" ", 1)[0] for v in digest.daily]
    series = [
        ("All stories", [v.stories for v in digest.daily], COLORS["stories"]),
        ("Pro-city inclusion", [v.pro_city_inclusion for v in digest.daily], COLORS["pro_city_inclusion"]),
        ("Sovereignty framing", [v.sovereignty_framing for v in digest.daily], COLORS["sovereignty_framing"]),
    ]
    figure = Figure(figsize=(CHART_WIDTH / 100, 2.3), dpi=200)
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    width = 0.26
    for i, (label, values, color) in enumerate(series):
        positions = [x + (i - 1) * width for x in range(len(days))]
        ax.bar(positions, values, width=width, color=color, label=label, zorder=3)
    ax.set_xticks(range(len(days)), days, fontsize=9, color="#374151")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
    ax.tick_params(axis="y", labelsize=8.5, colors="#6b7280", length=0)
    ax.tick_params(axis="x", length=0)
    ax.grid(axis="y", color="#e5e7eb", linewidth=0.8, zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#9ca3af")
    ax.set_ylim(0, max(1, *(v for _, values, _ in series for v in values)) * 1.15)
    ax.legend(
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=3,
        frameon=False,
        fontsize=9,
        handlelength=1.0,
        borderaxespad=0.2,
    )
    figure.subplots_adjust(left=0.05, right=0.99, top=0.83, bottom=0.13)
    out = BytesIO()
    figure.savefig(out, format="png", metadata={"Software": None}, facecolor="white")
    return out.getvalue()


# =========================================================================== templates
# HTML is autoescaped (every feed string); the plain-text part must not be entity-encoded.
_ENV = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_TEXT = _ENV.get_template("digest_email.txt")
_HTML = _ENV.get_template("digest_email.html")
