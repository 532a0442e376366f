"""The classifier: the committed model, its safety checks, its statuses, evidence and the CLI.

These tests use the committed model in models/ (what ships), the committed corpus split and the
separately written held-out set (aggregate scores only); the determinism test trains a small
model twice in a temporary directory.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import shutil
from pathlib import Path

import pytest

from classifiers.baseline import keyword_labels
from classifiers.commands import classify, classify_jsonl
from classifiers.corpus import CORPUS_PATH, LABELS, load_corpus, serialise, split_for
from classifiers.evidence import find_speaker, split_sentences
from classifiers.examples import merge_extra_labels
from classifiers.heldout import load_heldout
from classifiers.metrics import binary_scores
from classifiers.model import DEFAULT_MODEL_DIR, Classifier, load_classifier
from classifiers.train import CARD_FILE, MODEL_FILE, train_model
from pipeline.errors import ModelError

REPO = Path(__file__).resolve().parent.parent
FLOORS = json.loads((Path(__file__).parent / "classifier_floors.json").read_text())

PRO_CITY_TEXT = (
    "Mayors from three continents used the opening day of the International Migration Review "
    "Forum in New York to press governments for a formal place in the review of the Global "
    "Compact for Migration.\n\n"
    '"Cities are where the compact either works or fails, and we are tired of reading about '
    'our own residents in reports we were never asked to write," said Mayor Tomasz Wierzbicki '
    "of Gdansk, who spoke on behalf of a coalition of municipal networks.\n\n"
    "The coalition wants local governments to be able to submit their own progress reports to "
    "the forum and to sit alongside national delegations during the review sessions. Several "
    "diplomats said member states remained reluctant to open what is an intergovernmental "
    "process, though the forum's chair welcomed the cities' contribution."
)
FRENCH_TEXT = (
    "Les maires de plusieurs grandes villes européennes ont demandé mardi à être associés à la "
    "mise en œuvre du pacte mondial sur les migrations adopté à Marrakech. « Ce sont les villes "
    "qui accueillent, logent et scolarisent », a déclaré la maire de Lyon, qui réclame un siège "
    "pour les collectivités locales lors du prochain forum d'examen des Nations unies."
)
# Swedish: a language the language detector knows but the corpus does not cover.
SWEDISH_TEXT = (
    "Regeringen meddelade på tisdagen att den nya järnvägen mellan Göteborg och Borås blir "
    "försenad med minst två år, eftersom upphandlingen av tunnlarna måste göras om från början."
)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return load_classifier(DEFAULT_MODEL_DIR)


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, object]]:
    return load_corpus()


def _copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "models"
    shutil.copytree(DEFAULT_MODEL_DIR, target)
    return target


def test_committed_model_loads_and_classifies_a_relevant_article(classifier: Classifier) -> None:
    [result] = classifier.classify([("Mayors ask for a seat at the migration review", PRO_CITY_TEXT)])
    assert result.status == "ok"
    assert result.language == "en"
    assert result.relevant and result.relevance >= classifier.thresholds["relevant"]
    assert result.pro_city_inclusion.present
    assert result.model_version == classifier.card["model_version"]
    output = result.as_output()
    assert set(output) >= {"relevant", "relevance", "pro_city_inclusion_score", "evidence", "model_version"}


def test_model_scores_stay_above_recorded_floors_on_the_held_out_test_set(classifier: Classifier) -> None:
    heldout = load_heldout()
    assert heldout, "the separately written held-out set must be present"
    results = classifier.classify([(str(i["title"]), str(i["text"])) for i in heldout])
    predicted = {
        "relevant": [r.relevant for r in results],
        "pro_city_inclusion": [r.pro_city_inclusion.present for r in results],
        "sovereignty_framing": [r.sovereignty_framing.present for r in results],
    }
    for label in LABELS:
        f1 = binary_scores([bool(i[label]) for i in heldout], predicted[label]).f1
        assert f1 >= FLOORS["heldout_f1"][label], f"{label} F1 {f1:.3f} fell below its floor"
    for family, floor in FLOORS["heldout_family_accuracy"].items():
        rows = [k for k, item in enumerate(heldout) if item["family"] == family]
        assert rows, f"the held-out set has no {family} items"
        correct = sum(predicted["relevant"][k] == bool(heldout[k]["relevant"]) for k in rows)
        assert correct / len(rows) >= floor, f"{family}: accuracy {correct / len(rows):.3f} below {floor}"


def test_training_twice_on_the_same_small_corpus_gives_identical_models_and_predictions(
    tmp_path: Path, corpus: list[dict[str, object]]
) -> None:
    # a small, stratified slice: every label combination, both splits
    by_key: dict[tuple[bool, ...], list[dict[str, object]]] = {}
    for item in corpus:
        by_key.setdefault((*(bool(item[k]) for k in LABELS), item["split"] == "test"), []).append(item)
    subset = [item for group in by_key.values() for item in group[:14]]
    correction = [("Analyst note", "A passing line about the migration compact.", "relevant", False)]
    reports = [
        train_model(subset, correction, out_dir=tmp_path / name, force=True, heldout_items=[])
        for name in ("first", "second")
    ]
    assert reports[0].extra_labels_used == 1
    cards = [json.loads(r.card_path.read_text()) for r in reports]
    assert cards[0]["files"] == cards[1]["files"]  # same model bytes (sha256)
    assert cards[0]["metrics"] == cards[1]["metrics"]
    assert reports[0].model_version == reports[1].model_version
    texts = [(str(i["title"]), str(i["text"])) for i in corpus[:40]]
    first, second = (load_classifier(r.model_path.parent).classify(texts) for r in reports)
    assert first == second
    # retraining on other data gives a new version and keeps the old one in the history
    third = train_model(subset[1:], correction, out_dir=tmp_path / "second", force=False, heldout_items=[])
    history = json.loads(third.card_path.read_text())["history"]
    assert third.model_version != reports[1].model_version
    assert [h["model_version"] for h in history] == [reports[1].model_version]
    # and an unchanged corpus does not retrain unless forced
    again = train_model(subset[1:], correction, out_dir=tmp_path / "second", force=False, heldout_items=[])
    assert not again.retrained and again.model_version == third.model_version


def test_empty_and_whitespace_text_is_reported_as_empty_not_scored(classifier: Classifier) -> None:
    results = classifier.classify([("A title", ""), ("", "   \n\t  "), ("Compact", "\u00a0\u2003")])
    for result in results:
        assert result.status == "empty_text"
        assert not result.relevant and result.relevance == 0.0
        assert not result.pro_city_inclusion.present and not result.sovereignty_framing.present


def test_french_is_scored_and_an_uncovered_language_is_flagged_unsupported(classifier: Classifier) -> None:
    french, swedish = classifier.classify(
        [("Les maires et le pacte", FRENCH_TEXT), ("Järnväg", SWEDISH_TEXT)]
    )
    assert french.status == "ok" and french.language == "fr"
    assert french.relevant
    assert swedish.status == "language_unsupported" and swedish.language == "sv"
    assert not swedish.relevant and swedish.relevance == 0.0
    assert swedish.sovereignty_framing.score == 0.0


def test_evidence_for_a_pro_city_article_quotes_the_mayor_by_name(classifier: Classifier) -> None:
    [result] = classifier.classify([("Mayors ask for a seat at the migration review", PRO_CITY_TEXT)])
    evidence = result.pro_city_inclusion.evidence
    assert evidence, "a present frame must come with evidence"
    assert any("Tomasz Wierzbicki" in line for line in evidence)
    assert all(len(line) <= 300 for line in evidence)


def test_sentence_splitter_keeps_quotes_and_abbreviations_together() -> None:
    paragraph = (
        '"We are ready. We want in," said Mayor Jane Doe. Mr. Smith of the U.N. agency arrived '
        "at 9 a.m. on Monday. J. R. Ortiz disagreed!"
    )
    assert split_sentences(paragraph) == [
        '"We are ready. We want in," said Mayor Jane Doe.',
        "Mr. Smith of the U.N. agency arrived at 9 a.m. on Monday.",
        "J. R. Ortiz disagreed!",
    ]
    assert find_speaker('"Cities are the front line," said the mayor of Brno, Jan Novak.') == (
        "Jan Novak, mayor of Brno"
    )
    assert find_speaker('"We will be back," Lindqvist said.', "Marta Lindqvist spoke first.") == (
        "Marta Lindqvist"
    )
    assert find_speaker("Officials in Budapest said the pact was dangerous.") is None


def test_a_five_megabyte_text_is_classified_from_its_beginning(classifier: Classifier) -> None:
    huge = PRO_CITY_TEXT + "\n\n" + ("Filler paragraph about nothing in particular. " * 120_000)
    assert len(huge) > 5_000_000
    [result] = classifier.classify([("Mayors and the compact", huge)])
    assert result.status == "ok" and result.relevant


def test_models_directory_never_holds_a_pickle_or_joblib_file() -> None:
    for path in DEFAULT_MODEL_DIR.iterdir():
        assert path.suffix in {".skops", ".json"}, f"unexpected file in models/: {path.name}"
        head = path.read_bytes()[:2]
        assert head != b"\x80\x04" and head[:1] != b"\x80", f"{path.name} looks like a pickle"
        if path.suffix == ".skops":
            assert head == b"PK", f"{path.name} is not a skops zip"
    for source in (REPO / "classifiers").rglob("*.py"):
        code = source.read_text()
        assert "import joblib" not in code and "pickle.dump" not in code, source


def test_committed_model_matches_its_card_and_the_committed_corpus() -> None:
    card = json.loads((DEFAULT_MODEL_DIR / CARD_FILE).read_text())
    digest = hashlib.sha256((DEFAULT_MODEL_DIR / MODEL_FILE).read_bytes()).hexdigest()
    assert card["files"][MODEL_FILE]["sha256"] == digest
    assert card["data"]["sha256"] == hashlib.sha256(CORPUS_PATH.read_bytes()).hexdigest()
    assert card["data"]["sha256"] == hashlib.sha256(serialise(load_corpus())).hexdigest()


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    path = model_dir / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="does not match its model card"):
        load_classifier(model_dir)


def test_a_model_trained_with_another_sklearn_minor_version_is_refused(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    card_path = model_dir / CARD_FILE
    card = json.loads(card_path.read_text())
    card["libraries"]["scikit-learn"] = "0.24.2"
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"scikit-learn 0\.24\.2"):
        load_classifier(model_dir)


def test_a_pickle_dressed_as_the_model_is_never_unpickled(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path)
    payload = pickle.dumps({"relevant": "anything"})
    (model_dir / MODEL_FILE).write_bytes(payload)
    card_path = model_dir / CARD_FILE
    card = json.loads(card_path.read_text())
    card["files"][MODEL_FILE]["sha256"] = hashlib.sha256(payload).hexdigest()
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="cannot be loaded"):
        load_classifier(model_dir)


def test_a_skops_file_needing_untrusted_types_is_refused(tmp_path: Path) -> None:
    import os

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    model_dir = _copy_model(tmp_path)
    payload = sio.dumps({label: FunctionTransformer(os.system) for label in LABELS})
    (model_dir / MODEL_FILE).write_bytes(payload)
    card_path = model_dir / CARD_FILE
    card = json.loads(card_path.read_text())
    card["files"][MODEL_FILE]["sha256"] = hashlib.sha256(payload).hexdigest()
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"untrusted types: posix\.system"):
        load_classifier(model_dir)


def test_classify_jsonl_writes_one_line_per_input_and_an_error_line_for_bad_input(
    classifier: Classifier,
) -> None:
    lines = [
        json.dumps({"id": "a", "title": "Mayors and the compact", "text": PRO_CITY_TEXT}),
        "{not json",
        json.dumps({"id": "b", "title": "Empty", "text": ""}),
        json.dumps(["a", "list"]),
        json.dumps({"id": 7, "title": "Järnväg", "text": SWEDISH_TEXT}),
        json.dumps({"id": "c", "title": "No text"}),
    ]
    sink = io.StringIO()
    counts = classify_jsonl(classifier, io.StringIO("\n".join(lines) + "\n\n"), sink)
    out = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert [o["status"] for o in out] == [
        "ok",
        "error",
        "empty_text",
        "error",
        "language_unsupported",
        "error",
    ]
    assert [o["id"] for o in out] == ["a", None, "b", None, 7, "c"]
    assert counts == {"lines": 6, "relevant": 1, "errors": 3}
    first = out[0]
    for key in (
        "relevant",
        "relevance",
        "pro_city_inclusion",
        "pro_city_inclusion_score",
        "sovereignty_framing",
        "sovereignty_framing_score",
        "evidence",
        "model_version",
    ):
        assert key in first and key in out[1]
    assert first["evidence"]["pro_city_inclusion"]


def test_classify_command_reads_and_writes_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPACTWATCH_MODEL_DIR", str(DEFAULT_MODEL_DIR))
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(json.dumps({"id": 1, "title": "Les maires", "text": FRENCH_TEXT}) + "\n")
    classify(jsonl=source, out=target, text=None, url=None)
    [line] = [json.loads(x) for x in target.read_text().splitlines()]
    assert line["id"] == 1 and line["language"] == "fr" and line["status"] == "ok"


def test_analyst_corrections_override_corpus_labels_and_skip_test_texts(
    corpus: list[dict[str, object]],
) -> None:
    train = [i for i in corpus if i["split"] == "train"][:5]
    test = [i for i in corpus if i["split"] == "test"][:1]
    relevant = next(i for i in train if i["relevant"]) if any(i["relevant"] for i in train) else train[0]
    corrections = [
        (str(relevant["title"]), str(relevant["text"]), "relevant", False),
        ("New", "An article about mayors and the compact.", "pro_city_inclusion", True),
        (str(test[0]["title"]), str(test[0]["text"]), "relevant", True),
        ("Bad", "text", "not_a_label", True),
    ]
    examples, used, skipped, _ = merge_extra_labels(train, test, corrections)
    assert (used, skipped) == (2, 2)
    changed = next(e for e in examples if e.title == relevant["title"])
    assert changed.labels == {"relevant": False, "pro_city_inclusion": False, "sovereignty_framing": False}
    added = examples[-1]
    assert added.labels == {"relevant": True, "pro_city_inclusion": True, "sovereignty_framing": None}
    assert added.trains("pro_city_inclusion") and not added.trains("sovereignty_framing")


def test_corpus_split_depends_only_on_the_item_id(corpus: list[dict[str, object]]) -> None:
    assert all(item["split"] == split_for(str(item["id"])) for item in corpus)
    share = sum(item["split"] == "test" for item in corpus) / len(corpus)
    assert 0.12 < share < 0.28
    assert all(
        item["relevant"] or not (item["pro_city_inclusion"] or item["sovereignty_framing"]) for item in corpus
    )
    assert len({item["id"] for item in corpus}) == len(corpus)


def test_keyword_baseline_fires_on_a_passing_mention_as_keyword_alerts_do() -> None:
    labels = keyword_labels(
        "Profile: the new finance minister",
        "Before politics she ran a bakery. As a junior diplomat she once attended a session in Marrakech.",
    )
    assert labels == {"relevant": True, "pro_city_inclusion": False, "sovereignty_framing": False}
