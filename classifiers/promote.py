"""The retraining gate: a new model replaces the current one only if it is not worse.

`compactwatch train` trains a *candidate* on the corpus plus analysts' corrections (from
Slack and the archive), then scores the candidate and the current model on the same fixed
test split with the same code. The candidate is promoted only if no label's F1 drops by
more than `tolerance`; otherwise the current model stays and the refusal is recorded. The
decision and both score sets go into the model card's `history` (the archive's Models page
shows them). `force=True` promotes anyway, recorded as forced.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifiers.card import CARD_FILE, MODEL_FILE, read_card, write_card
from classifiers.metrics import binary_scores
from classifiers.model import load_classifier
from classifiers.train import TrainReport, train_model
from pipeline.errors import ModelError

LABELS = ("relevant", "pro_city_inclusion", "sovereignty_framing")
DEFAULT_TOLERANCE = 0.02


@dataclass(frozen=True)
class GateDecision:
    decision: str  # promoted | refused | forced | first_model | unchanged
    reason: str
    candidate_f1: dict[str, float]
    current_f1: dict[str, float] | None
    candidate_version: str
    current_version: str | None

    @property
    def promoted(self) -> bool:
        return self.decision in ("promoted", "forced", "first_model")

    def as_history(self, today: dt.date, tolerance: float, analyst_labels: int) -> dict[str, Any]:
        return {
            "model_version": self.candidate_version,
            "decision": self.decision,
            "decided_at": today.isoformat(),
            "reason": self.reason,
            "forced": self.decision == "forced",
            "promoted": self.promoted,
            "tolerance": tolerance,
            "analyst_labels_used": analyst_labels,
            "current_version": self.current_version,
            "test_f1": self.candidate_f1,
            "current_test_f1": self.current_f1,
        }


def test_split_f1(model_dir: Path, test_items: Sequence[dict[str, object]]) -> dict[str, float]:
    """End-to-end F1 per label of the model in `model_dir` on the given test items (frames
    count as present only when the article is judged relevant, as users see them)."""
    classifier = load_classifier(model_dir)
    results = classifier.classify([(str(i["title"]), str(i["text"])) for i in test_items])
    scores: dict[str, float] = {}
    for label in LABELS:
        truth = [bool(item[label]) for item in test_items]
        if label == "relevant":
            predicted = [r.relevant for r in results]
        else:
            predicted = [r.relevant and getattr(r, label).present for r in results]
        scores[label] = round(float(binary_scores(truth, predicted).f1), 4)
    return scores


def retrain_with_gate(
    corpus_items: Sequence[dict[str, object]],
    extra_labels: Iterable[tuple[str, str, str, bool]],
    model_dir: Path,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    force: bool = False,
    today: dt.date | None = None,
) -> tuple[TrainReport, GateDecision]:
    """Train a candidate beside the current model and promote it only if it is not worse."""
    today = today or dt.date.today()
    extras = list(extra_labels)
    test_items = [item for item in corpus_items if item["split"] == "test"]
    model_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="candidate-", dir=model_dir.parent) as tmp:
        candidate_dir = Path(tmp)
        for name in (MODEL_FILE, CARD_FILE):  # the card carries history and the "is current" check
            if (model_dir / name).is_file():
                shutil.copy2(model_dir / name, candidate_dir / name)
        report = train_model(corpus_items, extras, out_dir=candidate_dir, force=force, today=today)
        if not report.retrained:
            decision = GateDecision(
                "unchanged",
                "the model already matches this corpus and these labels",
                report.test_f1,
                report.test_f1,
                report.model_version,
                report.model_version,
            )
            return report, decision
        candidate_f1 = test_split_f1(candidate_dir, test_items)
        current_card = read_card(model_dir)
        try:
            current_f1 = test_split_f1(model_dir, test_items) if current_card else None
        except ModelError as error:
            current_f1, current_card = None, None
            first_reason = f"the current model cannot be loaded ({error})"
        else:
            first_reason = "there is no current model"
        current_version = str(current_card["model_version"]) if current_card else None
        decision = _decide(candidate_f1, current_f1, tolerance, force, first_reason)
        decision = GateDecision(
            decision[0], decision[1], candidate_f1, current_f1, report.model_version, current_version
        )
        entry = decision.as_history(today, tolerance, report.extra_labels_used)
        if decision.promoted:
            card = read_card(candidate_dir) or {}
            card["history"] = [*card.get("history", []), entry]
            write_card(candidate_dir, card)
            shutil.copy2(candidate_dir / MODEL_FILE, model_dir / MODEL_FILE)
            shutil.copy2(candidate_dir / CARD_FILE, model_dir / CARD_FILE)
        elif current_card is not None:
            current_card["history"] = [*current_card.get("history", []), entry]
            write_card(model_dir, current_card)
    return report, decision


def _decide(
    candidate: dict[str, float],
    current: dict[str, float] | None,
    tolerance: float,
    force: bool,
    first_reason: str,
) -> tuple[str, str]:
    if current is None:
        return "first_model", first_reason
    drops = {label: current[label] - candidate[label] for label in LABELS}
    worst = max(drops, key=lambda label: drops[label])
    summary = ", ".join(f"{label} {current[label]:.3f}→{candidate[label]:.3f}" for label in LABELS)
    if drops[worst] > tolerance:
        if force:
            return (
                "forced",
                f"promoted with --force although {worst} F1 dropped by {drops[worst]:.3f} ({summary})",
            )
        return (
            "refused",
            f"{worst} F1 would drop by {drops[worst]:.3f}, more than {tolerance:.3f} ({summary})",
        )
    return "promoted", f"no label's F1 dropped by more than {tolerance:.3f} ({summary})"
