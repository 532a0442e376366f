"""The shared featurization: the lexicon's anchors, aboutness of a mention, look-alikes kept
apart, the live fast path equal to scikit-learn's, and the timing API `make bench` calls."""

from __future__ import annotations

import numpy as np

from classifiers.aboutness import FEATURE_NAMES, analyse, find_mentions, sentence_starts
from classifiers.corpus import LABELS
from classifiers.features import to_inputs
from classifiers.lexicon import UNANCHORED, WORD, find_anchors, passes_gate
from classifiers.lexicon import token_kind as kind_of
from classifiers.model import Classifier
from classifiers.timing import ClassifyTiming, time_classification

INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _groups(text: str) -> list[str]:
    lowered = text.lower()
    return [m.group for m in find_mentions(lowered, sentence_starts(lowered), set(WORD.findall(lowered)))]


def test_every_phrase_of_the_lexicon_is_reachable_from_an_anchor_literal() -> None:
    assert UNANCHORED == []


def test_anchors_found_from_tokens_match_a_full_regex_scan() -> None:
    text = (
        "The impact of the compact: Hungary left the migrációs csomag, Italy the patto globale, "
        "and the Dutch debated the migratiepact before the Global Compact for Migration review forum in New York."
    ).lower()
    assert find_anchors(text, set(WORD.findall(text))) == find_anchors(text)


def test_look_alikes_are_their_own_features_not_compact_mentions() -> None:
    assert _groups("Our firm joined the UN Global Compact Network last year.") == ["look_business_compact"]
    assert _groups("Warsaw rejects the EU pact on migration and asylum.") == ["look_eu_pact"]
    assert _groups("Polska odrzuca pakt migracyjny UE.") == ["look_eu_pact"]
    assert _groups("The Marrakesh Treaty helps blind readers.") == ["look_marrakesh_other"]
    assert _groups("Hungary left the Global Compact for Migration.") == ["core_name"]
    assert _groups("Il governo non firmerà il patto globale per le migrazioni.") == ["core_name"]


def test_a_subordinate_mention_and_a_subject_mention_are_told_apart() -> None:
    subordinate, _ = analyse(
        "", "The law passed weeks after the UN adopted the Global Compact for Migration.", 4000
    )
    subject, _ = analyse("", "The Global Compact for Migration was adopted by the UN on Monday.", 4000)
    assert subordinate[INDEX["subordinate_mentions"]] > 0 and subordinate[INDEX["subject_mentions"]] == 0
    assert subject[INDEX["subject_mentions"]] > 0 and subject[INDEX["subordinate_mentions"]] == 0


def test_the_gate_passes_compact_terms_in_any_corpus_language_and_skips_ordinary_text() -> None:
    for text in ("migrationspakt", "pacto mundial", "migrációs csomag", "pakt o migracji", "the gcm review"):
        assert passes_gate(text)
    assert not passes_gate("the impact of the storm on the harbour was severe")


def test_the_live_fast_path_equals_scikit_learn_predict_proba(classifier: Classifier) -> None:
    pairs = to_inputs(
        [("Mayors and the migration compact", "Mayors want a seat at the Global Compact review.")]
    )
    matrix = classifier.features.transform(pairs)
    for label in LABELS:
        expected = classifier.pipelines[label].predict_proba(pairs)[:, 1]
        assert np.allclose(classifier.heads[label].proba(matrix), expected, atol=1e-9)


def test_time_classification_reports_articles_and_mean_length() -> None:
    texts = [
        "The Global Compact for Migration was debated in parliament. " * 20,
        "Storm closes harbour. " * 10,
    ]
    timing = time_classification(texts)
    assert isinstance(timing, ClassifyTiming)
    assert timing.articles == 2
    assert timing.mean_chars == sum(len(t) for t in texts) / 2
    assert timing.ms_per_article >= 0
    assert timing.line().startswith("classify: ") and "(2 articles, mean chars" in timing.line()


def test_hashed_words_are_bucketed_exactly_as_scikit_learns_feature_hasher() -> None:
    from sklearn.feature_extraction import FeatureHasher

    from classifiers.features import WORD_BUCKETS, hash_rows

    grams = [["global", "compact", "global compact", "for", "migration", "global"], ["mayors", "ciudades"]]
    ours = hash_rows(grams, WORD_BUCKETS)
    reference = FeatureHasher(n_features=WORD_BUCKETS, input_type="string", alternate_sign=False)
    theirs = reference.transform(grams).tocsr()
    assert (ours != theirs).nnz == 0


def test_the_one_article_fast_path_gives_the_batch_path_s_probabilities(classifier: Classifier) -> None:
    pairs = to_inputs(
        [
            ("Mayors and the migration compact", "Mayors want a seat at the Global Compact review. " * 5),
            ("", "Hungary left the migrációs csomag; Poland rejected the pakt migracyjny ONZ."),
        ]
    )
    words, profiles = classifier.features.parts(pairs)
    for label in LABELS:
        batch = classifier.heads[label].proba_parts(words, profiles)
        single = [classifier.heads[label].proba_row(classifier.features.row(t, b)) for t, b in pairs]
        assert np.allclose(batch, single, atol=1e-6)


def test_evidence_sentence_scores_equal_the_full_featurization_of_each_sentence(
    classifier: Classifier,
) -> None:
    from classifiers.sentences import sentence_decisions, sentence_parts

    sentences = [
        (WORD.findall(text.lower()), [kind_of(t) for t in WORD.findall(text.lower())])
        for text in (
            "Our borders, our laws: Hungary will decide who enters, the minister said.",
            "Mayors of Milan and Lisbon asked for a seat at the compact's review forum.",
            "It rained.",
        )
    ]
    for label in ("pro_city_inclusion", "sovereignty_framing"):
        head = classifier.heads[label]
        reference = head.proba_parts(*sentence_parts(classifier.features, sentences))
        fast = head.proba_decisions(sentence_decisions(classifier.features, head.weights, sentences))
        assert np.allclose(reference, fast, atol=1e-6)


def test_evidence_reads_only_the_paragraphs_it_needs_and_still_picks_the_eager_rule_s_sentences() -> None:
    from classifiers.evidence import (
        _SENTENCE_END,
        FRAME_KIND,
        MAX_CANDIDATES,
        MIN_SENTENCE_CHARS,
        split_for_evidence,
        split_into_sentences,
    )

    text = "\n".join(
        [
            "BRUSSELS — A short heading",
            "The weather was mild. Markets were calm on Monday, traders said.",
            "Mayors of twelve cities asked for a seat at the table of the compact review. They want in.",
            "The minister said Hungary alone decides who enters its territory, not Geneva.",
            *[f"Filler paragraph number {n} talks about trains and timetables at length." for n in range(30)],
        ]
    )
    paragraphs = split_into_sentences(text)
    full = [
        (p, s)
        for p, sentences in enumerate(paragraphs)
        for s, sentence in enumerate(sentences)
        if len(sentence) >= MIN_SENTENCE_CHARS and _SENTENCE_END.search(sentence)
    ]
    split = split_for_evidence(text)
    for frame in ("pro_city_inclusion", "sovereignty_framing"):
        kind = FRAME_KIND[frame]
        with_kind = [w for w in full if kind in split.tokens_of(w)[1]]
        assert split.candidates(kind) == (with_kind or full)[:MAX_CANDIDATES]
    assert split.candidates("no-such-kind") == full[:MAX_CANDIDATES]
