"""Training: corpus (+ analyst corrections) → one skops model file and its model card.

The flow, and why:
1. The corpus's `train` split (+ analysts' corrections) is used to fit and calibrate, and
   its 5-fold out-of-fold scores choose the thresholds (`classifiers.fitting`).
2. The corpus's hash `test` split is scored once with the final model: the "in-house split",
   written by the same hands as the training data, so it flatters the model. It stays because
   the retraining gate needs a fixed set to compare two models on that is never trained on.
3. The separately written held-out set (`classifiers.heldout`) is scored once with the final
   model through the live classify path, in aggregate; that is THE test figure in the card.
4. Every random choice has a fixed seed and the model file is written canonically, so the
   same data gives the same bytes (`make train` on a fresh clone reproduces `models/`).

`python -m classifiers.train_cli [--force]` (or `compactwatch train`) retrains when the corpus
or the design changed since the model card was written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers import aboutness, lexicon
from classifiers.card import (
    CARD_FILE,
    CARD_SCHEMA,
    MODEL_FILE,
    corpus_summary,
    fingerprint_of,
    history_entry,
    library_versions,
    read_card,
    write_card,
)
from classifiers.corpus import CORPUS_PATH, LABELS, serialise
from classifiers.examples import corpus_example, merge_extra_labels
from classifiers.features import LEXICAL_CHARS, MAX_CHARS, RANDOM_STATE, predict_scores, to_inputs
from classifiers.fitting import (
    DESIGNS,
    FEATURES,
    N_FOLDS,
    PRECISION_TARGETS,
    choose_thresholds,
    fit_container,
    out_of_fold_scores,
)
from classifiers.persist import TRUSTED_TYPES, dump_model, sha256_bytes
from classifiers.scoring import split_metrics

__all__ = ["CARD_FILE", "MODEL_FILE", "TrainReport", "read_card", "train_model", "write_card"]


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


def design_fingerprint(extra: Sequence[tuple[str, str, str, bool]]) -> str:
    """Hash of everything besides the corpus that shapes the model (design, lexicon, extras).

    The lexicon and feature names are included so that editing a term list gives a new model
    version and makes a non-forced `make train` retrain; so is the scikit-learn minor version,
    whose models are not interchangeable.
    """
    import sklearn

    from classifiers.persist import sklearn_minor

    payload = {
        "features": FEATURES.as_dict(),
        "designs": {k: v.as_dict() for k, v in DESIGNS.items()},
        "sklearn": sklearn_minor(sklearn.__version__),
        "precision_targets": PRECISION_TARGETS,
        "max_chars": MAX_CHARS,
        "lexicon": [list(group) for group in lexicon.GROUPS] + [list(kind) for kind in lexicon.TOKEN_KINDS],
        "profile": list(aboutness.FEATURE_NAMES),
        "seed": RANDOM_STATE,
        "folds": N_FOLDS,
        "extra": [list(map(str, item)) for item in extra],
    }
    return fingerprint_of(payload)


def _design_section() -> dict[str, Any]:
    return {
        "input": f"title + body, first {MAX_CHARS} characters, NFKC",
        "features": {
            **FEATURES.as_dict(),
            "words": f"hashed word 1-2 grams of the title (twice) and the first {LEXICAL_CHARS} characters, "
            "sublinear tf, L2-normalised",
            "aboutness": list(aboutness.FEATURE_NAMES),
            "shared": "one featurization computed once per article for all three labels",
        },
        "pipelines": {k: v.as_dict() for k, v in DESIGNS.items()},
        "calibration": f"sigmoid, {N_FOLDS}-fold, ensemble=False",
        "frames_trained_on": "relevant items only",
        "gate": "texts naming no compact-family term in any of the nine languages skip the models",
        "random_state": RANDOM_STATE,
    }


def _unchanged_report(
    previous: dict[str, Any], out_dir: Path, counts: tuple[int, int, int, int, str]
) -> TrainReport:
    items_train, items_test, used, skipped, data_sha = counts
    test = previous.get("metrics", {}).get("test", {})
    return TrainReport(
        model_version=str(previous["model_version"]),
        model_path=out_dir / MODEL_FILE,
        card_path=out_dir / CARD_FILE,
        data_sha256=data_sha,
        items_train=items_train,
        items_test=items_test,
        extra_labels_used=used,
        extra_labels_skipped=skipped,
        thresholds={k: float(v["threshold"]) for k, v in previous["thresholds"].items()},
        test_f1={k: float(v["f1"]) for k, v in test.items() if isinstance(v, dict) and "f1" in v},
        retrained=False,
        notes=("model card already matches this corpus and design; use --force to retrain",),
    )


def train_model(
    corpus_items: Sequence[dict[str, object]],
    extra_labels: Iterable[tuple[str, str, str, bool]] = (),
    out_dir: Path = Path("models"),
    *,
    force: bool = True,
    today: dt.date | None = None,
    heldout_items: Sequence[dict[str, Any]] | None = None,
) -> TrainReport:
    """Train on the train split (+ corrections), score the test sets, write model + card.

    `heldout_items` defaults to the held-out set on disk. With `force=False`, nothing is
    written when the card already describes a model trained on this exact corpus and design.
    """
    from classifiers.heldout import load_heldout

    heldout = list(heldout_items) if heldout_items is not None else load_heldout()
    train_items = [item for item in corpus_items if item["split"] == "train"]
    test_items = [item for item in corpus_items if item["split"] == "test"]
    extras = list(extra_labels)
    examples, used, skipped, reasons = merge_extra_labels(train_items, [*test_items, *heldout], extras)
    data_sha = hashlib.sha256(serialise(corpus_items)).hexdigest()
    fingerprint = hashlib.sha256(f"{data_sha}:{design_fingerprint(extras)}".encode()).hexdigest()
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
        return _unchanged_report(
            previous, out_dir, (len(train_items), len(test_items), used, skipped, data_sha)
        )

    # 1. validation scores and thresholds (train split only)
    oof = out_of_fold_scores(examples)
    threshold_info = choose_thresholds(examples, oof)
    thresholds = {label: float(info["threshold"]) for label, info in threshold_info.items()}

    # 2. final model on the whole train split
    container = fit_container(examples)
    out_dir.mkdir(parents=True, exist_ok=True)
    model_sha = dump_model(container, model_path)

    # 3. figures: cross-validated on train, the in-house test split
    cv_metrics = split_metrics(examples, oof, thresholds)
    test_examples = [corpus_example(item) for item in test_items]
    test_scores = predict_scores(container, to_inputs([(e.title, e.text) for e in test_examples]))
    test_metrics = split_metrics(test_examples, test_scores, thresholds)

    today = today or dt.datetime.now(dt.UTC).date()
    if previous is not None and previous.get("fingerprint") == fingerprint:
        version = str(previous["model_version"])
    else:
        version = f"cw-{today.strftime('%Y%m%d')}-{fingerprint[:8]}"
    history: list[dict[str, Any]] = list(previous.get("history", [])) if previous else []
    if previous is not None and previous.get("model_version") != version:
        history.append(history_entry(previous, today))

    card: dict[str, Any] = {
        "card_schema": CARD_SCHEMA,
        "model_version": version,
        "fingerprint": fingerprint,
        "model_file": MODEL_FILE,
        "files": {MODEL_FILE: {"sha256": model_sha, "bytes": model_path.stat().st_size}},
        "format": {
            "serialiser": "skops",
            "trusted_types": list(TRUSTED_TYPES),
            "contents": "dict label -> Pipeline(ArticleFeatures shared by the three labels, "
            "CalibratedClassifierCV)",
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
            "split_use": "train split: fitting, calibration, thresholds; in-house test split: the "
            "retraining gate and a secondary figure; the held-out set: reporting only",
            "composition": corpus_summary(corpus_items),
        },
        "libraries": library_versions(),
        "design": _design_section(),
        "thresholds": threshold_info,
        "metrics": {
            "note": "cv = 5-fold out-of-fold on train (thresholds were chosen on these scores, so cv is "
            "optimistic); test = the in-house hash split, written by the same hands as the training "
            "data (optimistic too: see `heldout` for the separately written test set). Frames are end "
            "to end (present only when judged relevant).",
            "cv": cv_metrics,
            "test": test_metrics,
        },
        "history": history,
    }
    card_path = write_card(out_dir, card)
    if heldout:
        card["heldout"] = score_heldout(out_dir, heldout)
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


def score_heldout(model_dir: Path, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The card's "heldout" section for the model in `model_dir`, via the live classify path."""
    from classifiers.heldout import heldout_section
    from classifiers.model import load_classifier

    results = load_classifier(model_dir).classify([(str(i["title"]), str(i["text"])) for i in items])
    predicted = {
        "relevant": [r.relevant for r in results],
        "pro_city_inclusion": [r.pro_city_inclusion.present for r in results],
        "sovereignty_framing": [r.sovereignty_framing.present for r in results],
    }
    return heldout_section(items, predicted)
