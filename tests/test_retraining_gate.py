"""The retraining gate keeps a worse model out of production, and says why."""

from __future__ import annotations

from pathlib import Path

from classifiers.corpus import load_corpus
from classifiers.promote import retrain_with_gate
from classifiers.train import read_card


def test_gate_refuses_a_candidate_trained_on_deliberately_wrong_labels_and_force_promotes_it(
    tmp_path: Path,
) -> None:
    items = load_corpus()
    train = [i for i in items if i["split"] == "train"][::2]  # every other item: all kinds
    subset = train + [i for i in items if i["split"] == "test"]
    model_dir = tmp_path / "models"

    first_report, first = retrain_with_gate(subset, [], model_dir)
    assert first.decision == "first_model"
    # An analyst (or a prankster) marks 200 training articles with the opposite relevance.
    wrong = [(str(i["title"]), str(i["text"]), "relevant", not i["relevant"]) for i in train[:200]]

    report, refused = retrain_with_gate(subset, wrong, model_dir)
    assert report.extra_labels_used == 200
    assert refused.decision == "refused"
    assert refused.current_f1 is not None
    assert refused.candidate_f1["relevant"] < refused.current_f1["relevant"] - 0.02
    card = read_card(model_dir)
    assert card is not None and card["model_version"] == first_report.model_version  # still the old model
    assert card["history"][-1]["decision"] == "refused"
    assert card["history"][-1]["current_test_f1"] == refused.current_f1

    _, forced = retrain_with_gate(subset, wrong, model_dir, force=True)
    assert forced.decision == "forced"
    card = read_card(model_dir)
    assert card is not None and card["model_version"] == forced.candidate_version
    assert card["history"][-1]["forced"] is True


def test_unchanged_corpus_and_labels_do_not_retrain(tmp_path: Path) -> None:
    items = load_corpus()
    subset = [i for i in items if i["split"] == "train"][::3] + [i for i in items if i["split"] == "test"][
        ::3
    ]
    model_dir = tmp_path / "models"
    retrain_with_gate(subset, [], model_dir)
    before = (model_dir / "compactwatch.skops").read_bytes()
    _, again = retrain_with_gate(subset, [], model_dir)
    assert again.decision == "unchanged"
    assert (model_dir / "compactwatch.skops").read_bytes() == before


def test_an_analyst_correction_of_a_held_out_text_never_reaches_training(tmp_path: Path) -> None:
    from classifiers.train import train_model

    items = load_corpus()
    subset = [i for i in items if i["split"] == "train"][::6] + [i for i in items if i["split"] == "test"][
        ::6
    ]
    held_out = {
        "id": "h1",
        "title": "A held-out article",
        "text": "Mayors asked to join the review of the Global Compact for Migration.",
        "language": "en",
        "relevant": True,
        "pro_city_inclusion": True,
        "sovereignty_framing": False,
        "family": "relevant",
    }
    correction = [(held_out["title"], held_out["text"], "relevant", False)]
    report = train_model(subset, correction, out_dir=tmp_path / "models", heldout_items=[held_out])
    assert (report.extra_labels_used, report.extra_labels_skipped) == (0, 1)
    assert any("test set" in note for note in report.notes)
