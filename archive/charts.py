"""Server-rendered SVG charts for the Trends page and small inline bars for scores.

Generated here rather than with a charting library so pages need no JavaScript, no CDN and
no build step, print well, and pass a strict Content-Security-Policy: only SVG presentation
attributes are used, never `style=`. Every piece of text (outlet names come from feeds) is
escaped with markupsafe before it is placed in the markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f")
OTHER_COLOR = "#c3cad5"
COLORS = {
    "relevant": "#3b5bdb",
    "pro_city_inclusion": "#0c8599",
    "sovereignty_framing": "#e8590c",
}
GRID = "#e9ecef"
MARKER_COLOR = "#c92a2a"  # shift findings on the Trends charts
AXIS_TEXT = "#6b7280"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Liberation Sans', Arial, sans-serif"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


def _fmt(value: float, percent: bool = False) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    if value >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def nice_max(value: float, percent: bool = False, ticks: int = 4) -> float:
    """A round axis maximum at or above `value` whose `ticks` steps are round too
    (steps of 1, 2, 2.5, 3 or 5 × 10^n): 105 articles → 120 in steps of 30."""
    if percent:
        for top in (0.1, 0.2, 0.4, 0.6, 0.8, 1.0):
            if value <= top:
                return top
        return 1.0
    if value <= 0:
        return float(ticks)
    raw = value / ticks
    if raw <= 1:
        return float(ticks)
    exponent = math.floor(math.log10(raw))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * 10**exponent
        if step != int(step):
            continue  # counts: whole-number ticks only
        if raw <= step:
            return float(step * ticks)
    return float(10 ** (exponent + 1) * ticks)


def _label_positions(count: int, max_labels: int = 10) -> set[int]:
    if count <= max_labels:
        return set(range(count))
    step = math.ceil(count / max_labels)
    return set(range(0, count, step))


def _frame(width: int, height: int, aria: str) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(aria)}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="{FONT}">'
    ]


def _y_axis(parts: list[str], top: float, bottom: float, left: float, right: float,
            y_max: float, percent: bool, ticks: int = 4) -> None:  # fmt: skip
    for i in range(ticks + 1):
        value = y_max * i / ticks
        y = bottom - (bottom - top) * i / ticks
        stroke = "#d0d5dc" if i == 0 else GRID
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{stroke}" />')
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{AXIS_TEXT}">{_fmt(value, percent)}</text>'
        )


def _x_labels(parts: list[str], labels: Sequence[str], centers: Sequence[float], y: float) -> None:
    for i in sorted(_label_positions(len(labels))):
        parts.append(
            f'<text x="{centers[i]:.1f}" y="{y}" text-anchor="middle" font-size="11" '
            f'fill="{AXIS_TEXT}">{escape(labels[i])}</text>'
        )


def empty_chart(message: str = "No articles in this view", width: int = 920, height: int = 120) -> Markup:
    parts = _frame(width, height, message)
    parts.append(f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="8" '
                 f'fill="#f8f9fb" stroke="{GRID}" />')  # fmt: skip
    parts.append(
        f'<text x="{width / 2}" y="{height / 2 + 5}" text-anchor="middle" font-size="14" '
        f'fill="{AXIS_TEXT}">{escape(message)}</text></svg>'
    )
    return Markup("".join(parts))


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    tooltips: Sequence[str] | None = None,
    unit: str = "articles",
    partial_last: bool = False,
    markers: Sequence[tuple[int, str]] = (),
    width: int = 920,
    height: int = 280,
) -> Markup:
    """Vertical bars per bucket, stacked by series (e.g. relevant articles per outlet).

    `partial_last` draws the last bucket faded: a week that has only just begun is not a
    drop in coverage, and should not look like one."""
    totals = [sum((s.values[i] or 0) for s in series) for i in range(len(labels))]
    if not labels or not any(totals):
        return empty_chart()
    left, right, top, bottom = 48.0, width - 12.0, 14.0, height - 30.0
    y_max = nice_max(max(totals))
    parts = _frame(width, height, f"Stacked bar chart of {unit}")
    _y_axis(parts, top, bottom, left, right, y_max, False)
    slot = (right - left) / len(labels)
    bar = max(2.0, min(slot * 0.72, 46.0))
    centers = [left + slot * (i + 0.5) for i in range(len(labels))]
    for i, center in enumerate(centers):
        y = bottom
        x = center - bar / 2
        faded = partial_last and i == len(centers) - 1
        parts.append('<g opacity="0.45">' if faded else "<g>")
        head = (tooltips[i] if tooltips else labels[i]) + (" (so far)" if faded else "")
        breakdown = "; ".join(f"{s.name}: {_fmt(s.values[i] or 0)}" for s in series if s.values[i])
        parts.append(f"<title>{escape(head)} — {_fmt(totals[i])} {escape(unit)}\n{escape(breakdown)}</title>")
        for s in series:
            value = s.values[i] or 0
            if value <= 0:
                continue
            h = (bottom - top) * value / y_max
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{max(h - 0.6, 0.6):.1f}" '
                f'fill="{s.color}" />'
            )
        parts.append("</g>")
    _markers(parts, markers, centers, top, bottom)
    _x_labels(parts, labels, centers, height - 10)
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    percent: bool = True,
    tooltips: Sequence[str] | None = None,
    partial_last: bool = False,
    markers: Sequence[tuple[int, str]] = (),
    width: int = 920,
    height: int = 260,
) -> Markup:
    """Lines with points per bucket; None values leave a gap (nothing to measure).

    With `partial_last`, the line into the last (incomplete) bucket is dashed."""
    values = [v for s in series for v in s.values if v is not None]
    if not labels or not values:
        return empty_chart("No relevant articles in this view")
    left, right, top, bottom = 48.0, width - 12.0, 14.0, height - 30.0
    y_max = nice_max(max(values) * 1.1 or 0.1, percent)
    parts = _frame(width, height, "Line chart of frame shares")
    _y_axis(parts, top, bottom, left, right, y_max, percent)
    slot = (right - left) / len(labels)
    centers = [left + slot * (i + 0.5) for i in range(len(labels))]

    def y_of(value: float) -> float:
        return bottom - (bottom - top) * min(value, y_max) / y_max

    for s in series:
        values = list(s.values)
        tail: tuple[int, float] | None = None
        if partial_last and len(values) >= 2 and values[-1] is not None and values[-2] is not None:
            tail = (len(values) - 1, values[-1])
            values[-1] = None  # drawn dashed below
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
            else:
                runs[-1].append((centers[i], y_of(value)))
        for run in runs:
            if len(run) >= 2:
                path = " ".join(f"{'M' if j == 0 else 'L'}{x:.1f},{y:.1f}" for j, (x, y) in enumerate(run))
                if len(series) == 1:
                    area = path + f" L{run[-1][0]:.1f},{bottom:.1f} L{run[0][0]:.1f},{bottom:.1f} Z"
                    parts.append(f'<path d="{area}" fill="{s.color}" fill-opacity="0.08" stroke="none" />')
                parts.append(
                    f'<path d="{path}" fill="none" stroke="{s.color}" stroke-width="2.2" '
                    'stroke-linejoin="round" stroke-linecap="round" />'
                )
        if tail is not None:
            i, value = tail
            prev = s.values[i - 1]
            assert prev is not None
            parts.append(
                f'<path d="M{centers[i - 1]:.1f},{y_of(prev):.1f} L{centers[i]:.1f},{y_of(value):.1f}" '
                f'fill="none" stroke="{s.color}" stroke-width="2" stroke-dasharray="4 4" opacity="0.6" />'
            )
        for i, value in enumerate(s.values):
            if value is None:
                continue
            head = (tooltips[i] if tooltips else labels[i]) + (
                " (so far)" if partial_last and i == len(labels) - 1 else ""
            )
            parts.append(
                f'<circle cx="{centers[i]:.1f}" cy="{y_of(value):.1f}" r="3.2" fill="#fff" '
                f'stroke="{s.color}" stroke-width="2"><title>{escape(head)} — {escape(s.name)}: '
                f"{_fmt(value, percent)}</title></circle>"
            )
    _markers(parts, markers, centers, top, bottom)
    _x_labels(parts, labels, centers, height - 10)
    parts.append("</svg>")
    return Markup("".join(parts))


def _markers(
    parts: list[str], markers: Sequence[tuple[int, str]], centers: Sequence[float], top: float, bottom: float
) -> None:
    """Where a shift finding fired: a dashed rule over the bucket and a flag whose hover
    text is the finding's headline (several in one bucket share one flag)."""
    by_bucket: dict[int, list[str]] = {}
    for index, text in markers:
        if 0 <= index < len(centers):
            by_bucket.setdefault(index, []).append(text)
    for index, texts in sorted(by_bucket.items()):
        x = centers[index]
        parts.append(
            f'<g class="finding-marker"><title>{escape(chr(10).join(texts))}</title>'
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" stroke="{MARKER_COLOR}" '
            'stroke-width="1.5" stroke-dasharray="3 3" />'
            f'<path d="M{x - 6:.1f},{top - 2:.1f} L{x + 6:.1f},{top - 2:.1f} L{x:.1f},{top + 8:.1f} Z" '
            f'fill="{MARKER_COLOR}" /></g>'
        )


def hbar(value: float, max_value: float, color: str, *, width: int = 140, height: int = 10) -> Markup:
    """A small horizontal bar for tables (share or count relative to the largest)."""
    share = 0.0 if max_value <= 0 else max(0.0, min(value / max_value, 1.0))
    filled = width * share
    return Markup(
        f'<svg class="hbar" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-hidden="true"><rect width="{width}" height="{height}" rx="{height / 2}" fill="#eef1f5" />'
        f'<rect width="{filled:.1f}" height="{height}" rx="{height / 2}" fill="{color}" /></svg>'
    )


def score_bar(score: float, threshold: float, color: str, *, width: int = 120, height: int = 8) -> Markup:
    """The model's score as a bar, with the decision threshold as a tick."""
    score = max(0.0, min(float(score), 1.0))
    tick = width * max(0.0, min(threshold, 1.0))
    return Markup(
        f'<svg class="scorebar" width="{width}" height="{height + 6}" viewBox="0 0 {width} {height + 6}" '
        f'aria-label="score {score:.2f}, threshold {threshold:.2f}">'
        f'<rect y="3" width="{width}" height="{height}" rx="{height / 2}" fill="#eef1f5" />'
        f'<rect y="3" width="{width * score:.1f}" height="{height}" rx="{height / 2}" fill="{color}" />'
        f'<line x1="{tick:.1f}" x2="{tick:.1f}" y1="0" y2="{height + 6}" stroke="#1f2937" '
        f'stroke-width="1.5" /></svg>'
    )


def swatch(color: str, size: int = 10) -> Markup:
    return Markup(
        f'<svg class="swatch" width="{size}" height="{size}" aria-hidden="true">'
        f'<rect width="{size}" height="{size}" rx="2" fill="{color}" /></svg>'
    )
