"""Shaping daily counts from the store into the Trends page: buckets, series, shares.

The database groups by day (cheap, indexed); rolling days into weeks, filling empty
buckets (a gap in coverage must show as zero, not vanish), picking the top groups and
computing shares happen here, in plain Python over a few hundred rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from markupsafe import Markup

from archive.charts import COLORS, OTHER_COLOR, PALETTE, Series, line_chart, stacked_bars
from pipeline.store.archive import DailyCount, week_start

MAX_DAY_BUCKETS = 120
TOP_GROUPS = 7


class _FrameShares:
    """Share of relevant articles carrying each frame (None when nothing was relevant)."""

    relevant: int
    city: int
    sov: int

    @property
    def city_share(self) -> float | None:
        return self.city / self.relevant if self.relevant else None

    @property
    def sov_share(self) -> float | None:
        return self.sov / self.relevant if self.relevant else None


@dataclass(frozen=True)
class GroupRow(_FrameShares):
    name: str
    total: int
    relevant: int
    city: int
    sov: int


@dataclass(frozen=True)
class Totals(_FrameShares):
    total: int
    relevant: int
    city: int
    sov: int


@dataclass(frozen=True)
class TrendsView:
    bucket: str  # day | week
    note: str | None
    volume_chart: Markup
    share_chart: Markup
    legend: list[tuple[str, str]]  # (name, color) of the volume chart
    totals: Totals
    groups: list[GroupRow]


def _bucket_of(day: date, bucket: str) -> date:
    return week_start(day) if bucket == "week" else day


def _buckets(first: date, last: date, bucket: str) -> list[date]:
    step = timedelta(days=7 if bucket == "week" else 1)
    current, end = _bucket_of(first, bucket), _bucket_of(last, bucket)
    out = []
    while current <= end:
        out.append(current)
        current += step
    return out


def _label(day: date, bucket: str, span_years: bool) -> str:
    text = f"{day:%b} {day.day}"
    return f"{text} ’{day:%y}" if span_years and (day.month == 1 or bucket == "week") else text


def _tooltip(day: date, bucket: str) -> str:
    return f"Week of {day.day} {day:%b %Y}" if bucket == "week" else f"{day:%a} {day.day} {day:%b %Y}"


def group_rows(counts: Sequence[DailyCount]) -> list[GroupRow]:
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for c in counts:
        row = acc[c.group]
        row[0] += c.total
        row[1] += c.relevant
        row[2] += c.pro_city_inclusion
        row[3] += c.sovereignty_framing
    rows = [GroupRow(name, *values) for name, values in acc.items()]
    return sorted(rows, key=lambda r: (-r.relevant, -r.total, r.name))


def build(
    counts: Sequence[DailyCount],
    *,
    bucket: str,
    first: date | None,
    last: date,
    findings: Sequence[tuple[datetime, str]] = (),
) -> TrendsView:
    """Everything the Trends page draws for one grouping (outlet or language); `findings`
    (when a shift finding fired, its headline) become markers on both charts."""
    note = None
    days = sorted({c.day for c in counts})
    start = first or (days[0] if days else last)
    if days:
        start = min(start, days[0]) if first is None else start
        last = max(last, days[-1]) if first is None else last
    if bucket == "day" and (last - start).days + 1 > MAX_DAY_BUCKETS:
        bucket = "week"
        note = f"Shown by week: more than {MAX_DAY_BUCKETS} days do not fit as daily bars."
    buckets = _buckets(start, last, bucket)
    index = {b: i for i, b in enumerate(buckets)}
    groups = group_rows(counts)
    top = [g.name for g in groups if g.relevant][:TOP_GROUPS]
    colors = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(top)}
    relevant_by: dict[str, list[float]] = {name: [0.0] * len(buckets) for name in [*top, "Other"]}
    totals = [[0, 0, 0, 0] for _ in buckets]
    for c in counts:
        i = index.get(_bucket_of(c.day, bucket))
        if i is None:
            continue
        key = c.group if c.group in colors else "Other"
        relevant_by[key][i] += c.relevant
        totals[i][0] += c.total
        totals[i][1] += c.relevant
        totals[i][2] += c.pro_city_inclusion
        totals[i][3] += c.sovereignty_framing
    series = [Series(name, relevant_by[name], colors[name]) for name in top]
    if any(relevant_by["Other"]):
        series.append(Series("Other", relevant_by["Other"], OTHER_COLOR))
    span_years = bool(buckets) and buckets[0].year != buckets[-1].year
    labels = [_label(b, bucket, span_years) for b in buckets]
    tooltips = [_tooltip(b, bucket) for b in buckets]
    step = timedelta(days=7 if bucket == "week" else 1)
    today = datetime.now(UTC).date()
    partial = bool(buckets) and (buckets[-1] + step > last + timedelta(days=1) or last >= today)
    markers = [
        (index[_bucket_of(when.astimezone(UTC).date(), bucket)], text)
        for when, text in findings
        if _bucket_of(when.astimezone(UTC).date(), bucket) in index
    ]
    volume = stacked_bars(
        labels, series, tooltips=tooltips, unit="relevant articles", partial_last=partial, markers=markers
    )
    city = [t[2] / t[1] if t[1] else None for t in totals]
    sov = [t[3] / t[1] if t[1] else None for t in totals]
    share = line_chart(
        labels,
        [
            Series("Pro-city inclusion", city, COLORS["pro_city_inclusion"]),
            Series("Sovereignty framing", sov, COLORS["sovereignty_framing"]),
        ],
        tooltips=tooltips,
        partial_last=partial,
        markers=markers,
    )
    total = Totals(*(sum(t[k] for t in totals) for k in range(4)))
    legend = [(s.name, s.color) for s in series]
    return TrendsView(bucket, note, volume, share, legend, total, groups)
