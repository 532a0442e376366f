"""The held-out test set: written separately, scored in aggregate only.

`classifiers/data/heldout/batch_*.jsonl` is written by a helper who saw only LABELING.md and
a list of situations, never the training items or this code, so it measures generalisation
rather than our own phrasing. Rules kept by this module and its callers:
- it never trains, selects features, sets thresholds or decides a promotion;
- only aggregate figures are computed (per label, per family, per language), never per item;
- the keyword baseline is scored on exactly the same items, through the same functions.

`heldout_section` builds the model card's "heldout" key that the archive's Models page shows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.baseline import keyword_labels
from classifiers.corpus import CORPUS_LANGUAGES, DATA_DIR, FAMILIES, LABELS, CorpusError
from classifiers.metrics import binary_scores, rounded

HELDOUT_DIR = DATA_DIR / "heldout"
HELDOUT_FIELDS = (
    "id",
    "title",
    "text",
    "language",
    "relevant",
    "pro_city_inclusion",
    "sovereignty_framing",
    "family",
)

DESCRIPTION = (
    "A test set written for issue 9 by separate writers who saw only LABELING.md and a list of "
    "situations (never the training corpus or the model), in the nine corpus languages: relevant "
    "coverage with and without each frame, passing mentions in long articles, look-alike "
    "processes, migration news without the compact, sovereignty debates on other subjects and "
    "ordinary news; a length-controlled supplement (long relevant articles, short passing "
    "mentions) and a supplement of migration news, ordinary news and sovereignty debates on "
    "other subjects (batches 30-32) were written the same way. It is never used for training, "
    "thresholds, design choices or the retraining gate; only aggregate scores are computed on it."
)
CAVEAT = (
    "It is still synthetic: one writer's texts, not articles sampled from the web, so it measures "
    "generalisation beyond the training writers' phrasing but not the real mix or messiness of "
    "coverage (its family proportions are chosen, not observed). Per-language and per-family "
    "rows rest on few items each; read their counts (support) before their scores. Per family, "
    "support is the number of items and accuracy the share judged correctly for relevance "
    "(for negative families: no alert)."
)


def load_heldout(directory: Path = HELDOUT_DIR) -> list[dict[str, Any]]:
    """Every valid item of the held-out batches (invalid or half-written lines are skipped)."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("batch_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                raw = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(raw, dict) or any(name not in raw for name in HELDOUT_FIELDS):
                continue
            if not all(isinstance(raw[label], bool) for label in LABELS) or not isinstance(raw["text"], str):
                continue
            key = f"{path.name}:{raw['id']}"
            if key in seen:
                continue
            seen.add(key)
            items.append(raw)
    return items


def require_heldout(directory: Path = HELDOUT_DIR) -> list[dict[str, Any]]:
    """The held-out items, or a one-line error when there are none."""
    items = load_heldout(directory)
    if not items:
        raise CorpusError(f"no held-out test items in {directory} (batch_*.jsonl)")
    return items


def _entry(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, Any]:
    """precision/recall/f1/support (+ accuracy and alert counts); None where undefined."""
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    scores = binary_scores(t, p)
    return {
        "precision": rounded(scores.precision) if p.any() else None,
        "recall": rounded(scores.recall) if t.any() else None,
        "f1": rounded(scores.f1) if t.any() else None,
        "support": int(t.size),
        "positives": int(t.sum()),
        "predicted": int(p.sum()),
        "accuracy": rounded(float(np.mean(t == p))) if t.size else None,
    }


def score_sets(items: Sequence[dict[str, Any]], predicted: dict[str, Sequence[bool]]) -> dict[str, Any]:
    """per_label / per_family / per_language for one set of decisions on the held-out items."""
    truth = {label: [bool(item[label]) for item in items] for label in LABELS}
    per_label = {label: _entry(truth[label], predicted[label]) for label in LABELS}
    per_family: dict[str, Any] = {}
    families = [f for f in FAMILIES if any(item["family"] == f for item in items)]
    families += sorted({str(item["family"]) for item in items} - set(families))
    for family in families:
        rows = [i for i, item in enumerate(items) if item["family"] == family]
        per_family[family] = _entry(
            [truth["relevant"][i] for i in rows], [predicted["relevant"][i] for i in rows]
        )
    per_language: dict[str, Any] = {}
    languages = sorted(
        {str(item["language"]) for item in items}, key=lambda c: (c not in CORPUS_LANGUAGES, c)
    )
    for language in languages:
        rows = [i for i, item in enumerate(items) if item["language"] == language]
        per_language[language] = _entry(
            [truth["relevant"][i] for i in rows], [predicted["relevant"][i] for i in rows]
        )
    return {"per_label": per_label, "per_family": per_family, "per_language": per_language}


def baseline_decisions(items: Sequence[dict[str, Any]]) -> dict[str, list[bool]]:
    """The keyword rule's labels for the held-out items."""
    labels = [keyword_labels(str(item["title"]), str(item["text"])) for item in items]
    return {label: [row[label] for row in labels] for label in LABELS}


def heldout_section(items: Sequence[dict[str, Any]], predicted: dict[str, Sequence[bool]]) -> dict[str, Any]:
    """The model card's "heldout" key: model scores, the same for the keyword baseline."""
    section: dict[str, Any] = {
        "description": DESCRIPTION,
        "caveat": CAVEAT,
        "items": len(items),
        **score_sets(items, predicted),
    }
    section["baseline"] = score_sets(items, baseline_decisions(items))
    section["per_family_note"] = "per_family and per_language rows score relevance"
    return section
