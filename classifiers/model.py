"""The live classifier: load the model once, classify (title, text) pairs into Classifications.

This is the one call the pipeline makes (`classify_texts` or `load_classifier(...).classify`).
It never raises for a bad article: empty text and unsupported languages come back as a
Classification with a status, so one odd page cannot stop a polling cycle. Loading, on the
other hand, fails loudly with a one-line ModelError (missing, tampered or incompatible model),
because silently running without a classifier would mean silently sending no alerts.

Speed (issue 9: ≤ 2 ms for a 10,000-character article, all labels plus evidence):
- a cheap gate (`classifiers.lexicon.passes_gate`) skips the models for texts that name nothing of
  the compact family in any of the nine languages: most of what a monitor fetches;
- the shared featurization runs once per article; each label is then one sparse dot product
  and a sigmoid (`LinearHead`, read from the fitted calibrated classifier at load time,
  equal to its `predict_proba`, without scikit-learn's per-call validation overhead);
- frames and their evidence are only computed for relevant articles, evidence only for a
  frame that is present.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from classifiers.card import CARD_FILE
from classifiers.corpus import FRAMES, LABELS
from classifiers.evidence import EVIDENCE_CHARS, Scorer, Sentences, find_evidence, split_for_evidence
from classifiers.features import MAX_CHARS, ArticleFeatures, to_inputs
from classifiers.language import detect_language
from classifiers.lexicon import passes_gate
from classifiers.persist import load_model
from classifiers.sentences import sentence_decisions
from pipeline.errors import ModelError
from pipeline.records import Classification, FrameResult

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"

_NO_FRAME = FrameResult(present=False, score=0.0)


@dataclass(frozen=True)
class LinearHead:
    """One label's calibrated linear classifier as plain arrays: sigmoid(a·(x·w + c) + b)."""

    weights: np.ndarray
    intercept: float
    a: float
    b: float

    @classmethod
    def from_calibrated(cls, calibrated: Any) -> LinearHead:
        """Read the weights of a fitted `CalibratedClassifierCV(ensemble=False)`."""
        inner = calibrated.calibrated_classifiers_[0]
        estimator, calibrator = inner.estimator, inner.calibrators[0]
        if list(estimator.classes_) != [False, True]:
            raise ModelError("model classes are not [False, True]")
        return cls(
            np.asarray(estimator.coef_, dtype=np.float64).ravel(),
            float(np.asarray(estimator.intercept_).ravel()[0]),
            float(calibrator.a_),
            float(calibrator.b_),
        )

    def decision(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Uncalibrated decision values (the logistic regression's)."""
        return np.asarray(matrix @ self.weights).ravel() + self.intercept

    def proba(self, matrix: sp.csr_matrix) -> np.ndarray:
        """Calibrated probabilities of the positive class."""
        return self._sigmoid(self.decision(matrix))

    def proba_parts(self, words: sp.csr_matrix, profiles: np.ndarray) -> np.ndarray:
        """Probabilities from the featurizer's two blocks (`ArticleFeatures.parts`)."""
        split = words.shape[1]
        decision = words @ self.weights[:split] + profiles @ self.weights[split:] + self.intercept
        return self._sigmoid(np.asarray(decision).ravel())

    def proba_decisions(self, decisions: np.ndarray) -> np.ndarray:
        """Probabilities from decision values computed without the intercept."""
        return self._sigmoid(decisions + self.intercept)

    def proba_row(self, row: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
        """The probability for one article's `ArticleFeatures.row`."""
        columns, values, profile = row
        split = len(self.weights) - len(profile)
        decision = (
            float(values @ self.weights[columns]) + float(profile @ self.weights[split:]) + self.intercept
        )
        return float(self._sigmoid(np.array([decision]))[0])

    def _sigmoid(self, decision: np.ndarray) -> np.ndarray:
        # expit, as scikit-learn's calibrator uses: no overflow warning for confident scores
        return expit(-(self.a * decision + self.b))


class Classifier:
    """Three calibrated heads on one shared featurization, plus the card's thresholds."""

    def __init__(self, pipelines: dict[str, Any], card: dict[str, Any]) -> None:
        self.pipelines = pipelines
        self.card = card
        self.model_version: str = str(card["model_version"])
        self.thresholds: dict[str, float] = {
            label: float(card["thresholds"][label]["threshold"]) for label in LABELS
        }
        features = pipelines["relevant"].steps[0][1]
        if not isinstance(features, ArticleFeatures):
            raise ModelError("model file does not hold the shared ArticleFeatures featurizer")
        self.features: ArticleFeatures = features
        self.heads = {label: LinearHead.from_calibrated(pipelines[label].steps[-1][1]) for label in LABELS}

    def sentence_scorer(self, frame: str) -> Scorer:
        """A function scoring sentences with one frame's weights (used for evidence)."""
        head = self.heads[frame]

        def score(sentences: Sequence[tuple[list[str], list[str]]]) -> np.ndarray:
            return head.proba_decisions(sentence_decisions(self.features, head.weights, sentences))

        return score

    def classify(self, items: Sequence[tuple[str, str]]) -> list[Classification]:
        """Classify (title, text) pairs; one Classification per pair, in order.

        Texts are cut to their first MAX_CHARS characters before anything else, so a 5 MB page
        costs the same as a long article. Frames are present only on relevant articles, and
        their score is then P(frame | relevant); on other articles it is 0. A text the gate
        rules out (no compact-family term at all) gets relevance 0 without running the models.
        """
        results: list[Classification | None] = [None] * len(items)
        to_score: list[int] = []
        prepared: list[tuple[str, str, str]] = []  # (title, text, language)
        for index, (title, text) in enumerate(items):
            title = title if isinstance(title, str) else ""
            text = text if isinstance(text, str) else ""
            title, text = title[:MAX_CHARS], text[:MAX_CHARS]
            prepared.append((title, text, ""))
            if not text.strip():
                results[index] = self._unscored("empty_text", None)
                continue
            guess = detect_language(f"{title}\n{text}")
            if not guess.supported:
                results[index] = self._unscored("language_unsupported", guess.code)
                continue
            if not passes_gate(f"{title}\n{text}".lower()):
                results[index] = self._unscored("ok", guess.code)
                continue
            prepared[index] = (title, text, guess.code)
            to_score.append(index)
        for index in to_score:  # one at a time: the pipeline's workers send one article per call
            [(title, body)] = to_inputs([(prepared[index][0], prepared[index][1])])
            row, words = self.features.row_and_tokens(title, body)
            relevance = self.heads["relevant"].proba_row(row)
            results[index] = self._decide(
                body, prepared[index][2], relevance, row, self._evidence_words(body, words)
            )
        return [result for result in results if result is not None]

    def _evidence_words(self, body: str, words: list[str]) -> list[str] | None:
        """The featurizer's tokens when they are exactly those of the evidence window (same
        length read, and lower-casing kept every offset), else None (evidence tokenizes)."""
        same_window = self.features.lexical_chars == EVIDENCE_CHARS
        return words if same_window and (body.isascii() or len(body.lower()) == len(body)) else None

    def _unscored(self, status: str, language: str | None) -> Classification:
        return Classification(
            relevant=False,
            relevance=0.0,
            pro_city_inclusion=_NO_FRAME,
            sovereignty_framing=_NO_FRAME,
            model_version=self.model_version,
            language=language,
            status=status,
        )

    def _decide(
        self,
        text: str,
        language: str,
        relevance: float,
        row: tuple[np.ndarray, np.ndarray, np.ndarray],
        words: list[str] | None = None,
    ) -> Classification:
        relevant = relevance >= self.thresholds["relevant"]
        frames: dict[str, FrameResult] = {}
        split: Sentences | None = None  # split once, shared by both frames' evidence
        for frame in FRAMES:
            if not relevant:
                frames[frame] = _NO_FRAME
                continue
            score = self.heads[frame].proba_row(row)
            present = score >= self.thresholds[frame]
            evidence: tuple[str, ...] = ()
            if present:
                split = split or split_for_evidence(text, words)
                evidence = find_evidence(split, self.sentence_scorer(frame), frame=frame)
            frames[frame] = FrameResult(present=present, score=score, evidence=evidence)
        return Classification(
            relevant=relevant,
            relevance=relevance,
            pro_city_inclusion=frames["pro_city_inclusion"],
            sovereignty_framing=frames["sovereignty_framing"],
            model_version=self.model_version,
            language=language,
            status="ok",
        )


def read_card(model_dir: Path) -> dict[str, Any]:
    """The model card of `model_dir`, or a ModelError saying what is wrong with it."""
    path = model_dir / CARD_FILE
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"no model card at {path}: run `make train`") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"model card {path} is unreadable: {exc}") from exc
    missing = [
        key for key in ("model_version", "model_file", "files", "libraries", "thresholds") if key not in card
    ]
    if missing:
        raise ModelError(f"model card {path} lacks {', '.join(missing)}: run `make train`")
    return card


def load_classifier(model_dir: Path = DEFAULT_MODEL_DIR) -> Classifier:
    """Load and verify the model in `model_dir` (hash, scikit-learn version, trusted types)."""
    card = read_card(model_dir)
    name = str(card["model_file"])
    try:
        expected = str(card["files"][name]["sha256"])
        trained_with = str(card["libraries"]["scikit-learn"])
    except (KeyError, TypeError):
        raise ModelError(f"model card in {model_dir} lacks the sha256 or sklearn version of {name}") from None
    pipelines = load_model(model_dir / name, expected_sha256=expected, trained_sklearn=trained_with)
    if not isinstance(pipelines, dict) or any(label not in pipelines for label in LABELS):
        raise ModelError(f"model file {model_dir / name} does not hold the three label pipelines")
    try:
        return Classifier(pipelines, card)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise ModelError(f"model in {model_dir} is not usable (retrain with `make train`): {exc}") from exc


_cache_lock = threading.Lock()
_cache: dict[Path, tuple[bytes, Classifier]] = {}


def get_classifier(model_dir: Path = DEFAULT_MODEL_DIR) -> Classifier:
    """A process-wide loaded classifier, reloaded when its model card changes on disk."""
    key = model_dir.resolve()
    try:
        card_bytes = (key / CARD_FILE).read_bytes()
    except OSError:
        card_bytes = b""
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == card_bytes:
            return cached[1]
        classifier = load_classifier(key)
        _cache[key] = (card_bytes, classifier)
        return classifier


def classify_texts(
    items: Sequence[tuple[str, str]], model_dir: Path = DEFAULT_MODEL_DIR
) -> list[Classification]:
    """Classify (title, text) pairs with the model in `model_dir` (loaded once per process)."""
    return get_classifier(model_dir).classify(items)
