"""Reading the model card (models/model_card.json) for the Models page and the review queue.

The card is written by `classifiers.train`; the archive only reads it, and tolerates any
shape it does not know (older cards, new keys from the retraining gate) instead of failing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipeline.store.archive import LABELS

CARD_FILE = "model_card.json"
DEFAULT_THRESHOLD = 0.5


def read_card(model_dir: Path | None) -> dict[str, Any] | None:
    if model_dir is None:
        return None
    try:
        data = json.loads((Path(model_dir) / CARD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def thresholds(card: dict[str, Any] | None) -> dict[str, float]:
    """Per-label decision thresholds from the card; 0.5 for any label it does not give."""
    out = dict.fromkeys(LABELS, DEFAULT_THRESHOLD)
    raw = (card or {}).get("thresholds")
    if isinstance(raw, dict):
        for label in LABELS:
            value = raw.get(label)
            if isinstance(value, dict):
                value = value.get("threshold")
            if isinstance(value, int | float) and 0.0 <= float(value) <= 1.0:
                out[label] = float(value)
    return out


def metric_rows(card: dict[str, Any], split: str) -> list[dict[str, Any]]:
    """One row per label of metrics[split] (precision, recall, f1, ...), known keys only."""
    metrics = (card.get("metrics") or {}).get(split) or {}
    rows = []
    for label in LABELS:
        entry = metrics.get(label)
        if isinstance(entry, dict):
            rows.append({"label": label, **{k: v for k, v in entry.items() if not isinstance(v, dict)}})
    return rows


KNOWN_HISTORY_KEYS = ("model_version", "decision", "promoted", "forced", "reason", "items", "test_f1")


def history(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The card's history, newest first, each entry with a normalised `decision` and the
    remaining keys kept for a details view (the retraining gate may add its own)."""
    entries = card.get("history")
    if not isinstance(entries, list):
        return []
    out = []
    for entry in reversed(entries):
        if not isinstance(entry, dict):
            continue
        decision = entry.get("decision")
        if decision is None and "promoted" in entry:
            decision = "promoted" if entry.get("promoted") else "rejected"
        if entry.get("forced"):
            decision = f"{decision or 'promoted'} (forced)"
        when = next(
            (entry[k] for k in ("decided_at", "trained_at", "created_at", "date", "at") if entry.get(k)),
            None,
        )
        f1 = entry.get("test_f1") if isinstance(entry.get("test_f1"), dict) else {}
        out.append(
            {
                "version": entry.get("model_version") or entry.get("candidate_version") or "?",
                "decision": decision or "replaced",
                "when": when,
                "reason": entry.get("reason"),
                "items": entry.get("items"),
                "test_f1": f1,
                "extra": {k: v for k, v in entry.items() if k not in KNOWN_HISTORY_KEYS},
            }
        )
    return out


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False, default=str)


METRIC_KEYS = ("precision", "recall", "f1", "support", "accuracy", "positives", "predicted")


def _metric_row(name: str, entry: Any) -> dict[str, Any] | None:
    if not isinstance(entry, dict):
        return None
    row: dict[str, Any] = {"name": name}
    for key in METRIC_KEYS:
        value = entry.get(key)
        row[key] = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if row["positives"] == 0:  # a family with nothing to find: only "no alert" can be right
        row["precision"] = row["recall"] = row["f1"] = None
    return row


def heldout(card: dict[str, Any] | None) -> dict[str, Any] | None:
    """The separately written test set's scores (card["heldout"]) as rows for the Models
    page: its description and caveat, then per label, per family and per language, each row
    beside the keyword baseline's. None when the card has no such section (older models)."""
    section = (card or {}).get("heldout")
    if not isinstance(section, dict):
        return None
    baseline = section.get("baseline") if isinstance(section.get("baseline"), dict) else {}

    def rows(key: str) -> list[dict[str, Any]]:
        group = section.get(key)
        if not isinstance(group, dict):
            return []
        base_group = baseline.get(key) if isinstance(baseline.get(key), dict) else {}
        out = []
        for name, entry in group.items():
            row = _metric_row(str(name), entry)
            if row is not None:
                row["baseline"] = _metric_row(str(name), base_group.get(name))
                out.append(row)
        return out

    return {
        "description": str(section.get("description") or ""),
        "caveat": str(section.get("caveat") or ""),
        "per_label": rows("per_label"),
        "per_family": rows("per_family"),
        "per_language": rows("per_language"),
    }
