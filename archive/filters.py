"""The archive's view state lives in the URL: parse query parameters into an ArchiveFilter
and write them back, so any list, trend, export or API call can be shared as a link.

Parsing is forgiving on purpose: a bad value (a mistyped date, `relevant=maybe`) is dropped
with a message shown above the list, never a 500 and never a silently different filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from pipeline.store.archive import LABELS, SORTS, ArchiveFilter

# URL parameter names of the labels: short, readable in a shared link.
LABEL_PARAMS = {"relevant": "relevant", "pro_city_inclusion": "city", "sovereignty_framing": "sov"}
PARAM_LABELS = {v: k for k, v in LABEL_PARAMS.items()}
LABEL_NAMES = {
    "relevant": "Relevant",
    "pro_city_inclusion": "Pro-city inclusion",
    "sovereignty_framing": "Sovereignty framing",
}
SHORT_NAMES = {"relevant": "Relevant", "pro_city_inclusion": "Pro-city", "sovereignty_framing": "Sovereignty"}
SORT_NAMES = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "relevance": "Relevance score",
    "pro_city_inclusion": "Pro-city score",
    "sovereignty_framing": "Sovereignty score",
    "rank": "Best match",
}
FILTER_KEYS = ("q", "from", "to", "feed", "lang", "relevant", "city", "sov", "score", "smin", "smax",
               "source", "story", "sort")  # fmt: skip
PAGE_SIZES = (25, 50, 100, 200)


@dataclass
class ParsedFilter:
    filter: ArchiveFilter
    params: dict[str, str]  # the accepted parameters, normalised (for links and forms)
    errors: list[str] = field(default_factory=list)


def _yes_no(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in ("yes", "true", "1"):
        return True
    if lowered in ("no", "false", "0"):
        return False
    raise ValueError


def _day(value: str) -> date:
    return date.fromisoformat(value.strip()[:10])


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def parse_filter(params: Mapping[str, str], *, default_since_days: int | None = None) -> ParsedFilter:
    """Query parameters → ArchiveFilter (dates are whole UTC days, `to` inclusive)."""
    accepted: dict[str, str] = {}
    errors: list[str] = []
    values: dict[str, object] = {}

    def take(key: str) -> str:
        return (params.get(key) or "").strip()

    q = take("q")[:500]
    if q:
        values["q"] = accepted["q"] = q
    for key, target in (("from", "since"), ("to", "until")):
        raw = take(key)
        if not raw:
            continue
        try:
            day = _day(raw)
        except ValueError:
            errors.append(f"Ignored the {key!r} date {raw[:20]!r}: use YYYY-MM-DD.")
            continue
        values[target] = _start_of(day + timedelta(days=1)) if key == "to" else _start_of(day)
        accepted[key] = day.isoformat()
    if "since" not in values and default_since_days is not None and "from" not in params:
        today = datetime.now(UTC).date()
        values["since"] = _start_of(today - timedelta(days=default_since_days - 1))
    for key, target in (("feed", "feed_id"), ("story", "story_id")):
        raw = take(key)
        if not raw:
            continue
        if raw.isdigit() and 0 < int(raw) < 2**31:
            values[target] = int(raw)
            accepted[key] = raw
        else:
            errors.append(f"Ignored {key}={raw[:20]!r}: not an id.")
    lang = take("lang")
    if lang:
        if len(lang) <= 16 and lang.replace("-", "").replace("_", "").isalnum():
            values["language"] = accepted["lang"] = lang
        else:
            errors.append("Ignored the language filter: not a language code.")
    for param, label in PARAM_LABELS.items():
        raw = take(param)
        if not raw or raw.lower() == "any":
            continue
        try:
            values[label] = _yes_no(raw)
            accepted[param] = "yes" if values[label] else "no"
        except ValueError:
            errors.append(f"Ignored {param}={raw[:20]!r}: use yes, no or any.")
    score = take("score")
    score_label = PARAM_LABELS.get(score, score) if score else "relevant"
    if score_label not in LABELS:
        errors.append(f"Ignored score={score[:20]!r}: unknown label.")
        score_label = "relevant"
    elif score:
        accepted["score"] = LABEL_PARAMS[score_label]
    values["score_label"] = score_label
    for key, target in (("smin", "score_min"), ("smax", "score_max")):
        raw = take(key)
        if not raw:
            continue
        try:
            number = float(raw)
            if not 0.0 <= number <= 1.0:
                raise ValueError
        except ValueError:
            errors.append(f"Ignored {key}={raw[:20]!r}: a score is a number from 0 to 1.")
            continue
        values[target] = number
        accepted[key] = f"{number:g}"
    source = take("source")
    if source and source != "any":
        if source in ("model", "analyst"):
            values["source"] = accepted["source"] = source
        else:
            errors.append(f"Ignored source={source[:20]!r}: use model or analyst.")
    sort = take("sort")
    if sort:
        if sort in SORTS:
            values["sort"] = accepted["sort"] = sort
        else:
            errors.append(f"Ignored sort={sort[:20]!r}.")
    elif q:
        values["sort"] = "rank"  # a search is most useful best match first
    return ParsedFilter(ArchiveFilter(**values), accepted, errors)  # type: ignore[arg-type]


def page_size(params: Mapping[str, str], default: int = 50) -> int:
    raw = params.get("limit", "")
    return int(raw) if raw.isdigit() and int(raw) in PAGE_SIZES else default


def query_string(params: Mapping[str, str], **changes: str | None) -> str:
    """`params` with `changes` applied (None removes a key), as a query string."""
    merged = {k: v for k, v in params.items() if v}
    for key, value in changes.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return urlencode(merged)


def url(path: str, params: Mapping[str, str], **changes: str | None) -> str:
    query = query_string(params, **changes)
    return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class Chip:
    """One active filter shown above the list, with the link that removes it."""

    text: str
    remove_url: str


def chips(parsed: ParsedFilter, path: str, feeds: Mapping[int, str]) -> list[Chip]:
    p = parsed.params
    out: list[Chip] = []

    def add(text: str, *keys: str) -> None:
        out.append(Chip(text, url(path, p, **dict.fromkeys(keys))))

    if "q" in p:
        add(f"Search: {p['q']}", "q")
    if "from" in p or "to" in p:
        add(f"Date: {p.get('from', '…')} → {p.get('to', '…')}", "from", "to")
    if "feed" in p:
        add(f"Feed: {feeds.get(int(p['feed']), '#' + p['feed'])}", "feed")
    if "lang" in p:
        add(f"Language: {p['lang']}", "lang")
    for param, label in PARAM_LABELS.items():
        if param in p:
            add(f"{SHORT_NAMES[label]}: {p[param]}", param)
    if "smin" in p or "smax" in p:
        label = PARAM_LABELS.get(p.get("score", "relevant"), "relevant")
        add(f"{SHORT_NAMES[label]} score {p.get('smin', '0')}–{p.get('smax', '1')}", "smin", "smax", "score")
    if "source" in p:
        add(f"Labels by: {p['source']}", "source")
    if "story" in p:
        add(f"Story #{p['story']}", "story")
    return out
