"""Evaluation: the shipped model against the keyword baseline, on the same items.

Two views, as issue 3 asks:
- cross-validation: 5-fold stratified on the train split, refitting the card's design in each
  fold and applying the card's thresholds (those thresholds were chosen on these same
  out-of-fold scores, so this view is slightly optimistic; it is the stability check);
- the fixed test split, scored by the committed model through the live `classify` path
  (language gate, truncation, relevance gating of frames): the honest held-out figures.

Besides per-label precision/recall/F1 and Brier, it reports the confusion of label
combinations, the false-alert rate on ordinary news (per 150 articles, the unit of the issue's
bar), per-language relevance, and an "excerpt" view that cuts test texts to their first 2,000
characters (the hidden set is ~2,000-character excerpts; labels are kept, which is
approximate when a frame only appears later in the article).

`python -m classifiers.evaluate` (= `make eval`) prints the tables and writes them into the
model card under `evaluation`.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from classifiers.baseline import keyword_scores
from classifiers.corpus import FRAMES, LABELS, ORDINARY_CATEGORY, load_corpus, serialise
from classifiers.features import ClassifierDesign, FeatureDesign
from classifiers.metrics import binary_scores, brier, rounded
from classifiers.model import DEFAULT_MODEL_DIR, Classifier, load_classifier
from classifiers.persist import sha256_bytes
from classifiers.train import (
    N_FOLDS,
    LabelDesign,
    corpus_example,
    decide,
    label_metrics,
    out_of_fold_scores,
    read_card,
    write_card,
)
from pipeline.errors import CompactwatchError, ModelError

EXCERPT_CHARS = 2000
COMBINATIONS = ("irrelevant", "neither", "pro_city", "sovereignty", "both")


def combination(relevant: bool, pro_city: bool, sovereignty: bool) -> str:
    """The label combination name used in the confusion table."""
    if not relevant:
        return "irrelevant"
    if pro_city and sovereignty:
        return "both"
    if pro_city:
        return "pro_city"
    if sovereignty:
        return "sovereignty"
    return "neither"


def confusion(truth: dict[str, np.ndarray], predicted: dict[str, np.ndarray]) -> dict[str, dict[str, int]]:
    """Rows: true combination; columns: predicted combination (counts)."""
    table = {row: dict.fromkeys(COMBINATIONS, 0) for row in COMBINATIONS}
    for i in range(len(truth["relevant"])):
        t = combination(*(bool(truth[label][i]) for label in LABELS))
        p = combination(*(bool(predicted[label][i]) for label in LABELS))
        table[t][p] += 1
    return table


def decision_metrics(
    truth: dict[str, np.ndarray], predicted: dict[str, np.ndarray], scores: dict[str, np.ndarray]
) -> dict[str, dict[str, Any]]:
    """Per-label P/R/F1 and Brier from final decisions and the scores shown to users."""
    out: dict[str, dict[str, Any]] = {}
    for label in LABELS:
        entry: dict[str, Any] = binary_scores(truth[label], predicted[label]).as_dict()
        entry["brier"] = rounded(brier(truth[label], scores[label]))
        out[label] = entry
    return out


def false_alerts(categories: Sequence[str], relevant_pred: np.ndarray) -> dict[str, Any]:
    """Ordinary-news articles judged relevant (= would alert), also per 150 articles."""
    ordinary = np.array([c == ORDINARY_CATEGORY for c in categories])
    count = int(np.sum(ordinary & relevant_pred))
    total = int(ordinary.sum())
    return {
        "items": total,
        "false_alerts": count,
        "per_150": rounded(150 * count / total) if total else None,
    }


def _truth(items: Sequence[dict[str, object]]) -> dict[str, np.ndarray]:
    return {label: np.array([bool(item[label]) for item in items]) for label in LABELS}


def _live_predictions(
    classifier: Classifier, pairs: Sequence[tuple[str, str]]
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], list[str]]:
    """Decisions and shown scores through `Classifier.classify`, plus statuses."""
    results = classifier.classify(pairs)
    predicted = {
        "relevant": np.array([r.relevant for r in results]),
        "pro_city_inclusion": np.array([r.pro_city_inclusion.present for r in results]),
        "sovereignty_framing": np.array([r.sovereignty_framing.present for r in results]),
    }
    scores = {
        "relevant": np.array([r.relevance for r in results]),
        "pro_city_inclusion": np.array([r.pro_city_inclusion.score for r in results]),
        "sovereignty_framing": np.array([r.sovereignty_framing.score for r in results]),
    }
    return predicted, scores, [r.status for r in results]


def _baseline(pairs: Sequence[tuple[str, str]]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    raw = keyword_scores(pairs)
    scores = {label: np.array(raw[label]) for label in LABELS}
    return {label: scores[label] >= 0.5 for label in LABELS}, scores


def _designs_from_card(card: dict[str, Any]) -> dict[str, LabelDesign]:
    """The design the shipped model was trained with (so CV evaluates that model's recipe)."""
    try:
        pipelines = card["design"]["pipelines"]
        return {
            label: LabelDesign(
                FeatureDesign(**pipelines[label]["features"]),
                ClassifierDesign(**pipelines[label]["classifier"]),
            )
            for label in LABELS
        }
    except (KeyError, TypeError) as exc:
        raise ModelError(f"model card has no usable design section: {exc}") from exc


def evaluate(
    corpus_items: Sequence[dict[str, object]] | None = None,
    model_dir: Path = DEFAULT_MODEL_DIR,
    *,
    console: Console | None = None,
    write: bool = True,
    cross_validate: bool = True,
) -> dict[str, Any]:
    """Score model and baseline (CV on train + fixed test split); print; write to the card."""
    items = list(corpus_items) if corpus_items is not None else load_corpus()
    classifier = load_classifier(model_dir)
    card = classifier.card
    train_items = [item for item in items if item["split"] == "train"]
    test_items = [item for item in items if item["split"] == "test"]
    thresholds = classifier.thresholds
    data_sha = sha256_bytes(serialise(items))
    result: dict[str, Any] = {
        "model_version": classifier.model_version,
        "data_sha256": data_sha,
        "same_data_as_training": data_sha == card.get("data", {}).get("sha256"),
        "items": {"train": len(train_items), "test": len(test_items)},
    }

    # --- the fixed test split --------------------------------------------------------------
    pairs = [(str(i["title"]), str(i["text"])) for i in test_items]
    truth = _truth(test_items)
    categories = [str(i["category"]) for i in test_items]
    predicted, scores, statuses = _live_predictions(classifier, pairs)
    base_pred, base_scores = _baseline(pairs)
    conditional = classifier.scores(pairs)
    test_model = decision_metrics(truth, predicted, scores)
    for frame in FRAMES:
        rows = truth["relevant"]
        test_model[frame]["given_relevant"] = binary_scores(
            truth[frame][rows], conditional[frame][rows] >= thresholds[frame]
        ).as_dict()
    excerpt_pairs = [(title, text[:EXCERPT_CHARS]) for title, text in pairs]
    ex_pred, ex_scores, _ = _live_predictions(classifier, excerpt_pairs)
    ex_base_pred, ex_base_scores = _baseline(excerpt_pairs)
    languages = sorted({str(i["language"]) for i in test_items})
    per_language = {}
    for language in languages:
        rows = np.array([i["language"] == language for i in test_items])
        per_language[language] = {
            "items": int(rows.sum()),
            "model_relevant_f1": rounded(
                binary_scores(truth["relevant"][rows], predicted["relevant"][rows]).f1
            ),
            "baseline_relevant_f1": rounded(
                binary_scores(truth["relevant"][rows], base_pred["relevant"][rows]).f1
            ),
        }
    result["test"] = {
        "model": test_model,
        "baseline": decision_metrics(truth, base_pred, base_scores),
        "false_alerts": {
            "model": false_alerts(categories, predicted["relevant"]),
            "baseline": false_alerts(categories, base_pred["relevant"]),
        },
        "confusion": {"model": confusion(truth, predicted), "baseline": confusion(truth, base_pred)},
        "statuses": dict(sorted(Counter(statuses).items())),
        "per_language": per_language,
        "excerpt_2000_chars": {
            "model": decision_metrics(truth, ex_pred, ex_scores),
            "baseline": decision_metrics(truth, ex_base_pred, ex_base_scores),
            "false_alerts_model": false_alerts(categories, ex_pred["relevant"]),
        },
    }

    # --- cross-validation on train ---------------------------------------------------------
    if cross_validate:
        examples = [corpus_example(item) for item in train_items]
        oof = out_of_fold_scores(examples, _designs_from_card(card))
        cv_truth = _truth(train_items)
        cv_pred = decide(oof, thresholds)
        cv_pairs = [(str(i["title"]), str(i["text"])) for i in train_items]
        cv_base_pred, cv_base_scores = _baseline(cv_pairs)
        cv_categories = [str(i["category"]) for i in train_items]
        result["cv"] = {
            "folds": N_FOLDS,
            "model": label_metrics(cv_truth, oof, thresholds),
            "baseline": decision_metrics(cv_truth, cv_base_pred, cv_base_scores),
            "false_alerts": {
                "model": false_alerts(cv_categories, cv_pred["relevant"]),
                "baseline": false_alerts(cv_categories, cv_base_pred["relevant"]),
            },
            "confusion": {"model": confusion(cv_truth, cv_pred)},
        }

    print_report(result, console or Console())
    if write:
        stored = read_card(model_dir) or card
        stored["evaluation"] = result
        write_card(model_dir, stored)
    return result


def _scores_table(title: str, model: dict[str, Any], baseline: dict[str, Any]) -> Table:
    """Model and keyword baseline on alternate rows, so the table fits 80 columns."""
    table = Table(title=title, title_justify="left")
    table.add_column("label")
    table.add_column("by")
    for metric in ("precision", "recall", "F1", "Brier"):
        table.add_column(metric, justify="right")
    for label in LABELS:
        m, b = model[label], baseline[label]
        style = "bold green" if m["f1"] > b["f1"] else "bold red"
        table.add_row(
            label,
            "model",
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"[{style}]{m['f1']:.3f}[/]",
            f"{m['brier']:.4f}",
        )
        table.add_row(
            "",
            "keyword",
            f"{b['precision']:.3f}",
            f"{b['recall']:.3f}",
            f"{b['f1']:.3f}",
            f"{b['brier']:.4f}",
            end_section=True,
        )
    return table


def _confusion_table(title: str, matrix: dict[str, dict[str, int]]) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("true \\ predicted")
    for column in COMBINATIONS:
        table.add_column(column, justify="right")
    for row in COMBINATIONS:
        cells = [
            f"[bold]{matrix[row][c]}[/]" if row == c else (str(matrix[row][c]) if matrix[row][c] else "·")
            for c in COMBINATIONS
        ]
        table.add_row(row, *cells)
    return table


def print_report(result: dict[str, Any], console: Console) -> None:
    """The evaluation as rich tables (model beside keyword baseline)."""
    test = result["test"]
    n_test = result["items"]["test"]
    console.print(
        f"model {result['model_version']}  ·  data {result['data_sha256'][:12]}"
        + ("" if result["same_data_as_training"] else "  [yellow](corpus changed since training)[/]")
    )
    console.print(
        _scores_table(f"Test split ({n_test} items, never used in training)", test["model"], test["baseline"])
    )
    given = Table(title="Frames on truly relevant test items (frame model alone)", title_justify="left")
    for column in ("frame", "P", "R", "F1"):
        given.add_column(column, justify="right" if column != "frame" else "left")
    for frame in FRAMES:
        g = test["model"][frame]["given_relevant"]
        given.add_row(frame, f"{g['precision']:.3f}", f"{g['recall']:.3f}", f"{g['f1']:.3f}")
    console.print(given)
    alerts = Table(title="False alerts on ordinary news", title_justify="left")
    for column in ("view", "items", "model", "model /150", "keyword", "keyword /150"):
        alerts.add_column(column, justify="right" if column != "view" else "left")
    views = [("test", test["false_alerts"])]
    if "cv" in result:
        views.append(("cv (train)", result["cv"]["false_alerts"]))
    for name, fa in views:
        alerts.add_row(
            name,
            str(fa["model"]["items"]),
            str(fa["model"]["false_alerts"]),
            f"{fa['model']['per_150'] or 0:.2f}",
            str(fa["baseline"]["false_alerts"]),
            f"{fa['baseline']['per_150'] or 0:.2f}",
        )
    console.print(alerts)
    console.print(_confusion_table("Test confusion of label combinations: model", test["confusion"]["model"]))
    console.print(
        _confusion_table("Test confusion of label combinations: keyword", test["confusion"]["baseline"])
    )
    excerpt = test["excerpt_2000_chars"]
    console.print(
        _scores_table(
            f"Test split cut to the first {EXCERPT_CHARS} characters (labels kept: approximate)",
            excerpt["model"],
            excerpt["baseline"],
        )
    )
    languages = Table(title="Relevance F1 per language (test)", title_justify="left")
    for column in ("language", "items", "model F1", "keyword F1"):
        languages.add_column(column, justify="right" if column != "language" else "left")
    for language, row in test["per_language"].items():
        languages.add_row(
            language,
            str(row["items"]),
            f"{row['model_relevant_f1']:.3f}",
            f"{row['baseline_relevant_f1']:.3f}",
        )
    console.print(languages)
    if "cv" in result:
        cv = result["cv"]
        console.print(
            _scores_table(
                f"{cv['folds']}-fold cross-validation on train ({result['items']['train']} items)",
                cv["model"],
                cv["baseline"],
            )
        )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m classifiers.evaluate` (= `make eval`): print and record the evaluation."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--no-write", action="store_true", help="do not update the model card")
    parser.add_argument("--no-cv", action="store_true", help="skip the cross-validation view")
    args = parser.parse_args(argv)
    try:
        evaluate(model_dir=args.model_dir, write=not args.no_write, cross_validate=not args.no_cv)
    except CompactwatchError as exc:  # one line for users, like the main CLI
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
