"""Training: corpus (+ analyst corrections) → one skops model file and its model card.

The flow, and why:
1. Only the `train` split is used to fit, select and calibrate; the `test` split is scored
   once at the end with the final model, so its figures are honest held-out figures.
2. Out-of-fold probabilities from 5-fold stratified cross-validation on train are the
   validation data for the decision thresholds (max F1 subject to a precision target: an alert
   that is wrong costs more than one that is missed).
3. Frame classifiers are fitted on relevant items only: the frames are defined only for
   relevant articles, and a frame model fed football reports learns "is this about migration"
   instead of "does this article carry the frame".
4. Every random choice has a fixed seed and the model file is written canonically, so the
   same corpus gives the same bytes (`make train` on a fresh clone reproduces `models/`).

`python -m classifiers.train [--force]` (= `make train`) retrains when the corpus or the
design changed since the model card was written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from classifiers.corpus import (
    CORPUS_PATH,
    FRAMES,
    LABELS,
    ORDINARY_CATEGORY,
    label_key,
    normalise_for_identity,
    serialise,
)
from classifiers.features import (
    MAX_CHARS,
    RANDOM_STATE,
    ClassifierDesign,
    FeatureDesign,
    build_base,
    build_features,
    build_pipeline,
    predict_scores,
    to_inputs,
)
from classifiers.metrics import (
    average_precision,
    binary_scores,
    brier,
    choose_threshold,
    rounded,
)
from classifiers.persist import TRUSTED_TYPES, dump_model, sha256_bytes
from pipeline.errors import CompactwatchError

MODEL_FILE = "compactwatch.skops"
CARD_FILE = "model_card.json"
N_FOLDS = 5
CARD_SCHEMA = 1


@dataclass(frozen=True)
class LabelDesign:
    """The features and classifier of one label's pipeline."""

    features: FeatureDesign
    classifier: ClassifierDesign

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly copy for the model card."""
        return {"features": self.features.as_dict(), "classifier": self.classifier.as_dict()}


# Chosen by `python -m classifiers.train --select` (5-fold CV on the train split, average
# precision), which writes the evidence for the choice to SELECTION_FILE; the per-label
# summary of that file is copied into the model card under `design.selection`.
DESIGNS: dict[str, LabelDesign] = {
    # word 1-2 + char_wb 2-5 grams; OOF AP 0.9999 (best 1.0)
    "relevant": LabelDesign(
        FeatureDesign(char=True, title=False, cues=False), ClassifierDesign("logreg", 4.0)
    ),
    # + domain cues (mayors, cities, local government, ...); OOF AP 0.9983 (best 0.9986)
    "pro_city_inclusion": LabelDesign(
        FeatureDesign(char=True, title=False, cues=True), ClassifierDesign("svm", 0.5)
    ),
    # word + char; OOF AP 0.9974 (best 0.9979)
    "sovereignty_framing": LabelDesign(
        FeatureDesign(char=True, title=False, cues=False), ClassifierDesign("logreg", 16.0)
    ),
}
SELECTION_FILE = Path(__file__).resolve().parent / "design_selection.json"
# Alert precision targets for the thresholds. Relevance decides what reaches Slack, so it
# gets the strict target; frames are badges on an alert that already passed relevance.
PRECISION_TARGETS: dict[str, float] = {
    "relevant": 0.90,
    "pro_city_inclusion": 0.85,
    "sovereignty_framing": 0.85,
}


@dataclass(frozen=True)
class Example:
    """One training article. A label is None when unknown (partial analyst corrections)."""

    title: str
    text: str
    labels: dict[str, bool | None]
    source: str = "corpus"  # corpus | analyst
    category: str = ""

    def trains(self, label: str) -> bool:
        """Whether this example teaches `label` (frames are learnt on relevant items only)."""
        if self.labels.get(label) is None:
            return False
        return label == "relevant" or self.labels.get("relevant") is not False

    @property
    def stratum(self) -> str:
        """Label combination used to stratify the folds."""
        return label_key({k: bool(v) for k, v in self.labels.items()})


@dataclass(frozen=True)
class TrainReport:
    """What a training run did, for the CLI and for callers that retrain on corrections."""

    model_version: str
    model_path: Path
    card_path: Path
    data_sha256: str
    items_train: int
    items_test: int
    extra_labels_used: int
    extra_labels_skipped: int
    thresholds: dict[str, float]
    test_f1: dict[str, float]
    retrained: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)


def corpus_example(item: dict[str, object]) -> Example:
    """A corpus item as a fully labelled training example."""
    return Example(
        title=str(item["title"]),
        text=str(item["text"]),
        labels={label: bool(item[label]) for label in LABELS},
        category=str(item.get("category", "")),
    )


def merge_extra_labels(
    train_items: Sequence[dict[str, object]],
    test_items: Sequence[dict[str, object]],
    extra_labels: Iterable[tuple[str, str, str, bool]],
) -> tuple[list[Example], int, int, list[str]]:
    """Fold analyst corrections (title, text, label, value) into the training examples.

    A correction of a corpus text overrides that item's label; a correction of a new text adds
    an example. A frame marked present implies the article is relevant; `relevant` = false
    clears the frames. Corrections of a test-split text are skipped: training on them would
    leak into the held-out figures. Returns (examples, used, skipped, reasons).
    """
    examples = [corpus_example(item) for item in train_items]
    by_key = {normalise_for_identity(e.title, e.text): i for i, e in enumerate(examples)}
    test_keys = {normalise_for_identity(str(i["title"]), str(i["text"])) for i in test_items}
    used, skipped, reasons = 0, 0, []
    for number, extra in enumerate(extra_labels, start=1):
        try:
            title, text, label, value = extra
        except (TypeError, ValueError):
            skipped += 1
            reasons.append(f"correction {number}: not a (title, text, label, value) tuple")
            continue
        if label not in LABELS or not isinstance(value, bool):
            skipped += 1
            reasons.append(f"correction {number}: unknown label {label!r} or non-boolean value")
            continue
        if not str(text).strip():
            skipped += 1
            reasons.append(f"correction {number}: empty text")
            continue
        key = normalise_for_identity(str(title), str(text))
        if key in test_keys:
            skipped += 1
            reasons.append(f"correction {number}: text is in the test split")
            continue
        if key in by_key:
            index = by_key[key]
            old = examples[index]
            labels = dict(old.labels)
            source = old.source
        else:
            index = len(examples)
            labels = {name: None for name in LABELS}
            source = "analyst"
            examples.append(Example(str(title), str(text), labels, source))
            by_key[key] = index
        labels[label] = value
        if label == "relevant" and not value:
            labels.update({frame: False for frame in FRAMES})
        elif label in FRAMES and value:
            labels["relevant"] = True
        old = examples[index]
        examples[index] = Example(old.title, old.text, labels, source, old.category)
        used += 1
    return examples, used, skipped, reasons


def _n_splits(y: np.ndarray, wanted: int = N_FOLDS) -> int:
    """Folds for calibration: at most `wanted`, at most the size of the smaller class."""
    smallest = int(min(np.sum(y), np.sum(~y)))
    if smallest < 2:
        raise ValueError("each label needs at least two positive and two negative examples")
    return min(wanted, smallest)


def fit_container(
    examples: Sequence[Example], designs: dict[str, LabelDesign] | None = None
) -> dict[str, Pipeline]:
    """Fit the three label pipelines on `examples` (frames on the relevant ones only)."""
    designs = designs or DESIGNS
    inputs = to_inputs([(e.title, e.text) for e in examples])
    container: dict[str, Pipeline] = {}
    for label in LABELS:
        rows = np.array([i for i, e in enumerate(examples) if e.trains(label)])
        y = np.array([bool(examples[i].labels[label]) for i in rows])
        design = designs[label]
        pipeline = build_pipeline(design.features, design.classifier, _n_splits(y))
        container[label] = pipeline.fit(inputs[rows], y)
    return container


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
    """Cross-validated probabilities for every example and label (frames: P(frame | relevant))."""
    scores = {label: np.full(len(examples), np.nan) for label in LABELS}
    for train_idx, valid_idx in fold_indices(examples, n_folds):
        container = fit_container([examples[i] for i in train_idx], designs)
        inputs = to_inputs([(examples[i].title, examples[i].text) for i in valid_idx])
        fold_scores = predict_scores(container, inputs)
        for label in LABELS:
            scores[label][valid_idx] = fold_scores[label]
    return scores


# Both grids are listed in order of preference: the prior (char n-grams for robustness to
# inflection, languages and typos; stronger regularisation for text unlike the corpus) comes
# first. Selection takes the first design whose score is within SELECTION_TOLERANCE of the
# best, because differences that small on ~700 items are noise, and on real coverage, which
# is not written like the corpus, the simpler, more regularised design is the safer bet.
FEATURE_GRID: tuple[FeatureDesign, ...] = (
    FeatureDesign(char=True, title=False, cues=False),
    FeatureDesign(char=True, title=False, cues=True),
    FeatureDesign(char=True, title=True, cues=False),
    FeatureDesign(char=True, title=True, cues=True),
    FeatureDesign(char=False, title=True, cues=True),
    FeatureDesign(char=False, title=False, cues=False),
)
CLASSIFIER_GRID: tuple[ClassifierDesign, ...] = (
    ClassifierDesign("logreg", 1.0),
    ClassifierDesign("logreg", 4.0),
    ClassifierDesign("svm", 0.1),
    ClassifierDesign("svm", 0.5),
    ClassifierDesign("logreg", 16.0),
    ClassifierDesign("svm", 2.0),
    ClassifierDesign("logreg", 64.0),
)
SELECTION_TOLERANCE = 0.0005


def select_designs(
    examples: Sequence[Example],
    feature_grid: Sequence[FeatureDesign] = FEATURE_GRID,
    classifier_grid: Sequence[ClassifierDesign] = CLASSIFIER_GRID,
    n_folds: int = N_FOLDS,
) -> dict[str, Any]:
    """Score every design by out-of-fold average precision on the train split.

    Uncalibrated decision values are enough here: sigmoid calibration is monotone, so it does
    not change the ranking that average precision measures, and skipping it makes the grid
    cheap. Frames are scored on the relevant examples only. Returns the table (in grid order)
    and, per label, the first design within SELECTION_TOLERANCE of the best score.
    """
    folds = fold_indices(examples, n_folds)
    inputs = to_inputs([(e.title, e.text) for e in examples])
    table: list[dict[str, Any]] = []
    for feature_design in feature_grid:
        oof = {
            (label, c): np.full(len(examples), np.nan)
            for label in LABELS
            for c in range(len(classifier_grid))
        }
        for train_idx, valid_idx in folds:
            extractor = build_features(feature_design)
            train_matrix = extractor.fit_transform(inputs[train_idx])
            valid_matrix = extractor.transform(inputs[valid_idx])
            for label in LABELS:
                rows = np.array([k for k, i in enumerate(train_idx) if examples[i].trains(label)])
                y = np.array([bool(examples[train_idx[k]].labels[label]) for k in rows])
                for c, design in enumerate(classifier_grid):
                    model = build_base(design).fit(train_matrix[rows], y)
                    oof[(label, c)][valid_idx] = model.decision_function(valid_matrix)
        for label in LABELS:
            rows = np.array([i for i, e in enumerate(examples) if e.trains(label)])
            truth = np.array([bool(examples[i].labels[label]) for i in rows])
            for c, design in enumerate(classifier_grid):
                table.append(
                    {
                        "features": feature_design.as_dict(),
                        "classifier": design.as_dict(),
                        "label": label,
                        "average_precision": rounded(average_precision(truth, oof[(label, c)][rows])),
                    }
                )
    return {"designs": choose_designs(table), "table": table}


def choose_designs(table: Sequence[dict[str, Any]]) -> dict[str, LabelDesign]:
    """Per label, the first design (grid order = preference) within tolerance of the best."""
    chosen: dict[str, LabelDesign] = {}
    for label in LABELS:
        rows = [r for r in table if r["label"] == label]
        best = max(r["average_precision"] for r in rows)
        cut = best - SELECTION_TOLERANCE - 1e-9  # the scores are rounded to 4 decimals
        top = next(r for r in rows if r["average_precision"] >= cut)
        chosen[label] = LabelDesign(FeatureDesign(**top["features"]), ClassifierDesign(**top["classifier"]))
    return chosen


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


def label_metrics(
    truth: dict[str, np.ndarray],
    scores: dict[str, np.ndarray],
    thresholds: dict[str, float],
) -> dict[str, dict[str, Any]]:
    """Per-label P/R/F1, Brier and average precision, end to end, plus frames given relevance.

    End to end means a frame counts as predicted only when relevance was predicted too (what
    an analyst sees); frame scores are taken as 0 on articles judged irrelevant, as the live
    classifier reports them. `given_relevant` scores the frame model alone on the truly
    relevant articles, which separates frame errors from relevance errors.
    """
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


def _library_versions() -> dict[str, str]:
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


def design_fingerprint(extra: Sequence[tuple[str, str, str, bool]]) -> str:
    """Hash of everything besides the corpus that shapes the model (design, seeds, extras).

    The pipelines' full parameter repr is included so that changing any estimator setting,
    and the scikit-learn minor version (whose models are not interchangeable), gives a new
    model version and makes a non-forced `make train` retrain.
    """
    import sklearn

    from classifiers import features
    from classifiers.persist import sklearn_minor

    payload = {
        "designs": {k: v.as_dict() for k, v in DESIGNS.items()},
        "pipelines": {
            k: repr(build_pipeline(v.features, v.classifier).get_params(deep=True))
            for k, v in DESIGNS.items()
        },
        "sklearn": sklearn_minor(sklearn.__version__),
        "precision_targets": PRECISION_TARGETS,
        "max_chars": MAX_CHARS,
        "cues": list(features.ALL_CUES),
        "seed": RANDOM_STATE,
        "folds": N_FOLDS,
        "extra": [list(map(str, item)) for item in extra],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def read_card(out_dir: Path) -> dict[str, Any] | None:
    """The current model card, or None when there is none (or it is unreadable)."""
    path = out_dir / CARD_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_card(out_dir: Path, card: dict[str, Any]) -> Path:
    """Write the card atomically with stable formatting (sorted nowhere: order is meaningful)."""
    path = out_dir / CARD_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def _history_entry(card: dict[str, Any], replaced_on: dt.date) -> dict[str, Any]:
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


def train_model(
    corpus_items: Sequence[dict[str, object]],
    extra_labels: Iterable[tuple[str, str, str, bool]] = (),
    out_dir: Path = Path("models"),
    *,
    force: bool = True,
    today: dt.date | None = None,
) -> TrainReport:
    """Train on the train split (+ corrections), score the test split, write model + card.

    With `force=False`, nothing is written when the card already describes a model trained on
    this exact corpus and design (so `make train` is idempotent and the repo does not churn).
    """
    train_items = [item for item in corpus_items if item["split"] == "train"]
    test_items = [item for item in corpus_items if item["split"] == "test"]
    extras = list(extra_labels)
    examples, used, skipped, reasons = merge_extra_labels(train_items, test_items, extras)
    data_sha = hashlib.sha256(serialise(corpus_items)).hexdigest()
    design_sha = design_fingerprint(extras)
    fingerprint = hashlib.sha256(f"{data_sha}:{design_sha}".encode()).hexdigest()
    previous = read_card(out_dir)
    model_path = out_dir / MODEL_FILE
    if (
        not force
        and previous is not None
        and previous.get("fingerprint") == fingerprint
        and model_path.is_file()
        and sha256_bytes(model_path.read_bytes())
        == previous.get("files", {}).get(MODEL_FILE, {}).get("sha256")
    ):
        thresholds = {k: float(v["threshold"]) for k, v in previous["thresholds"].items()}
        test = previous.get("metrics", {}).get("test", {})
        return TrainReport(
            model_version=str(previous["model_version"]),
            model_path=model_path,
            card_path=out_dir / CARD_FILE,
            data_sha256=data_sha,
            items_train=len(train_items),
            items_test=len(test_items),
            extra_labels_used=used,
            extra_labels_skipped=skipped,
            thresholds=thresholds,
            test_f1={k: float(v["f1"]) for k, v in test.items() if isinstance(v, dict) and "f1" in v},
            retrained=False,
            notes=("model card already matches this corpus and design; use --force to retrain",),
        )

    # 1. validation scores and thresholds (train split only)
    oof = out_of_fold_scores(examples)
    threshold_info = choose_thresholds(examples, oof)
    thresholds = {label: float(info["threshold"]) for label, info in threshold_info.items()}

    # 2. final model on the whole train split
    container = fit_container(examples)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_sha = dump_model(container, model_path)

    # 3. figures: cross-validated on train, and the untouched test split
    cv_metrics = split_metrics(examples, oof, thresholds)
    test_examples = [corpus_example(item) for item in test_items]
    test_scores = predict_scores(container, to_inputs([(e.title, e.text) for e in test_examples]))
    test_metrics = split_metrics(test_examples, test_scores, thresholds)

    if previous is not None and previous.get("fingerprint") == fingerprint:
        version = str(previous["model_version"])
    else:
        day = (today or dt.datetime.now(dt.UTC).date()).strftime("%Y%m%d")
        version = f"cw-{day}-{fingerprint[:8]}"
    history: list[dict[str, Any]] = list(previous.get("history", [])) if previous else []
    if previous is not None and previous.get("model_version") != version:
        history.append(_history_entry(previous, today or dt.datetime.now(dt.UTC).date()))

    card: dict[str, Any] = {
        "card_schema": CARD_SCHEMA,
        "model_version": version,
        "fingerprint": fingerprint,
        "model_file": MODEL_FILE,
        "files": {MODEL_FILE: {"sha256": model_sha, "bytes": model_path.stat().st_size}},
        "format": {
            "serialiser": "skops",
            "trusted_types": list(TRUSTED_TYPES),
            "contents": "dict label -> Pipeline(ColumnTransformer of TF-IDF blocks, CalibratedClassifierCV)",
        },
        "labels": list(LABELS),
        "data": {
            "corpus": CORPUS_PATH.name,
            "sha256": data_sha,
            "items": len(corpus_items),
            "train": len(train_items),
            "test": len(test_items),
            "train_relevant": sum(1 for item in train_items if item["relevant"]),
            "extra_labels_used": used,
            "extra_labels_skipped": skipped,
        },
        "libraries": _library_versions(),
        "design": {
            "input": f"title + body, first {MAX_CHARS} characters, NFKC",
            "pipelines": {k: v.as_dict() for k, v in DESIGNS.items()},
            "selection": selection_summary(),
            "calibration": f"sigmoid, {N_FOLDS}-fold, ensemble=False",
            "frames_trained_on": "relevant items only",
            "random_state": RANDOM_STATE,
        },
        "thresholds": threshold_info,
        "metrics": {
            "note": "cv = 5-fold out-of-fold on train (thresholds were chosen on these scores, "
            "so cv is slightly optimistic); test = fixed test split, never used for fitting or "
            "thresholds. Frames are end to end (present only when judged relevant).",
            "cv": cv_metrics,
            "test": test_metrics,
        },
        "history": history,
    }
    if previous is not None and "evaluation" in previous and previous.get("fingerprint") == fingerprint:
        card["evaluation"] = previous["evaluation"]
    card_path = write_card(out_dir, card)
    return TrainReport(
        model_version=version,
        model_path=model_path,
        card_path=card_path,
        data_sha256=data_sha,
        items_train=len(train_items),
        items_test=len(test_items),
        extra_labels_used=used,
        extra_labels_skipped=skipped,
        thresholds=thresholds,
        test_f1={label: float(test_metrics[label]["f1"]) for label in LABELS},
        notes=tuple(reasons),
    )


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


def selection_summary() -> dict[str, Any]:
    """Per label: the best design found by `--select`, its score and the runner-up's."""
    try:
        selection = json.loads(SELECTION_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"note": "no design selection recorded"}
    summary: dict[str, Any] = {
        "metric": "5-fold out-of-fold average precision on the train split",
        "corpus_sha256": selection.get("corpus_sha256"),
        "designs_tried": len(FEATURE_GRID) * len(CLASSIFIER_GRID),
    }
    for label in LABELS:
        rows = sorted(
            (r for r in selection.get("table", []) if r["label"] == label),
            key=lambda r: -r["average_precision"],
        )
        if rows:
            summary[label] = {
                "best_average_precision": rows[0]["average_precision"],
                "chosen": selection.get("chosen", {}).get(label),
                "in_use": DESIGNS[label].as_dict(),
            }
    return summary


def run_selection(corpus_items: Sequence[dict[str, object]]) -> dict[str, Any]:
    """Run the design grid on the train split and record it in SELECTION_FILE."""
    examples = [corpus_example(item) for item in corpus_items if item["split"] == "train"]
    result = select_designs(examples)
    record = {
        "corpus_sha256": hashlib.sha256(serialise(corpus_items)).hexdigest(),
        "chosen": {label: design.as_dict() for label, design in result["designs"].items()},
        "table": result["table"],
    }
    SELECTION_FILE.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return record


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m classifiers.train`: retrain from classifiers/data/corpus.jsonl."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even if the card is current")
    parser.add_argument("--out", type=Path, default=Path("models"))
    parser.add_argument(
        "--select",
        action="store_true",
        help="run the design grid (slow), write design_selection.json, print the best designs",
    )
    args = parser.parse_args(argv)
    if args.select:
        from classifiers.corpus import load_corpus

        record = run_selection(load_corpus())
        for label, design in record["chosen"].items():
            print(f"{label}: {json.dumps(design)}")
        print(f"written to {SELECTION_FILE}; copy the choice into DESIGNS to use it")
        return 0
    from classifiers.commands import run_training

    try:
        run_training(force=args.force, out_dir=args.out)
    except CompactwatchError as exc:  # one line for users, like the main CLI
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
