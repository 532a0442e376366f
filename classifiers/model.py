"""The live classifier: load the model once, classify (title, text) pairs into Classifications.

This is the one call the pipeline makes (`classify_texts` or `load_classifier(...).classify`).
It never raises for a bad article: empty text and unsupported languages come back as a
Classification with a status, so one odd page cannot stop a polling cycle. Loading, on the
other hand, fails loudly with a one-line ModelError (missing, tampered or incompatible model),
because silently running without a classifier would mean silently sending no alerts.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from classifiers.corpus import FRAMES, LABELS
from classifiers.evidence import Scorer, find_evidence
from classifiers.features import MAX_CHARS, to_inputs
from classifiers.language import detect_language
from classifiers.persist import load_model
from classifiers.train import CARD_FILE
from pipeline.errors import ModelError
from pipeline.records import Classification, FrameResult

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"

_NO_FRAME = FrameResult(present=False, score=0.0)


class Classifier:
    """Three calibrated pipelines plus the thresholds and version from their model card."""

    def __init__(self, pipelines: dict[str, Any], card: dict[str, Any]) -> None:
        self.pipelines = pipelines
        self.card = card
        self.model_version: str = str(card["model_version"])
        self.thresholds: dict[str, float] = {
            label: float(card["thresholds"][label]["threshold"]) for label in LABELS
        }

    def scores(self, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        """Raw calibrated probabilities per label (frames: P(frame | relevant)), no gating."""
        if not pairs:
            return {label: np.zeros(0) for label in LABELS}
        inputs = to_inputs(pairs)
        return {label: self.pipelines[label].predict_proba(inputs)[:, 1] for label in LABELS}

    def _gated_scores(self, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        """Like `scores`, but the frame models only see relevant texts: frames are never
        shown for irrelevant ones, and skipping them halves the cost of a typical batch."""
        inputs = to_inputs(pairs)
        relevance = self.pipelines["relevant"].predict_proba(inputs)[:, 1]
        out = {"relevant": relevance}
        keep = np.flatnonzero(relevance >= self.thresholds["relevant"])
        for frame in FRAMES:
            column = np.zeros(len(pairs))
            if keep.size:
                column[keep] = self.pipelines[frame].predict_proba(inputs[keep])[:, 1]
            out[frame] = column
        return out

    def sentence_scorer(self, frame: str) -> Scorer:
        """A function scoring sentences with one frame's model (used for evidence)."""
        pipeline = self.pipelines[frame]

        def score(sentences: Sequence[str]) -> np.ndarray:
            return pipeline.predict_proba(to_inputs([("", s) for s in sentences]))[:, 1]

        return score

    def classify(self, items: Sequence[tuple[str, str]]) -> list[Classification]:
        """Classify (title, text) pairs; one Classification per pair, in order.

        Texts are cut to their first MAX_CHARS characters before anything else, so a 5 MB page
        costs the same as a long article. Frames are present only on relevant articles, and
        their score is then P(frame | relevant); on other articles it is 0.
        """
        results: list[Classification | None] = [None] * len(items)
        to_score: list[int] = []
        prepared: list[tuple[str, str, str]] = []  # (title, text, language)
        for index, (title, text) in enumerate(items):
            title = title if isinstance(title, str) else ""
            text = text if isinstance(text, str) else ""
            text = text[:MAX_CHARS]
            prepared.append((title[:MAX_CHARS], text, ""))
            if not text.strip():
                results[index] = self._unscored("empty_text", None)
                continue
            guess = detect_language(f"{title}\n{text}")
            if not guess.supported:
                results[index] = self._unscored("language_unsupported", guess.code)
                continue
            prepared[index] = (title[:MAX_CHARS], text, guess.code)
            to_score.append(index)
        if to_score:
            scores = self._gated_scores([(prepared[i][0], prepared[i][1]) for i in to_score])
            for row, index in enumerate(to_score):
                title, text, language = prepared[index]
                results[index] = self._decide(text, language, {k: float(v[row]) for k, v in scores.items()})
        return [result for result in results if result is not None]

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

    def _decide(self, text: str, language: str, scores: dict[str, float]) -> Classification:
        relevant = scores["relevant"] >= self.thresholds["relevant"]
        frames: dict[str, FrameResult] = {}
        for frame in FRAMES:
            if not relevant:
                frames[frame] = _NO_FRAME
                continue
            present = scores[frame] >= self.thresholds[frame]
            evidence = find_evidence(text, self.sentence_scorer(frame)) if present else ()
            frames[frame] = FrameResult(present=present, score=scores[frame], evidence=evidence)
        return Classification(
            relevant=relevant,
            relevance=scores["relevant"],
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
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"model card in {model_dir} has no usable thresholds: {exc}") from exc


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
