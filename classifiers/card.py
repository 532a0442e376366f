"""The model card: the JSON file beside the model that says what it is and how good it is.

Read by the live classifier (version, thresholds, file hash), the retraining gate (history),
`make eval` (evaluation) and the archive's Models page (metrics, history, held-out scores).
Written atomically, with stable formatting, so the same training gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import platform
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.corpus import family_of

MODEL_FILE = "compactwatch.skops"
CARD_FILE = "model_card.json"
CARD_SCHEMA = 2


def read_card(out_dir: Path) -> dict[str, Any] | None:
    """The current model card, or None when there is none (or it is unreadable)."""
    path = out_dir / CARD_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_card(out_dir: Path, card: dict[str, Any]) -> Path:
    """Write the card atomically with stable formatting (key order is meaningful)."""
    path = out_dir / CARD_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def history_entry(card: dict[str, Any], replaced_on: dt.date) -> dict[str, Any]:
    """The part of an old card worth keeping when it is replaced (read by the archive UI)."""
    test = card.get("metrics", {}).get("test", {})
    return {
        "model_version": card.get("model_version"),
        "decision": "replaced",
        "decided_at": replaced_on.isoformat(),
        "data_sha256": card.get("data", {}).get("sha256"),
        "items": card.get("data", {}).get("items"),
        "model_sha256": card.get("files", {}).get(MODEL_FILE, {}).get("sha256"),
        "thresholds": {k: v.get("threshold") for k, v in card.get("thresholds", {}).items()},
        "test_f1": {k: v.get("f1") for k, v in test.items() if isinstance(v, dict) and "f1" in v},
    }


def library_versions() -> dict[str, str]:
    """Versions of everything that shapes the model file's bytes and meaning."""
    import scipy
    import sklearn
    import skops

    return {
        "scikit-learn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "python": platform.python_version(),
    }


def corpus_summary(items: Sequence[dict[str, object]]) -> dict[str, Any]:
    """Counts of the corpus by family, category, language and label (for the card)."""

    def counted(values: Sequence[str]) -> dict[str, int]:
        return dict(sorted(Counter(values).items()))

    return {
        "families": counted([family_of(item) for item in items]),
        "categories": counted([str(item["category"]) for item in items]),
        "languages": counted([str(item["language"]) for item in items]),
        "relevant_by_language": counted([str(item["language"]) for item in items if item["relevant"]]),
        "pro_city_inclusion": sum(1 for item in items if item["pro_city_inclusion"]),
        "sovereignty_framing": sum(1 for item in items if item["sovereignty_framing"]),
    }


def fingerprint_of(payload: dict[str, Any]) -> str:
    """sha256 of a JSON payload with sorted keys (design fingerprints)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
