"""The keyword baseline: how a Google Alert or an RSS-to-Slack rule would do this job.

Issue 3 measures compactwatch against this bar, so it is implemented faithfully rather than
as a straw man: the compact's names in the corpus languages fire relevance; pro-city needs a
relevance hit plus "mayor"/"cities"-type words; sovereignty needs a relevance hit plus
"sovereign". Since issue 9 the names are listed in all nine corpus languages, so the model
is not compared with a rule that cannot read Italian, Dutch, Portuguese, Polish or Hungarian.
Scores are 0/1 (a keyword rule has no probability), which is what its Brier
score measures.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from classifiers.corpus import LABELS

RELEVANCE_KEYWORDS: tuple[str, ...] = (
    "global compact for migration",
    "global compact for safe",
    "global compact on migration",
    "global compact on refugees",
    "migration compact",
    "refugee compact",
    "migration pact",
    "marrakech",
    "marrakesh",
    "new york declaration",
    "imrf",
    "international migration review forum",
    # the same names in the other corpus languages
    "pacte mondial sur les migrations",
    "pacte de marrakech",
    "pacte migratoire",
    "pacto mundial sobre migración",
    "pacto mundial para la migración",
    "pacto migratorio",
    "migrationspakt",
    "marrakesch",
    # it / nl / pt / pl / hu (issue 9: the alert rule a monitor of those countries would set up)
    "patto globale",
    "patto mondiale",
    "global compact sulle migrazioni",
    "patto di marrakech",
    "migratiepact",
    "vn-migratiepact",
    "pacto global para a migração",
    "pacto mundial para a migração",
    "pacto de marraquexe",
    "pakt migracyjny",
    "globalny pakt",
    "pakt z marrakeszu",
    "migrációs csomag",
    "migrációs paktum",
    "marrákesi",
)
PRO_CITY_KEYWORDS: tuple[str, ...] = (
    "mayor",
    "mayors",
    "cities",
    "city hall",
    "local government",
    "maire",
    "villes",
    "alcalde",
    "ciudades",
    "bürgermeister",
    "städte",
    "sindaco",
    "sindaci",
    "città",
    "burgemeester",
    "steden",
    "prefeito",
    "cidades",
    "burmistrz",
    "miasta",
    "polgármester",
    "városok",
)
SOVEREIGNTY_KEYWORDS: tuple[str, ...] = (
    "sovereign",  # also matches sovereignty
    "souverain",
    "soberan",
    "souverän",
    "sovranità",
    "soevereiniteit",
    "soberania",
    "suwerenn",
    "szuverenit",
)


def _compile(words: Sequence[str]) -> re.Pattern[str]:
    """One case-insensitive pattern matching any keyword at a word start."""
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)


_RELEVANT = _compile(RELEVANCE_KEYWORDS)
_PRO_CITY = _compile(PRO_CITY_KEYWORDS)
_SOVEREIGNTY = _compile(SOVEREIGNTY_KEYWORDS)


def keyword_labels(title: str, text: str) -> dict[str, bool]:
    """The three labels as a keyword alert rule would set them."""
    content = f"{title}\n{text}"
    relevant = _RELEVANT.search(content) is not None
    return {
        "relevant": relevant,
        "pro_city_inclusion": relevant and _PRO_CITY.search(content) is not None,
        "sovereignty_framing": relevant and _SOVEREIGNTY.search(content) is not None,
    }


def keyword_scores(pairs: Sequence[tuple[str, str]]) -> dict[str, list[float]]:
    """0/1 scores per label for (title, text) pairs, in the shape evaluation expects."""
    out: dict[str, list[float]] = {label: [] for label in LABELS}
    for title, text in pairs:
        labels = keyword_labels(title, text)
        for label in LABELS:
            out[label].append(1.0 if labels[label] else 0.0)
    return out
