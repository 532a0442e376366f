"""Scoring a set of examples the way the model card reports it.

One function per view, all end to end: a frame counts as predicted only when relevance was
predicted too (what an analyst sees); `given_relevant` scores the frame model alone on the
truly relevant items, which separates frame errors from relevance errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from classifiers.corpus import FRAMES, LABELS, ORDINARY_CATEGORY
from classifiers.examples import Example
from classifiers.fitting import decide
from classifiers.metrics import average_precision, binary_scores, brier, rounded


def label_metrics(
    truth: dict[str, np.ndarray],
    scores: dict[str, np.ndarray],
    thresholds: dict[str, float],
) -> dict[str, dict[str, Any]]:
    """Per-label P/R/F1, Brier and average precision, end to end, plus frames given relevance."""
    decisions = decide(scores, thresholds)
    out: dict[str, dict[str, Any]] = {}
    for label in LABELS:
        entry: dict[str, Any] = binary_scores(truth[label], decisions[label]).as_dict()
        relevant_only = np.where(decisions["relevant"], scores[label], 0.0)
        shown = scores[label] if label == "relevant" else relevant_only
        entry["brier"] = rounded(brier(truth[label], shown))
        entry["average_precision"] = rounded(average_precision(truth[label], shown))
        if label in FRAMES and truth["relevant"].any():
            rows = truth["relevant"]
            given = binary_scores(truth[label][rows], scores[label][rows] >= thresholds[label])
            entry["given_relevant"] = given.as_dict()
        out[label] = entry
    return out


def split_metrics(
    examples: Sequence[Example], scores: dict[str, np.ndarray], thresholds: dict[str, float]
) -> dict[str, Any]:
    """Metrics of one split in the model card's shape (fully labelled examples only)."""
    rows = [i for i, e in enumerate(examples) if all(e.labels[k] is not None for k in LABELS)]
    truth = {k: np.array([bool(examples[i].labels[k]) for i in rows]) for k in LABELS}
    sub = {k: np.asarray(v)[rows] for k, v in scores.items()}
    decisions = decide(sub, thresholds)
    result: dict[str, Any] = {"items": len(rows)}
    result.update(label_metrics(truth, sub, thresholds))
    ordinary = np.array([examples[i].category == ORDINARY_CATEGORY for i in rows])
    false_alerts = int(np.sum(decisions["relevant"] & ordinary))
    result["ordinary_news"] = {
        "items": int(ordinary.sum()),
        "false_alerts": false_alerts,
        "per_150": rounded(150 * false_alerts / ordinary.sum()) if ordinary.any() else None,
    }
    return result
