"""The archive's search syntax: what analysts type, parsed into plain words and phrases.

Full-text search never passes user input to the search engine as syntax. The query is
parsed here into words, phrases, `-negations`, `OR` and `prefix*` terms made only of
letters and digits, then written out as quoted FTS5 phrases (SQLite) or as a
`websearch_to_tsquery` string (PostgreSQL), so `"`, `AND`, `NEAR(` and friends are just
words and can never raise a syntax error. No SQL here: `pipeline.store.archive` runs it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
# Diacritic folding for PostgreSQL search (SQLite's tokenizer does its own): the same
# translate() pair as migration 0002 uses for the indexed column.
FOLD_FROM = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžſơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳ"  # noqa: E501
FOLD_TO = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzsouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooy"  # noqa: E501
# Snippet delimiters: private-use characters that never occur in news text, so the web
# layer can split on them and escape everything else.
MARK_START = "\ue000"
MARK_END = "\ue001"


class SearchError(ValueError):
    """The search could not be run (shown to analysts as 'invalid query', never a 500)."""


# --------------------------------------------------------------------------- search syntax
@dataclass(frozen=True)
class SearchTerm:
    """One parsed search term: a word or phrase of plain words (letters and digits only)."""

    words: tuple[str, ...]
    negated: bool = False
    prefix: bool = False  # `migra*`: the last word is a prefix
    or_before: bool = False  # joined to the previous term with OR instead of AND


_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_WORD = re.compile(r"[^\W_]+")


def parse_search(q: str) -> tuple[SearchTerm, ...]:
    """Parse analyst input with web-search conventions: words (all required), "exact
    phrases", -excluded, `a OR b`, and `prefix*`. Anything else is punctuation and dropped.

    Input is capped (MAX_QUERY_CHARS, MAX_TERMS) so a pasted essay cannot build a huge
    query; an unbalanced quote is treated as a space, like search engines do.
    """
    q = (q or "")[:MAX_QUERY_CHARS]
    if q.count('"') % 2:
        cut = q.rfind('"')
        q = q[:cut] + " " + q[cut + 1 :]
    terms: list[SearchTerm] = []
    pending_or = False
    for match in _TOKEN.finditer(q):
        dash, phrase, bare = match.groups()
        prefix = False
        if phrase is not None:
            negated, raw = bool(dash), phrase
        else:
            if bare.upper() == "OR" and terms:
                pending_or = True
                continue
            negated = bare.startswith("-") and len(bare) > 1
            raw = bare[1:] if negated else bare
            prefix = raw.endswith("*")
        words = tuple(_WORD.findall(raw))
        if not words:
            continue
        terms.append(
            SearchTerm(
                words=words,
                negated=negated,
                prefix=prefix,
                or_before=pending_or and not negated and bool(terms) and not terms[-1].negated,
            )
        )
        pending_or = False
        if len(terms) >= MAX_TERMS:
            break
    return tuple(terms)


def _fts5_phrase(term: SearchTerm) -> str:
    text = " ".join(term.words).replace('"', '""')  # words hold no quotes; belt and braces
    return f'"{text}"' + (" *" if term.prefix else "")


def fts5_expressions(terms: Sequence[SearchTerm]) -> tuple[str | None, str | None]:
    """(expression the article must match, expression it must not match) in FTS5 syntax.

    FTS5's NOT is binary, so excluded terms are subtracted from the positive part; when
    there is no positive part, the caller excludes the negative matches instead.
    """
    positive = ""
    for term in (t for t in terms if not t.negated):
        if not positive:
            positive = _fts5_phrase(term)
        else:
            positive += (" OR " if term.or_before else " AND ") + _fts5_phrase(term)
    negative = " OR ".join(_fts5_phrase(t) for t in terms if t.negated)
    if positive and negative:
        return f"({positive}) NOT ({negative})", None
    return positive or None, negative or None


def websearch_text(terms: Sequence[SearchTerm]) -> str:
    """The parsed query written back in `websearch_to_tsquery` syntax (prefix terms excluded)."""
    parts: list[str] = []
    for term in terms:
        if term.prefix:
            continue
        text = " ".join(term.words)
        token = f'"{text}"' if len(term.words) > 1 else text
        if term.negated:
            token = "-" + token
        if term.or_before and parts:
            parts.append("or")
        parts.append(token)
    return " ".join(parts)


def prefix_tsquery(terms: Sequence[SearchTerm]) -> str:
    """`to_tsquery` text for prefix terms (websearch syntax has no prefix search).

    Safe by construction: every lexeme is letters/digits only, quoted, and joined with
    operators written here.
    """
    parts = []
    for term in terms:
        if not term.prefix:
            continue
        lexemes = [f"'{w}'" for w in term.words]
        lexemes[-1] += ":*"
        expr = " <-> ".join(lexemes)
        parts.append(f"!({expr})" if term.negated else f"({expr})")
    return " & ".join(parts)
