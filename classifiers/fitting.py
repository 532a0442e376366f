"""Fitting: the label designs, cross-validated scores, thresholds and the final fit.

Why the pieces are what they are:
- One featurization (`ArticleFeatures`) is computed once for all examples and shared by the
  three labels; each label only fits its own calibrated logistic regression on top.
- Frame classifiers are fitted on relevant items only: the frames are defined only for
  relevant articles, and a frame model fed football reports learns "is this about
  migration" instead of "does this article carry the frame".
- Thresholds come from 5-fold out-of-fold scores on the training examples (max F1 subject
  to a precision target: a wrong alert costs more than a missed one), never from a test set.
- Every random choice has a fixed seed, so the same data gives the same model bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from classifiers.corpus import FRAMES, LABELS
from classifiers.examples import Example
from classifiers.features import (
    RANDOM_STATE,
    ArticleFeatures,
    ClassifierDesign,
    FeatureDesign,
    assemble,
    build_classifier,
    build_features,
    to_inputs,
)
from classifiers.metrics import choose_threshold

N_FOLDS = 5


@dataclass(frozen=True)
class LabelDesign:
    """The classifier of one label (the featurization is shared, see FEATURES)."""

    classifier: ClassifierDesign

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy for the model card."""
        return {"classifier": self.classifier.as_dict()}


FEATURES = FeatureDesign()
# C per label: chosen by 5-fold cross-validation on the training split (C in 1-64, out-of-fold
# F1 and average precision) while the features were developed; never tuned on the held-out
# set. Relevance was flat from C=4 to 16; the sovereignty frame, argued in many different
# words, gained most from weaker regularisation (OOF F1 0.82 at C=1, 0.92 at C=32).
DESIGNS: dict[str, LabelDesign] = {
    "relevant": LabelDesign(ClassifierDesign("logreg", 8.0)),
    "pro_city_inclusion": LabelDesign(ClassifierDesign("logreg", 16.0)),
    "sovereignty_framing": LabelDesign(ClassifierDesign("logreg", 32.0)),
}
# Alert precision targets for the thresholds. Relevance decides what reaches Slack, so it
# gets the strict target; frames are badges on an alert that already passed relevance.
PRECISION_TARGETS: dict[str, float] = {
    "relevant": 0.90,
    "pro_city_inclusion": 0.85,
    "sovereignty_framing": 0.85,
}


def _n_splits(y: np.ndarray, wanted: int = N_FOLDS) -> int:
    """Folds for calibration: at most `wanted`, at most the size of the smaller class."""
    smallest = int(min(np.sum(y), np.sum(~y)))
    if smallest < 2:
        raise ValueError("each label needs at least two positive and two negative examples")
    return min(wanted, smallest)


def featurize(
    examples: Sequence[Example], features: FeatureDesign = FEATURES
) -> tuple[ArticleFeatures, sp.csr_matrix]:
    """The fitted shared featurizer and the feature matrix of `examples`."""
    extractor = build_features(features)
    inputs = to_inputs([(e.title, e.text) for e in examples])
    return extractor, extractor.fit(inputs).transform(inputs)


def fit_heads(
    examples: Sequence[Example], matrix: sp.csr_matrix, designs: dict[str, LabelDesign] | None = None
) -> dict[str, object]:
    """Fit each label's calibrated classifier on its rows of the shared matrix."""
    designs = designs or DESIGNS
    heads: dict[str, object] = {}
    for label in LABELS:
        rows = np.array([i for i, e in enumerate(examples) if e.trains(label)])
        y = np.array([bool(examples[i].labels[label]) for i in rows])
        heads[label] = build_classifier(designs[label].classifier, _n_splits(y)).fit(matrix[rows], y)
    return heads


def fit_container(
    examples: Sequence[Example], designs: dict[str, LabelDesign] | None = None
) -> dict[str, Pipeline]:
    """Fit the three label pipelines (one shared featurizer) on `examples`."""
    extractor, matrix = featurize(examples)
    return assemble(extractor, fit_heads(examples, matrix, designs))  # type: ignore[arg-type]


def fold_indices(examples: Sequence[Example], n_folds: int = N_FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds over the label combination (deterministic)."""
    strata = np.array([e.stratum for e in examples])
    counts = {s: int(np.sum(strata == s)) for s in set(strata)}
    # a stratum smaller than the number of folds is merged into its relevance class
    strata = np.array(
        [s if counts[s] >= n_folds else ("irrelevant" if s == "irrelevant" else "R") for s in strata]
    )
    splitter = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=RANDOM_STATE)
    return list(splitter.split(np.zeros(len(examples)), strata))


def out_of_fold_scores(
    examples: Sequence[Example],
    designs: dict[str, LabelDesign] | None = None,
    n_folds: int = N_FOLDS,
) -> dict[str, np.ndarray]:
    """Cross-validated probabilities for every example and label (frames: P(frame | relevant)).

    The featurization is stateless, so it is computed once and sliced per fold.
    """
    _, matrix = featurize(examples)
    scores = {label: np.full(len(examples), np.nan) for label in LABELS}
    for train_idx, valid_idx in fold_indices(examples, n_folds):
        heads = fit_heads([examples[i] for i in train_idx], matrix[train_idx], designs)
        for label in LABELS:
            scores[label][valid_idx] = heads[label].predict_proba(matrix[valid_idx])[:, 1]  # type: ignore[attr-defined]
    return scores


def choose_thresholds(
    examples: Sequence[Example], oof: dict[str, np.ndarray]
) -> dict[str, dict[str, float | bool]]:
    """Per-label thresholds from out-of-fold scores (frames judged on relevant items)."""
    chosen: dict[str, dict[str, float | bool]] = {}
    for label in LABELS:
        rows = [i for i, e in enumerate(examples) if e.trains(label)]
        truth = np.array([bool(examples[i].labels[label]) for i in rows])
        choice = choose_threshold(truth, oof[label][rows], PRECISION_TARGETS[label])
        chosen[label] = choice.as_dict()
    return chosen


def decide(scores: dict[str, np.ndarray], thresholds: dict[str, float]) -> dict[str, np.ndarray]:
    """Apply thresholds; a frame is present only when the article is relevant."""
    relevant = scores["relevant"] >= thresholds["relevant"]
    out = {"relevant": relevant}
    for frame in FRAMES:
        out[frame] = relevant & (scores[frame] >= thresholds[frame])
    return out
