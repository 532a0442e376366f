"""Small, dependency-light metric helpers shared by training (thresholds) and evaluation.

Kept apart from `evaluate.py` so training can choose thresholds without importing the
reporting code, and so every figure in the model card is computed one way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Figures in the model card are rounded so that re-running training on the same data gives
# the same bytes even if BLAS summation order differs in the last bits.
DIGITS = 4


def rounded(value: float) -> float:
    """Round for the model card (see DIGITS)."""
    return round(float(value), DIGITS)


@dataclass(frozen=True)
class BinaryScores:
    """Precision/recall/F1 with the counts behind them (counts make small sets honest)."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int
    tn: int

    def as_dict(self) -> dict[str, float | int]:
        """JSON shape for the model card."""
        return {
            "precision": rounded(self.precision),
            "recall": rounded(self.recall),
            "f1": rounded(self.f1),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


def binary_scores(truth: Sequence[bool] | np.ndarray, predicted: Sequence[bool] | np.ndarray) -> BinaryScores:
    """Precision, recall and F1 of the positive class; 0.0 (not NaN) when undefined."""
    t = np.asarray(truth, dtype=bool)
    p = np.asarray(predicted, dtype=bool)
    tp = int(np.sum(t & p))
    fp = int(np.sum(~t & p))
    fn = int(np.sum(t & ~p))
    tn = int(np.sum(~t & ~p))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BinaryScores(precision, recall, f1, tp, fp, fn, tn)


def brier(truth: Sequence[bool] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Mean squared error of the probabilities (lower is better; 0.25 = coin flip)."""
    t = np.asarray(truth, dtype=float)
    s = np.asarray(scores, dtype=float)
    return float(np.mean((s - t) ** 2)) if len(t) else 0.0


def average_precision(truth: Sequence[bool] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the precision-recall curve (threshold-free ranking quality)."""
    from sklearn.metrics import average_precision_score

    t = np.asarray(truth, dtype=bool)
    if t.all() or not t.any():
        return 0.0
    return float(average_precision_score(t, np.asarray(scores, dtype=float)))


@dataclass(frozen=True)
class ThresholdChoice:
    """A decision threshold and why it was chosen (kept in the model card)."""

    threshold: float
    precision: float
    recall: float
    f1: float
    min_precision: float
    target_met: bool

    def as_dict(self) -> dict[str, float | bool]:
        """JSON shape for the model card."""
        return {
            "threshold": rounded(self.threshold),
            "validation_precision": rounded(self.precision),
            "validation_recall": rounded(self.recall),
            "validation_f1": rounded(self.f1),
            "min_precision": self.min_precision,
            "precision_target_met": self.target_met,
        }


def choose_threshold(
    truth: Sequence[bool] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    min_precision: float,
    floor: float = 0.05,
    ceiling: float = 0.95,
) -> ThresholdChoice:
    """Maximise F1 subject to precision ≥ `min_precision` on validation scores.

    Why this rule: an alert that is wrong costs the comms team's trust more than a missed
    article costs coverage, so precision is the constraint and F1 the objective. The cut is
    placed halfway between the chosen score and the next lower one, so a new article scoring a
    hair below a validation positive is not lost to rounding; it is clamped to [floor, ceiling]
    because a cut at 0.999 or 0.001 learned from a few hundred items will not transfer. When
    no cut meets the precision target, the best-F1 cut is kept and `target_met` says so.
    """
    t = np.asarray(truth, dtype=bool)
    s = np.asarray(scores, dtype=float)
    candidates = np.unique(s)[::-1]  # high to low
    best: tuple[float, float, float, float] | None = None  # (f1, precision, recall, cut)
    fallback: tuple[float, float, float, float] | None = None
    for index, cut in enumerate(candidates):
        if cut < floor or cut > ceiling:
            continue
        lower = candidates[index + 1] if index + 1 < len(candidates) else 0.0
        result = binary_scores(t, s >= cut)
        key = (result.f1, result.precision, result.recall, (cut + max(lower, floor)) / 2)
        if fallback is None or key[:3] > fallback[:3]:
            fallback = key
        if result.precision >= min_precision and (best is None or key[:3] > best[:3]):
            best = key
    chosen, met = (best, True) if best is not None else (fallback, False)
    if chosen is None:  # no scores at all inside [floor, ceiling]
        return ThresholdChoice(0.5, 0.0, 0.0, 0.0, min_precision, False)
    f1, precision, recall, cut = chosen
    return ThresholdChoice(float(cut), precision, recall, f1, min_precision, met)
