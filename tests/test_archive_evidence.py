"""Evidence as the classifier writes it is found and highlighted in the article text."""

from __future__ import annotations

from archive.text import evidence_core, highlight

TEXT = (
    'GENEVA - The mayors asked for a "formal seat" in the review.\n\n'
    "\u201cCities run the shelters and the schools,\u201d said Mayor Ana Ruiz, adding that the "
    "forum should hear from them directly before the declaration is agreed next year."
)


def test_quoted_evidence_with_a_speaker_is_highlighted_in_the_text() -> None:
    evidence = {
        "pro_city_inclusion": [
            '"Cities run the shelters and the schools,\u201d said Mayor Ana Ruiz, adding that the forum should hear from them directly before the…" (— Mayor Ana Ruiz)',
            '"The mayors asked for a \u201cformal seat\u201d in the review." (— Ana Ruiz)',
        ]
    }
    _, found = highlight(TEXT, evidence)
    assert [e.anchor is not None for e in found] == [True, True]


def test_evidence_core_strips_wrapping_quotes_speaker_and_ellipsis() -> None:
    assert evidence_core('"They must be heard…" (— Mayor X)') == "They must be heard"
    assert evidence_core("plain sentence.") == "plain sentence."
