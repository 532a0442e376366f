"""Evidence reads right: one pair of quote marks, cuts at a sentence or clause boundary with an
ellipsis, the speaker kept, and the sentence that carries the frame rather than its neighbour."""

from __future__ import annotations

import re

from classifiers.evidence import find_evidence, format_evidence, trim_at_clause
from classifiers.model import Classifier

DOUBLED = re.compile(r"[\"“”„«»]{2}")


def test_a_sentence_that_opens_with_a_quotation_is_not_wrapped_in_a_second_pair_of_quotes() -> None:
    for sentence in (
        '"We decide who enters this country, not Geneva," the minister said.',
        "“We decide who enters this country, not Geneva,” the minister said.",
        "« Nous décidons qui entre sur notre territoire », a déclaré le ministre.",
    ):
        evidence = format_evidence(sentence, "Anna Kovacs")
        assert not DOUBLED.search(evidence), evidence
        assert evidence.count("“") + evidence.count("«") == 1, evidence
        assert evidence.endswith(" (— Anna Kovacs)")


def test_quotes_inside_a_reported_sentence_become_single_quotes_inside_one_outer_pair() -> None:
    evidence = format_evidence('The minister called the pact "a Trojan horse" for open borders.', None)
    assert evidence == "“The minister called the pact ‘a Trojan horse’ for open borders.”"
    assert not DOUBLED.search(evidence)


def test_a_long_quote_is_cut_at_a_clause_boundary_with_an_ellipsis_and_closed() -> None:
    sentence = (
        '"Cities are where the compact either works or fails, and we are tired of reading about our own '
        "residents in reports we were never asked to write; we want a seat at the table when the review "
        'begins, and we want it written down," said Mayor Tomasz Wierzbicki of Gdansk, who spoke for a '
        "coalition of municipal networks from three continents."
    )
    evidence = format_evidence(sentence, "Tomasz Wierzbicki", limit=200)
    body = evidence.removesuffix(" (— Tomasz Wierzbicki)")
    assert evidence.endswith("(— Tomasz Wierzbicki)"), "the speaker is kept when the quote is cut"
    assert len(evidence) <= 200
    assert body.endswith("…”"), body  # the ellipsis marks the cut and the quotation is closed
    kept = body[1:-2]
    assert kept.endswith(("fails", "write", "begins")), kept  # a clause end, not mid-clause
    assert not DOUBLED.search(evidence)


def test_a_cut_after_a_full_sentence_keeps_its_full_stop_and_adds_a_spaced_ellipsis() -> None:
    text = "The compact is not binding. " + "It sets out twenty-three objectives for states " * 6
    cut = trim_at_clause(text, 60)
    assert cut == "The compact is not binding. …"


def test_evidence_is_the_sentence_that_carries_the_frame_not_its_neighbour(classifier: Classifier) -> None:
    text = (
        "The foreign minister spoke to reporters on Tuesday after a cabinet meeting in the capital.\n\n"
        "The agreement would hand Geneva a say over who enters our country, and we will never accept "
        "that our borders are run by foreign bureaucrats, he said.\n\n"
        "The meeting also discussed the budget for next year and a new railway line to the coast."
    )
    evidence = find_evidence(
        text, classifier.sentence_scorer("sovereignty_framing"), frame="sovereignty_framing"
    )
    assert evidence, "a sovereignty sentence must be found"
    assert "who enters our country" in evidence[0]
    assert "railway" not in evidence[0] and "reporters" not in evidence[0]


def test_formatted_evidence_is_still_found_in_the_article_by_the_archive() -> None:
    from archive.text import highlight

    text = (
        '"Cities run the shelters and the schools, and they must be heard before the review," said '
        "Mayor Ana Ruiz, adding that the forum should hear from them directly before the declaration is "
        "agreed next year and that local governments would send their own reports.\n\n"
        'The minister called the pact "a Trojan horse" for open borders.'
    )
    paragraphs = text.split("\n\n")
    evidence = {
        "pro_city_inclusion": [format_evidence(paragraphs[0], "Ana Ruiz", limit=160)],
        "sovereignty_framing": [format_evidence(paragraphs[1], None)],
    }
    assert evidence["pro_city_inclusion"][0].endswith("(— Ana Ruiz)")
    _, found = highlight(text, evidence)
    assert [e.anchor is not None for e in found] == [True, True]


def test_speakers_are_found_in_the_new_corpus_languages() -> None:
    from classifiers.evidence import find_speaker

    assert find_speaker('"I confini li decidiamo noi", ha dichiarato il ministro Paolo Verdi.') == (
        "ministro Paolo Verdi"
    )
    assert find_speaker('"Wij bepalen wie binnenkomt", zei burgemeester Anna de Vries.') == (
        "burgemeester Anna de Vries"
    )
    assert find_speaker('"My decydujemy" – powiedział burmistrz Jan Kowalski.') == "burmistrz Jan Kowalski"
