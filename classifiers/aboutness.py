"""Aboutness: is the compact the subject of this article, or a mention in passing?

Word weights alone cannot tell "Mayors demand a seat at the migration compact review" from a
5,000-word story on a national asylum law that says once that the law came "weeks after the
UN adopted the Global Compact for Migration": both contain the name. What differs is shape,
and that is what these numbers describe, for the model to weigh (nothing here is a
threshold): how many sentences refer to the compacts, whether the title or the lead does,
where the first mention sits, how much of the text lies around mentions, how far apart the
mentions are, whether a mention opens its sentence (its subject) or follows "after",
"since", "like" (a subordinate reference), and whether process verbs (sign, withdraw, vote),
look-alikes, EU qualifiers, or frame vocabulary stand in the same sentences.

`analyse` reads a text once: sentence breaks and word tokens by C-speed regexes, phrase
groups only in the sentences holding an anchor literal, token kinds through a memo (see
`classifiers.lexicon`). It also returns the tokens, which the featurizer hashes, so the text
is tokenized once for everything.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from classifiers.lexicon import (
    ANCHOR_BEFORE,
    ANCHOR_WINDOW,
    CORE_GROUPS,
    KEYED_PHRASES,
    LOOK_GROUPS,
    MIGRATION,
    PHRASE_NAMES,
    PRO_CITY,
    PROCESS,
    SOVEREIGNTY,
    SUBORDINATE,
    TOKEN_KIND_NAMES,
    WORD,
    describe_tokens,
    find_anchors,
    token_kind,
    token_kinds,
)

# Sentence ends: terminal punctuation then space, or a line break (one paragraph per line).
_WORD_START = re.compile(r"\b\w")
# Written as one leading character class (rather than `[.!?…][…]*\s+|\n+`) because the regex
# engine can then skip ahead to candidate characters: same matches, ~3x faster on long texts.
_SENTENCE_BREAK = re.compile(r"[.!?…\n](?:(?<=\n)\n*|[\"'”’»)\]]*\s+)")
LEAD_CHARS = 400  # the lead: what a reader sees before deciding to read on
SUBJECT_PREFIX_CHARS = 60  # a mention this close to its sentence start is (near) its subject
# Mentions judged subject/subordinate, and sentences around mentions read for vocabulary, are
# capped: an article that names the compact in 40 sentences is not ambiguous, and the cap
# keeps the cost of the densest articles bounded.
MAX_JUDGED = 16
_NEAR_KINDS = (SOVEREIGNTY, PRO_CITY, PROCESS, MIGRATION)

# Names of the dense features, in order (the model card lists them).
FEATURE_NAMES: tuple[str, ...] = (
    *(f"count:{name}" for name in PHRASE_NAMES),
    *(f"count:{kind}" for kind in TOKEN_KIND_NAMES),
    *(f"density:{kind}" for kind in TOKEN_KIND_NAMES),
    "has_core",
    "core_mentions",
    "core_sentences",
    "core_sentence_share",
    "title_core",
    "title_lookalike",
    "title_generic",
    "lead_core",
    "first_core_position",
    "core_span",
    "near_core_share",
    "mean_core_gap",
    "subject_mentions",
    "subordinate_mentions",
    "subject_share",
    "subordinate_share",
    "lookalike_share",
    "eu_with_core",
    "generic_sentences",
    "generic_near_core",
    *(f"near_core:{kind}" for kind in _NEAR_KINDS),
    "sentences",
    "log_chars",
)
N_FEATURES = len(FEATURE_NAMES)
_ORDER = {name: i for i, name in enumerate(PHRASE_NAMES)}
_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}
# (count column, density column) of each token kind: what a single sentence's profile holds.
KIND_COLUMNS: dict[str, tuple[int, int]] = {
    kind: (_INDEX[f"count:{kind}"], _INDEX[f"density:{kind}"]) for kind in TOKEN_KIND_NAMES
}


@dataclass(frozen=True)
class Mention:
    """One phrase-group match: its group and where it is (character offset, sentence index)."""

    group: str
    start: int
    sentence: int


def sentence_starts(text: str) -> list[int]:
    """Offsets where sentences start (0 first); cheap and language-agnostic on purpose."""
    starts = [m.end() for m in _SENTENCE_BREAK.finditer(text)]
    starts.insert(0, 0)
    return starts


def find_mentions(lowered: str, starts: list[int], tokens: Iterable[str] | None = None) -> list[Mention]:
    """Phrase-group matches, looked for only around anchor literals (see `classifiers.lexicon`).

    A match must cover its anchor; among the phrases covering one anchor the most specific
    group wins (look-alikes, then the compact, then generic references), and where matches
    of different anchors overlap, the leftmost wins.
    """
    found: dict[int, tuple[int, int, str]] = {}  # start -> (group order, end, group)
    length = len(lowered)
    for position, literal in find_anchors(lowered, tokens):
        if position >= 2 and lowered[position - 2 : position] == "im":
            continue  # "impact", "impakt": the commonest false anchor, skipped before any regex
        anchor_end = position + len(literal)
        sentence = bisect_right(starts, position) - 1
        lo = max(starts[sentence], position - ANCHOR_BEFORE)
        end_of_sentence = starts[sentence + 1] if sentence + 1 < len(starts) else length
        hi = min(end_of_sentence, anchor_end + ANCHOR_WINDOW)
        best = _best_phrase(lowered, lo, position, hi, literal)
        if best is not None:
            order, start, end, group = best
            if start not in found or (order, end, group) < found[start]:
                found[start] = (order, end, group)
    mentions: list[Mention] = []
    covered = -1
    for start in sorted(found):
        if start < covered:
            continue
        _, end, group = found[start]
        covered = end
        mentions.append(Mention(group, start, bisect_right(starts, start) - 1))
    return mentions


Phrase = tuple[int, int, int, str]  # (group order, start, end, group)
_phrase_memo: dict[tuple[str, bool, int, str], Phrase | None] = {}
_PHRASE_MEMO_LIMIT = 100_000


def _best_phrase(lowered: str, lo: int, position: int, hi: int, literal: str) -> Phrase | None:
    """(group order, start, end, group) of the best phrase covering the anchor at `position`.

    A phrase starts at a word start in [lo, position] and ends by `hi`; of the phrases covering
    the anchor, the most specific group wins (look-alike, then compact, then generic "il
    patto"), then the leftmost. The answer depends only on the window's characters (and the
    one before it, which decides whether `lo` is a word start), so it is memoised on them:
    news repeats its names, and most windows have been seen before.
    """
    key = (lowered[lo - 1 if lo else 0 : hi], lo == 0, position - lo, literal)
    found = _phrase_memo.get(key, False)
    if found is not False:
        if found is None:
            return None
        order, start, end, group = found  # type: ignore[misc]
        return order, start + lo, end + lo, group
    pattern = KEYED_PHRASES[literal]
    anchor_end = position + len(literal)
    best: Phrase | None = None
    for start in [m.start() for m in _WORD_START.finditer(lowered, lo, position)] + [position]:
        match = pattern.match(lowered, start, hi)
        if match is not None and match.end() >= anchor_end:
            group = str(match.lastgroup)
            if best is None or (_ORDER[group], start) < best[:2]:
                best = (_ORDER[group], start, match.end(), group)
    if len(_phrase_memo) >= _PHRASE_MEMO_LIMIT:
        _phrase_memo.clear()
    _phrase_memo[key] = None if best is None else (best[0], best[1] - lo, best[2] - lo, best[3])
    return best


def title_groups(title: str) -> set[str]:
    """The phrase groups named in a title."""
    lowered = title.lower()
    return {m.group for m in find_mentions(lowered, [0])}


def _log(count: float) -> float:
    return math.log1p(count)


def analyse(title: str, body: str, lexical_chars: int) -> tuple[np.ndarray, list[str]]:
    """(aboutness profile, tokens of the first `lexical_chars` characters) of one article."""
    out = np.zeros(N_FEATURES, dtype=np.float32)
    lowered = body.lower()
    starts = sentence_starts(lowered)
    head = WORD.findall(lowered, 0, lexical_chars)
    tail = WORD.findall(lowered, lexical_chars) if len(lowered) > lexical_chars else []
    counts_by_token = Counter(head)
    if tail:
        counts_by_token.update(tail)
    kinds, anchor_tokens = describe_tokens(counts_by_token)
    n_tokens = max(1, len(head) + len(tail))
    for kind, count in kinds.items():
        out[_INDEX[f"count:{kind}"]] = _log(count)
        out[_INDEX[f"density:{kind}"]] = min(1.0, 10 * count / n_tokens)

    mentions = find_mentions(lowered, starts, anchor_tokens)
    n_sentences = max(1, len(starts))
    length = max(1, len(lowered))
    counts: dict[str, int] = {}
    for mention in mentions:
        counts[mention.group] = counts.get(mention.group, 0) + 1
    for name, count in counts.items():
        out[_INDEX[f"count:{name}"]] = _log(count)

    core = [m for m in mentions if m.group in CORE_GROUPS]
    look = sum(counts.get(name, 0) for name in LOOK_GROUPS)
    generic = [m for m in mentions if m.group == "generic_ref"]
    in_title = title_groups(title)
    out[_INDEX["title_core"]] = float(bool(in_title & CORE_GROUPS))
    out[_INDEX["title_lookalike"]] = float(bool(in_title & LOOK_GROUPS))
    out[_INDEX["title_generic"]] = float("generic_ref" in in_title or "marrakesh_place" in in_title)
    out[_INDEX["lookalike_share"]] = look / (look + len(core)) if look + len(core) else 0.0
    out[_INDEX["generic_sentences"]] = _log(len({m.sentence for m in generic}))
    out[_INDEX["sentences"]] = _log(n_sentences) / 5
    out[_INDEX["log_chars"]] = _log(length) / 10
    if not core:
        out[_INDEX["first_core_position"]] = 1.0
        out[_INDEX["mean_core_gap"]] = 1.0
        return out, head

    core_sentences = sorted({m.sentence for m in core})
    out[_INDEX["has_core"]] = 1.0
    out[_INDEX["core_mentions"]] = _log(len(core))
    out[_INDEX["core_sentences"]] = _log(len(core_sentences))
    out[_INDEX["core_sentence_share"]] = len(core_sentences) / n_sentences
    out[_INDEX["lead_core"]] = float(core[0].start < LEAD_CHARS)
    out[_INDEX["first_core_position"]] = core[0].start / length
    out[_INDEX["core_span"]] = (core[-1].start - core[0].start) / length
    gaps = [b - a for a, b in pairwise(core_sentences)]
    out[_INDEX["mean_core_gap"]] = (sum(gaps) / len(gaps) / n_sentences) if gaps else 1.0

    # the text "around" mentions: the mention sentences and their neighbours
    near = sorted({s + d for s in core_sentences for d in (-1, 0, 1) if 0 <= s + d < n_sentences})
    ends = [*starts[1:], length]
    out[_INDEX["near_core_share"]] = sum(ends[s] - starts[s] for s in near) / length

    # subject vs subordinate reference, judged from the sentence prefix before the mention
    subject = subordinate = 0
    judged = core[:MAX_JUDGED]
    for mention in judged:
        prefix = WORD.findall(lowered, starts[mention.sentence], mention.start)
        if any(token_kind(token) == SUBORDINATE for token in prefix):
            subordinate += 1
        elif mention.start - starts[mention.sentence] <= SUBJECT_PREFIX_CHARS:
            subject += 1
    out[_INDEX["subject_mentions"]] = _log(subject)
    out[_INDEX["subordinate_mentions"]] = _log(subordinate)
    out[_INDEX["subject_share"]] = subject / len(judged)
    out[_INDEX["subordinate_share"]] = subordinate / len(judged)

    near_set, core_set = set(near), set(core_sentences)
    near_kinds: dict[str, int] = {}
    eu_with_core = 0
    for s in near[:MAX_JUDGED]:
        sentence_kinds = token_kinds(WORD.findall(lowered, starts[s], ends[s]))
        for kind in sentence_kinds:
            near_kinds[kind] = near_kinds.get(kind, 0) + 1
        if s in core_set and "eu" in sentence_kinds:
            eu_with_core += 1
    out[_INDEX["eu_with_core"]] = _log(eu_with_core)
    out[_INDEX["generic_near_core"]] = _log(sum(1 for m in generic if m.sentence in near_set))
    for kind in _NEAR_KINDS:
        out[_INDEX[f"near_core:{kind}"]] = _log(near_kinds.get(kind, 0))
    return out, head


def kind_profile(kinds: dict[str, int], n_tokens: int) -> np.ndarray:
    """A profile with only the token-kind counts and densities filled in.

    Used to score single sentences for evidence: a sentence has no title, lead or mention
    shape, but its sovereignty or pro-city vocabulary counts the same way as an article's.
    """
    out = np.zeros(N_FEATURES, dtype=np.float32)
    for kind, count in kinds.items():
        if kind:
            out[_INDEX[f"count:{kind}"]] = _log(count)
            out[_INDEX[f"density:{kind}"]] = min(1.0, 10 * count / max(1, n_tokens))
    return out
