"""CSV and JSON Lines exports of any archive view, streamed.

Rows arrive from `ArchiveQueries.iter_rows` (a `yield_per` cursor) and leave in chunks of a
few hundred lines, so a 100,000-row export holds one batch in memory, not the archive.

CSV cells are made safe for spreadsheets: a cell that starts with `=`, `+`, `-`, `@`, a
tab or a line break would be run as a formula by Excel/LibreOffice/Sheets (OWASP "CSV
injection"), so it is prefixed with `'`, which spreadsheets show as text. Feed titles are
attacker-controlled, so this is not theoretical.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from pipeline.store.archive import LABELS, ArchiveRow

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
CHUNK_ROWS = 250


def csv_safe(value: object) -> str:
    """A cell value spreadsheets will never evaluate."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)  # numbers are ours, never user text
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def record(row: ArchiveRow, article_url: str | None = None) -> dict[str, Any]:
    """The JSON shape of one article (JSONL export and the API): every label with its
    effective value, source, the model's own value and score, and who corrected it."""
    labels = {}
    for label in LABELS:
        correction = row.corrections.get(label)
        labels[label] = {
            "value": row.label(label),
            "source": row.source(label),
            "model_value": row.model[label],
            "score": round(row.scores[label], 4),
            "corrected_by": correction.who if correction else None,
            "corrected_via": correction.source if correction else None,
            "corrected_at": _iso(correction.at) if correction else None,
        }
    return {
        "id": row.id,
        "title": row.title,
        "url": row.url,
        "canonical_url": row.canonical_url,
        "outlet": row.outlet,
        "feed": row.feed_name,
        "feed_id": row.feed_id,
        "language": row.language,
        "date": _iso(row.date),
        "published_at": _iso(row.published_at),
        "fetched_at": _iso(row.fetched_at),
        "labels": labels,
        "evidence": {k: v for k, v in row.evidence.items() if v},
        "model_version": row.model_version,
        "classification_status": row.classification_status,
        "extraction_status": row.extraction_status,
        "story_id": row.story_id,
        "story_size": row.story_size,
        "duplicate_of": row.duplicate_of,
        "archive_url": article_url,
    }


CSV_COLUMNS = [
    "id",
    "date",
    "published_at",
    "fetched_at",
    "outlet",
    "feed",
    "language",
    "title",
    "url",
    *[f"{label}{suffix}" for label in LABELS for suffix in ("", "_source", "_model", "_score")],
    "evidence_pro_city_inclusion",
    "evidence_sovereignty_framing",
    "corrected_by",
    "model_version",
    "story_id",
    "story_size",
    "duplicate_of",
    "extraction_status",
    "archive_url",
]


def csv_cells(row: ArchiveRow, article_url: str | None = None) -> list[str]:
    values: dict[str, object] = {
        "id": row.id,
        "date": _iso(row.date),
        "published_at": _iso(row.published_at),
        "fetched_at": _iso(row.fetched_at),
        "outlet": row.outlet,
        "feed": row.feed_name,
        "language": row.language,
        "title": row.title,
        "url": row.url,
        "evidence_pro_city_inclusion": " | ".join(row.evidence.get("pro_city_inclusion", [])),
        "evidence_sovereignty_framing": " | ".join(row.evidence.get("sovereignty_framing", [])),
        "corrected_by": ", ".join(sorted({c.who for c in row.corrections.values()})),
        "model_version": row.model_version,
        "story_id": row.story_id,
        "story_size": row.story_size,
        "duplicate_of": row.duplicate_of,
        "extraction_status": row.extraction_status,
        "archive_url": article_url,
    }
    for label in LABELS:
        values[label] = row.label(label)
        values[f"{label}_source"] = row.source(label)
        values[f"{label}_model"] = row.model[label]
        values[f"{label}_score"] = round(row.scores[label], 4)
    return [csv_safe(values[column]) for column in CSV_COLUMNS]


def csv_chunks(
    rows: Iterable[ArchiveRow], article_url: Any = None, chunk_rows: int = CHUNK_ROWS
) -> Iterator[str]:
    """CSV text in chunks: a BOM (so Excel reads UTF-8), the header, then the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    for count, row in enumerate(rows, start=1):
        writer.writerow(csv_cells(row, article_url(row.id) if article_url else None))
        if count % chunk_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def jsonl_chunks(
    rows: Iterable[ArchiveRow], article_url: Any = None, chunk_rows: int = CHUNK_ROWS
) -> Iterator[str]:
    """One JSON object per line (UTF-8, no ASCII escaping), in chunks."""
    lines: list[str] = []
    for row in rows:
        item = record(row, article_url(row.id) if article_url else None)
        lines.append(json.dumps(item, ensure_ascii=False))
        if len(lines) >= chunk_rows:
            yield "\n".join(lines) + "\n"
            lines = []
    if lines:
        yield "\n".join(lines) + "\n"
