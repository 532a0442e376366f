"""Evaluation (`make eval`): the shipped model beside the keyword baseline, on the same items.

The main figures are on the separately written held-out test set (`classifiers.heldout`):
per label, per family (passing mentions, look-alikes, migration-adjacent news, ...) and per
language, scored through the live `classify` path (language gate, compact gate, truncation,
frames only on relevant articles). A secondary table scores the corpus's in-house hash split,
clearly labelled: it was written by the same hands as the training data and flatters the
model (issue 9 measured the gap at ~0.14 precision on real coverage).

`python -m classifiers.evaluate` prints the tables and writes them into the model card
(`heldout`, and `evaluation` for the in-house split).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from classifiers.baseline import keyword_scores
from classifiers.card import read_card, write_card
from classifiers.corpus import LABELS, ORDINARY_CATEGORY, load_corpus, serialise
from classifiers.heldout import HELDOUT_DIR, heldout_section, require_heldout
from classifiers.metrics import binary_scores, brier, rounded
from classifiers.model import DEFAULT_MODEL_DIR, Classifier, load_classifier
from classifiers.persist import sha256_bytes
from pipeline.errors import CompactwatchError


def live_decisions(classifier: Classifier, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
    """Decisions per label through `Classifier.classify` (what users see)."""
    results = classifier.classify(pairs)
    return {
        "relevant": np.array([r.relevant for r in results], dtype=bool),
        "pro_city_inclusion": np.array([r.pro_city_inclusion.present for r in results], dtype=bool),
        "sovereignty_framing": np.array([r.sovereignty_framing.present for r in results], dtype=bool),
        "relevance": np.array([r.relevance for r in results], dtype=float),
    }


def inhouse_split(classifier: Classifier, items: Sequence[dict[str, object]]) -> dict[str, Any]:
    """Model and baseline on the corpus's hash test split (secondary, optimistic figure)."""
    test = [item for item in items if item["split"] == "test"]
    pairs = [(str(i["title"]), str(i["text"])) for i in test]
    model = live_decisions(classifier, pairs)
    base_raw = keyword_scores(pairs)
    base = {label: np.array(base_raw[label]) >= 0.5 for label in LABELS}
    ordinary = np.array([i["category"] == ORDINARY_CATEGORY for i in test])
    out: dict[str, Any] = {"items": len(test), "model": {}, "baseline": {}}
    for label in LABELS:
        truth = np.array([bool(i[label]) for i in test])
        out["model"][label] = binary_scores(truth, model[label]).as_dict()
        out["baseline"][label] = binary_scores(truth, base[label]).as_dict()
    truth_rel = np.array([bool(i["relevant"]) for i in test])
    out["model"]["relevant"]["brier"] = rounded(brier(truth_rel, model["relevance"]))
    out["false_alerts_ordinary_news"] = {
        "items": int(ordinary.sum()),
        "model": int(np.sum(ordinary & model["relevant"])),
        "baseline": int(np.sum(ordinary & base["relevant"])),
    }
    return out


def evaluate(
    corpus_items: Sequence[dict[str, object]] | None = None,
    model_dir: Path = DEFAULT_MODEL_DIR,
    *,
    console: Console | None = None,
    write: bool = True,
    heldout_dir: Path = HELDOUT_DIR,
) -> dict[str, Any]:
    """Score model and baseline on the held-out set and the in-house split; print; record."""
    items = list(corpus_items) if corpus_items is not None else load_corpus()
    classifier = load_classifier(model_dir)
    heldout = require_heldout(heldout_dir)
    decisions = live_decisions(classifier, [(str(i["title"]), str(i["text"])) for i in heldout])
    section = heldout_section(heldout, {label: decisions[label].tolist() for label in LABELS})
    data_sha = sha256_bytes(serialise(items))
    result: dict[str, Any] = {
        "model_version": classifier.model_version,
        "data_sha256": data_sha,
        "same_data_as_training": data_sha == classifier.card.get("data", {}).get("sha256"),
        "heldout": section,
        "inhouse": inhouse_split(classifier, items),
    }
    print_report(result, console or Console(width=130))
    if write:
        stored = read_card(model_dir) or dict(classifier.card)
        stored["heldout"] = section
        stored["evaluation"] = {
            "model_version": result["model_version"],
            "data_sha256": data_sha,
            "inhouse_split": result["inhouse"],
            "note": "in-house split = the corpus's hash test split, same writers as training: optimistic",
        }
        write_card(model_dir, stored)
    return result


def _fmt(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def beats(model: dict[str, Any], baseline: dict[str, Any], key: str) -> str:
    """'yes' / 'tie' / 'NO' comparing one metric of the model with the baseline's."""
    m, b = model.get(key), baseline.get(key)
    if m is None or b is None:
        return "—"
    return "yes" if m > b + 1e-9 else ("tie" if abs(m - b) <= 1e-9 else "NO")


def _metric_table(title: str, rows: dict[str, Any], base: dict[str, Any], key: str, first: str) -> Table:
    """Model and keyword baseline side by side: P/R/F1 per row, plus who wins on `key`."""
    table = Table(title=title, title_justify="left")
    table.add_column(first)
    table.add_column("n", justify="right")
    for name in ("P", "R", "F1", "acc"):
        table.add_column(name, justify="right")
    for name in ("kw P", "kw R", "kw F1", "kw acc"):
        table.add_column(name, justify="right", style="dim")
    table.add_column(f"beats kw ({key})", justify="center")
    for name, m in rows.items():
        b = base[name]
        table.add_row(
            name,
            str(m["support"]),
            *(_fmt(m[k]) for k in ("precision", "recall", "f1", "accuracy")),
            *(_fmt(b[k]) for k in ("precision", "recall", "f1", "accuracy")),
            beats(m, b, key),
        )
    return table


def print_report(result: dict[str, Any], console: Console) -> None:
    """The evaluation as tables (model beside the keyword baseline)."""
    held = result["heldout"]
    console.print(
        f"model {result['model_version']}  ·  corpus {result['data_sha256'][:12]}"
        + ("" if result["same_data_as_training"] else "  (corpus changed since training)")
    )
    console.print(f"[bold]Held-out test set[/]: {held['items']} items. {held['description']}")
    console.print(f"[italic]Caveat[/]: {held['caveat']}")
    base = held["baseline"]
    console.print(_metric_table("Per label (held-out)", held["per_label"], base["per_label"], "f1", "label"))
    console.print(
        _metric_table(
            "Relevance per family (held-out; negative families: acc = share with no alert)",
            held["per_family"],
            base["per_family"],
            "accuracy",
            "family",
        )
    )
    console.print(
        _metric_table(
            "Relevance per language (held-out)", held["per_language"], base["per_language"], "f1", "lang"
        )
    )
    inhouse = result["inhouse"]
    table = Table(
        title=f"Secondary: in-house hash split ({inhouse['items']} items, "
        "same writers as training: optimistic)",
        title_justify="left",
    )
    table.add_column("label")
    for name in ("P", "R", "F1", "kw P", "kw R", "kw F1"):
        table.add_column(name, justify="right")
    for label in LABELS:
        m, b = inhouse["model"][label], inhouse["baseline"][label]
        table.add_row(
            label,
            *(f"{m[k]:.3f}" for k in ("precision", "recall", "f1")),
            *(f"{b[k]:.3f}" for k in ("precision", "recall", "f1")),
        )
    console.print(table)
    fa = inhouse["false_alerts_ordinary_news"]
    console.print(
        f"false alerts on in-house ordinary news: model {fa['model']}/{fa['items']}, "
        f"keyword {fa['baseline']}/{fa['items']}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m classifiers.evaluate` (= `make eval`): print and record the evaluation."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--no-write", action="store_true", help="do not update the model card")
    args = parser.parse_args(argv)
    try:
        evaluate(model_dir=args.model_dir, write=not args.no_write)
    except CompactwatchError as exc:  # one line for users, like the main CLI
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
