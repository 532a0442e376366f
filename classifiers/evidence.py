"""Evidence: the sentences that carry a frame, and who said them.

An alert that says "pro-city inclusion 0.93" asks the reader to trust a number; an alert that
quotes "'Cities must have a seat at the table,' said Mayor X" lets them check it in a second.
So for each positive frame we split the article into sentences, score every sentence with that
frame's own model, and return the best one or two, with the speaker when the sentence is an
attributed quote.

The splitter is rule-based on purpose (no NLP model to download): it keeps a quotation
together ("We are ready. We want in," said ...), does not break on common abbreviations
(Mr., U.N., Gen., Dr.) or initials (J. Smith), and treats paragraph breaks as hard boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from classifiers.lexicon import PRO_CITY, SOVEREIGNTY, WORD, token_kinds

MAX_EVIDENCE_CHARS = 300
MIN_SENTENCE_CHARS = 25
# Evidence is looked for in the part of the article the frame models read word by word
# (`classifiers.features.LEXICAL_CHARS`); it also bounds the cost of splitting sentences.
EVIDENCE_CHARS = 4_000
# At most this many sentences (the first ones, after the frame-vocabulary filter) are scored:
# the cost of evidence stays bounded on long articles that use the frame's words throughout.
MAX_CANDIDATES = 10
# A quotation longer than this without a closing mark is probably a stray quote character.
MAX_QUOTE_SPAN = 600

ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "mx",
        "dr",
        "prof",
        "st",
        "sen",
        "rep",
        "gov",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "cmdr",
        "adm",
        "jr",
        "sr",
        "no",
        "nos",
        "vs",
        "etc",
        "approx",
        "dept",
        "est",
        "fig",
        "inc",
        "ltd",
        "co",
        "corp",
        "bros",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
        "sat",
        "sun",
        "mme",
        "mlle",
        "mm",
        "me",
        "sra",
        "srta",
        "dña",
        "hr",
        "fr",
        "frau",
        "nr",
        "bzw",
        "usw",
        "ca",
        "str",
        "pres",
        "u.s",
        "u.n",
        "u.k",
        "e.u",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
        "d.c",
        "n.y",
        "u.s.a",
        "al",
        "ed",
        "eds",
        "vol",
        "pp",
    ]
)

_OPENERS = "\"'“‘«(¿¡[„"
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’»)\]]*)(\s+)")

# A scorer maps candidate sentences, as (word tokens, kind of each token), to the frame
# model's probabilities (see `classifiers.model.Classifier.sentence_scorer`).
Scorer = Callable[[Sequence[tuple[list[str], list[str]]]], np.ndarray]
FRAME_KIND = {"pro_city_inclusion": PRO_CITY, "sovereignty_framing": SOVEREIGNTY}


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs: extracted article text puts one paragraph per line."""
    return [p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip()]


def _quote_depth(fragment: str) -> int:
    """How many quotations are open at the end of `fragment` (straight quotes by parity)."""
    straight = fragment.count('"') % 2
    curly = max(0, fragment.count("“") - fragment.count("”"))
    guillemets = max(0, fragment.count("«") - fragment.count("»"))
    german = max(0, fragment.count("„") - fragment.count("“"))  # „…“ opens low, closes high
    return straight + (curly if "„" not in fragment else german) + guillemets


_LAST_WORD = re.compile(r"([\w.]+)$")
_DOTTED = re.compile(r"(?:[a-z]\.)+[a-z]")


def _is_abbreviation(before: str) -> bool:
    """Whether the word ending at a '.' is an abbreviation or an initial, not a sentence end."""
    match = _LAST_WORD.search(before[-40:])  # only the tail: searching the whole prefix is quadratic
    if not match:
        return False
    word = match.group(1).lower().rstrip(".")
    if word in ABBREVIATIONS:
        return True
    if len(word) == 1 and word.isalpha():  # an initial: "J. Smith", "Harry S. Truman"
        return True
    return bool(_DOTTED.fullmatch(word))  # u.s, e.u, a.m


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph into sentences (see the module docstring for the rules)."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        end = match.end(2)  # keep closing quotes with the sentence they close
        if match.end() >= len(paragraph):
            break
        first = paragraph[match.end()]  # (no copy of the rest: that made long paragraphs quadratic)
        if not (first.isupper() or first.isdigit() or first in _OPENERS):
            continue
        punctuation = match.group(1)
        if punctuation == "." and not match.group(2):
            before = paragraph[max(start, match.start(1) - 40) : match.start(1)]
            if _is_abbreviation(before):
                continue
        candidate = paragraph[start:end]
        if _quote_depth(candidate) and len(candidate) < MAX_QUOTE_SPAN:
            continue  # inside a quotation: wait for it to close
        sentences.append(candidate.strip())
        start = match.end()
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def split_into_sentences(text: str) -> list[list[str]]:
    """Sentences grouped by paragraph (attribution looks at neighbours in the paragraph)."""
    return [split_sentences(p) for p in split_paragraphs(text)]


# --- who is speaking ------------------------------------------------------------------------

_ROLE_WORDS = (
    r"(?:deputy\s+|vice[-\s]|former\s+|lord\s+)?(?:mayor|mayoress|minister|prime\s+minister|"
    r"president|secretary(?:[-\s]general)?|secretary\s+of\s+state|chancellor|senator|"
    r"governor|councill?or|councilwoman|councilman|ambassador|commissioner|envoy|"
    r"special\s+representative|director(?:[-\s]general)?|spokesperson|spokesman|spokeswoman|"
    r"high\s+commissioner|chief|head|chair(?:man|woman|person)?|professor|alcalde(?:sa)?|"
    r"maire|bourgmestre|ministre|ministro|ministra|presidente|président|"
    r"(?:ober)?bürgermeister(?:in)?|minister(?:in)?|bundeskanzler(?:in)?|kanzler(?:in)?|"
    r"sindac[oa]|burgemeester|premier|prefeit[oa]|presidente\s+da\s+câmara|burmistrz|prezydent|"
    r"polgármester|miniszter(?:elnök)?)"
)
_HONORIFIC = r"(?:Mr\.|Mrs\.|Ms\.|Dr\.|Prof\.|Sen\.|Rep\.|Gov\.|Gen\.|Mme|M\.|Sr\.|Sra\.|Frau|Herr)"
_TITLE = rf"(?:(?i:{_ROLE_WORDS})(?:\s+of\s+[A-Z][\w'’-]+)?|{_HONORIFIC})"
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'’-]+"
_PARTICLE = r"(?:de|da|del|della|van|von|der|den|la|le|al|el|bin|ben|di|du|dos|ter|zu)"
_NAME = rf"{_CAP}(?:\s+(?:{_PARTICLE}\s+)?{_CAP}){{0,3}}"
# "Mayor Jane Doe", "U.S. Ambassador Jane Doe", "Hungarian Foreign Minister Jane Doe", "Jane Doe"
_PERSON = rf"(?:(?:(?:[A-Z]\.){{2,}}|{_CAP})\s+){{0,2}}(?:{_TITLE}\s+)+{_NAME}|{_NAME}"
_SPEECH_VERBS = (
    r"said|says|argued|argues|warned|warns|insisted|insists|declared|stated|noted|"
    r"explained|wrote|writes|contended|maintained|stressed|remarked|acknowledged|"
    r"conceded|countered|replied|tweeted|"
    r"dijo|dice|afirmó|declaró|señaló|aseguró|añadió|explicó|sostuvo|"
    r"a\s+déclaré|a\s+affirmé|a\s+dit|a\s+ajouté|a\s+expliqué|déclare|affirme|estime|explique|"
    r"sagte|sagt|erklärte|betonte|warnte|meinte|"
    r"ha\s+dichiarato|ha\s+detto|ha\s+affermato|ha\s+aggiunto|ha\s+spiegato|dichiara|afferma|"
    r"zei|zegt|verklaarde|stelde|benadrukte|"
    r"disse|afirmou|declarou|acrescentou|sublinhou|"
    r"powiedział[a]?|stwierdził[a]?|dodał[a]?|oświadczył[a]?|podkreślił[a]?|"
    r"mondta|nyilatkozta|közölte|hangsúlyozta|jelentette\s+ki"
)
# "X told reporters", "X asked the council": the speaker comes before these verbs only.
_SPEECH_BEFORE_ONLY = r"told|tells|asked|urged|put\s+it|wrote\s+in|said\s+in"
_ARTICLE = r"(?:the|la|el|le|der|die|l'|il|lo|de|het|o|a)\s*"
_ROLE = rf"(?i:{_ROLE_WORDS})(?:\s+of\s+[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+)?)?"
_APPOSITIVE = rf",\s+(?P<role>(?:{_ARTICLE})?{_ROLE})"

# Verbs that are speech only when not followed by an object ("added his name to a letter").
_NOT_SPEECH_OBJECT = r"(?!\s+(?:his|her|their|its|a|an|new|plans?)\b)"
_AMBIGUOUS_VERBS = r"added|adds|posted|announced|recalled"
_INVERTED_VERBS = rf"{_SPEECH_VERBS}|{_AMBIGUOUS_VERBS}"

_PATTERNS = (
    # "...," said Mayor Jane Doe / ", said Jane Doe, mayor of Brno": inversion follows a comma
    # or a closing quote; "Doe said the United States ..." is not an inversion.
    re.compile(
        rf"[,\"”’»]\s*(?:[–—]\s*)?(?:{_INVERTED_VERBS})\s+(?:{_ARTICLE})?(?P<who>{_PERSON})(?:{_APPOSITIVE})?"
    ),
    # "...," said the mayor of Brno, Jane Doe
    re.compile(
        rf"[,\"”’»]\s*(?:[–—]\s*)?(?:{_INVERTED_VERBS})\s+(?:{_ARTICLE})?(?P<role>{_ROLE}),\s+(?P<who>{_NAME})"
    ),
    # Jane Doe, the mayor of Brno, said / Mayor Doe told reporters
    re.compile(
        rf"\b(?=\w)(?P<who>{_PERSON})(?:{_APPOSITIVE},?|,\s+[^,\"“”]{{3,80}},)?\s+"
        rf"(?:(?:{_AMBIGUOUS_VERBS}){_NOT_SPEECH_OBJECT}|{_SPEECH_VERBS}|{_SPEECH_BEFORE_ONLY})\b"
    ),
    # according to Jane Doe
    re.compile(rf"\b(?i:according\s+to|selon|según|laut)\s+(?:{_ARTICLE})?(?P<who>{_PERSON})"),
)
# "the US mission to the United Nations said": the name is the object of a preposition
_AFTER_PREPOSITION = re.compile(r"\b(?:to|of|for|in|at|from|with|by|on)\s+(?:the\s+)?$", re.I)
_ROLE_ONLY = re.compile(rf"(?:(?:{_ARTICLE})?{_TITLE}\s*)+")
_PRONOUN_QUOTE = re.compile(
    rf"\b(?:he|she|they|il|elle|ella|él|er|sie)\s+(?:{_SPEECH_VERBS}|{_SPEECH_BEFORE_ONLY})\b", re.I
)

_NOT_NAMES = frozenset(
    [
        "The",
        "A",
        "An",
        "It",
        "This",
        "That",
        "These",
        "Those",
        "He",
        "She",
        "They",
        "We",
        "I",
        "You",
        "There",
        "But",
        "And",
        "In",
        "On",
        "At",
        "As",
        "When",
        "If",
        "Its",
        "Their",
        "His",
        "Her",
        "Our",
        "My",
        "Your",
        "Officials",
        "Critics",
        "Supporters",
        "Others",
        "Some",
        "Many",
        "Most",
        "Both",
        "Each",
        "Asked",
        "Speaking",
        "Writing",
        "Meanwhile",
        "However",
        "Still",
        "Yet",
        "So",
        "Then",
        "Now",
        "Today",
        "Yesterday",
        "Later",
        "Earlier",
        "Le",
        "La",
        "Les",
        "Il",
        "Elle",
        "El",
        "Ella",
        "Los",
        "Las",
        "Der",
        "Die",
        "Das",
        "Er",
        "Sie",
        "Es",
        "Ein",
        "Eine",
        "Mr",
        "Mrs",
        "Ms",
    ]
)


def _clean_name(raw: str) -> str | None:
    """Drop leading pronouns/determiners captured as part of a name; None if nothing is left."""
    words = raw.split()
    while words and words[0] in _NOT_NAMES:
        words = words[1:]
    name = " ".join(words)
    return name if len(name) >= 3 else None


# Given names (and titles) right before a surname: compiled once, searched in a short window.
_NAME_BEFORE = re.compile(rf"(?:{_TITLE}\s+)*(?:{_CAP}\s+(?:{_PARTICLE}\s+)?)+$")


def _full_name(surname: str, context: str) -> str | None:
    """Expand a one-word speaker ("Doe said") to the fuller name used elsewhere in the text.

    A single capitalised word before "said" is as often a place or an institution as a
    person; it is only accepted when the article also names someone ending in that word.
    """
    for occurrence in re.finditer(rf"\b{re.escape(surname)}\b", context):
        before = _NAME_BEFORE.search(context, max(0, occurrence.start() - 120), occurrence.start())
        if before is None:
            continue
        name = _clean_name(before.group(0) + surname)
        if name and name != surname:
            return name
    return None


# A cheap first test: the verbs (case-sensitive and at a word start, as in the patterns
# above, so the engine skips most positions at once) or the "according to" words.
_SPEECH_HINT = re.compile(rf"\b(?:{_INVERTED_VERBS}|{_SPEECH_BEFORE_ONLY})")
_ACCORDING = ("according to", "selon", "según", "laut")


# "Jane Doe, the mayor of Brno, said": the name ends right before the verb, so the costly
# name pattern is only tried in a short window before each verb instead of at every position.
_VERB = re.compile(rf"\b(?:{_AMBIGUOUS_VERBS}|{_SPEECH_VERBS}|{_SPEECH_BEFORE_ONLY})\b")
_NAME_WINDOW = 130  # a name, title and appositive ("Jane Doe, the mayor of Brno,")


def _matches(number: int, pattern: re.Pattern[str], sentence: str) -> Iterator[re.Match[str]]:
    """Matches of attribution pattern `number`, leftmost first (see `_VERB` for pattern 2)."""
    if number != 2:
        yield from pattern.finditer(sentence)
        return
    seen: set[int] = set()
    for verb in _VERB.finditer(sentence):
        for match in pattern.finditer(sentence, max(0, verb.start() - _NAME_WINDOW), verb.end()):
            if match.start() not in seen:
                seen.add(match.start())
                yield match


def find_speaker(sentence: str, context: str = "") -> str | None:
    """The named speaker of an attributed sentence ("said Mayor X", "X told ..."), if any.

    `context` (the article) lets a bare surname be expanded to the full name.
    """
    lowered = sentence.lower()
    speech = _SPEECH_HINT.search(sentence) is not None
    according = any(word in lowered for word in _ACCORDING)
    if not speech and not according:
        return None  # every pattern needs one of these words: skip the costly ones
    for number, pattern in enumerate(_PATTERNS):
        if (number < 3 and not speech) or (number == 3 and not according):
            continue  # patterns 0-2 need a speech verb, pattern 3 "according to"
        for match in _matches(number, pattern, sentence):
            who = _clean_name(match.group("who"))
            if who is None or _ROLE_ONLY.fullmatch(who):
                continue
            if number == 2 and _AFTER_PREPOSITION.search(sentence[: match.start("who")]):
                continue
            if " " not in who and not re.match(_HONORIFIC, who):
                who = _full_name(who, context or sentence) or ""
                if not who:
                    continue
            role = (match.groupdict().get("role") or "").strip()
            if role and not re.match(rf"(?:{_ARTICLE})?{_TITLE}", who) and len(who) + len(role) < 75:
                return f"{who}, {role}"
            return who
    return None


def _attributed_to(
    paragraph: list[str], index: int, context: str, known: dict[str, str | None] | None = None
) -> str | None:
    """Speaker of sentence `index`, looking at neighbours for "she said" or a bare quote.

    `known` remembers the speakers found in this article (both frames' evidence and the
    neighbours of nearby quotes ask about the same sentences)."""
    known = known if known is not None else {}

    def speaker_of(sentence: str) -> str | None:
        if sentence not in known:
            known[sentence] = find_speaker(sentence, context)
        return known[sentence]

    sentence = paragraph[index]
    speaker = speaker_of(sentence)
    if speaker:
        return speaker
    is_quote = sentence[:1] in '"“«„' or _PRONOUN_QUOTE.search(sentence) is not None
    if not is_quote:
        return None
    for offset in (-1, 1, -2, 2):  # the nearest named speaker in the same paragraph
        neighbour = index + offset
        if 0 <= neighbour < len(paragraph):
            speaker = speaker_of(paragraph[neighbour])
            if speaker:
                return speaker
    return None


# --- formatting -------------------------------------------------------------------------------
#
# Evidence reads like a quotation in an alert, an archive page and a terminal:
# - it is wrapped in one pair of curly quotes, unless the sentence itself opens with a
#   quotation mark (then wrapping it again would show doubled marks, `"“…”"`); quotation
#   marks inside a wrapped sentence become single curly quotes, as nested quotes do;
# - a long sentence is cut at the last sentence or clause boundary that fits (". ", "; ",
#   ", ", " — ", ...) and the cut is marked with an ellipsis; a quotation left open by the
#   cut is closed after the ellipsis; only a clause longer than the whole limit is cut at a
#   word;
# - the speaker, found on the full sentence before any cut, is kept as ` (— Speaker)`.

_OPENING_QUOTES = "\"“„«‘'"
_CLOSING_FOR = {"“": "”", "„": "“", "«": "»", "‘": "’"}
_CLAUSE_END = re.compile(r"(?:[.!?…][\"”’»)]*|[;:,][\"”’»)]*|\s[—–-])\s")


def _straight_to_curly(sentence: str) -> str:
    """Straight double quotes → “ ” (opening, closing alternately)."""
    pieces = sentence.split('"')
    out = [pieces[0]]
    for number, piece in enumerate(pieces[1:]):
        out.append("“" if number % 2 == 0 else "”")
        out.append(piece)
    return "".join(out)


def _open_quote(text: str) -> str | None:
    """The closing mark a quotation left open in `text` needs, or None."""
    stack: list[str] = []
    for char in text:
        if char in _CLOSING_FOR and not (char == "“" and stack and stack[-1] == "“"):
            if char == "‘" and stack and stack[-1] == "’":
                continue
            stack.append(_CLOSING_FOR[char])
        elif stack and char == stack[-1]:
            stack.pop()
    return "".join(reversed(stack)) or None


def trim_at_word(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a word boundary, marking the cut with …"""
    if len(text) <= limit:
        return text
    cut = text[: max(1, limit - 1)]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def trim_at_clause(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters at a sentence or clause boundary, with "…".

    After a full sentence the ellipsis follows a space ("… enters. …"); after a clause it
    replaces the comma or semicolon ("… our borders…"). A quotation the cut leaves open is
    closed after the ellipsis. Falls back to a word boundary only when no boundary lies in
    the last two thirds of the allowed length.
    """
    if len(text) <= limit:
        return text
    room = limit - 4  # " …" and up to two closing marks
    best = -1
    for match in _CLAUSE_END.finditer(text, 0, room + 2):
        end = match.start() + (1 if text[match.start()] in ".!?…;:," else 0)
        if end <= room:
            best = end
    if best >= room // 3:
        kept = text[:best].rstrip()
        kept = f"{kept} …" if kept[-1] in ".!?…" else kept.rstrip(",;:-–— ") + "…"
    else:
        kept = trim_at_word(text, room + 1)
    return kept + (_open_quote(kept) or "")


def format_evidence(sentence: str, speaker: str | None, limit: int = MAX_EVIDENCE_CHARS) -> str:
    """`“sentence” (— Speaker)`, at most `limit` characters in total (see the rules above)."""
    suffix = f" (— {trim_at_word(speaker, 80)})" if speaker else ""
    body = _straight_to_curly(" ".join(sentence.split()))
    if body[:1] in _OPENING_QUOTES:
        return trim_at_clause(body, limit - len(suffix)) + suffix
    nested = body.replace("“", "‘").replace("”", "’")
    return f"“{trim_at_clause(nested, limit - len(suffix) - 2)}”{suffix}"


# "TORONTO -", "GENEVA (Reuters) —", "BERLIN, Dec 10 (AFP) -": wire datelines, not content
_DATELINE = re.compile(
    r"^[A-ZÀ-Þ][A-ZÀ-Þ .,'’-]{1,40}(?:,\s*[\w .]{1,20})?(?:\s*\([^)]{1,30}\))?\s*[-–—]+\s+"
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*$")


def strip_dateline(sentence: str) -> str:
    """Drop a leading wire dateline so evidence starts with what was said."""
    return _DATELINE.sub("", sentence, count=1)


class Sentences:
    """An article split for evidence, lazily, and shared by both frames' evidence.

    Evidence reads the candidate sentences in order (full sentences of a useful length with
    closing punctuation) and stops at MAX_CANDIDATES that use the frame's vocabulary, so
    paragraphs are split into sentences, and sentences tokenized, only as far as that
    requires; each split and each tokenization is kept for the other frame. Where the text
    has no full sentence at all (a list of headings), everything is split and the rule falls
    back to long-enough lines, then to any line, as the eager version did.
    """

    def __init__(self, text: str, words: Sequence[str] | None = None) -> None:
        self.text = text
        self._words = words  # the lower-cased word tokens of text[:EVIDENCE_CHARS], if known
        self.speakers: dict[str, str | None] = {}  # filled as speakers are found
        self._paragraphs = split_paragraphs(text[:EVIDENCE_CHARS])
        self._sentences: dict[int, list[str]] = {}
        self._tokens: dict[tuple[int, int], tuple[list[str], list[str]]] = {}
        self._full: list[tuple[int, int]] = []  # full sentences found so far, in order
        self._next_paragraph = 0
        self._kind_words: dict[str, tuple[str, ...]] | None = None

    def sentences_of(self, paragraph: int) -> list[str]:
        """The sentences of one paragraph (split on first use)."""
        found = self._sentences.get(paragraph)
        if found is None:
            found = self._sentences[paragraph] = split_sentences(self._paragraphs[paragraph])
        return found

    def tokens_of(self, where: tuple[int, int]) -> tuple[list[str], list[str]]:
        """(word tokens, kind of each token) of one sentence (tokenized on first use)."""
        found = self._tokens.get(where)
        if found is None:
            words = WORD.findall(strip_dateline(self.sentence(where)).lower())
            found = self._tokens[where] = (words, token_kinds(words))
        return found

    def sentence(self, where: tuple[int, int]) -> str:
        """The text of sentence `where` = (paragraph, index)."""
        return self.sentences_of(where[0])[where[1]]

    def _full_sentences(self) -> Iterator[tuple[int, int]]:
        yield from list(self._full)
        while self._next_paragraph < len(self._paragraphs):
            p = self._next_paragraph
            self._next_paragraph += 1
            for s, sentence in enumerate(self.sentences_of(p)):
                if len(sentence) >= MIN_SENTENCE_CHARS and _SENTENCE_END.search(sentence):
                    self._full.append((p, s))
                    yield p, s

    def may_use(self, text: str, kind: str) -> bool:
        """Whether a paragraph or sentence may use a kind's vocabulary (False: it does not).

        The article is tokenized once and its words of each kind collected; a text holding
        none of them as a substring cannot have a token of that kind, so evidence splits the
        paragraphs, and tokenizes the sentences, that may carry the frame only."""
        if self._kind_words is None:
            found = (
                self._words if self._words is not None else WORD.findall(self.text[:EVIDENCE_CHARS].lower())
            )
            words = set(found)
            by_kind: dict[str, list[str]] = {}
            for word, word_kind in zip(words, token_kinds(list(words)), strict=True):
                if word_kind:
                    by_kind.setdefault(word_kind, []).append(word)
            self._kind_words = {name: tuple(found) for name, found in by_kind.items()}
        lowered = text.lower()
        return any(word in lowered for word in self._kind_words.get(kind, ()))

    def _with_kind(self, kind: str, limit: int) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for p, paragraph in enumerate(self._paragraphs):
            if not self.may_use(paragraph, kind):
                continue
            for s, sentence in enumerate(self.sentences_of(p)):
                full = len(sentence) >= MIN_SENTENCE_CHARS and _SENTENCE_END.search(sentence)
                if full and self.may_use(sentence, kind) and kind in self.tokens_of((p, s))[1]:
                    found.append((p, s))
                    if len(found) >= limit:
                        return found
        return found

    def candidates(self, kind: str | None, limit: int = MAX_CANDIDATES) -> list[tuple[int, int]]:
        """The first `limit` candidate sentences using `kind`'s vocabulary, or, when none
        does, the first `limit` candidates."""
        with_kind = self._with_kind(kind, limit) if kind is not None else []
        if with_kind:
            return with_kind
        first: list[tuple[int, int]] = []
        for where in self._full_sentences():
            first.append(where)
            if len(first) >= limit:
                break
        if first:
            return first
        everything = [(p, s) for p in range(len(self._paragraphs)) for s in range(len(self.sentences_of(p)))]
        long_enough = [where for where in everything if len(self.sentence(where)) >= MIN_SENTENCE_CHARS]
        fallback = long_enough or everything
        if kind is not None:
            fallback = [where for where in fallback if kind in self.tokens_of(where)[1]] or fallback
        return fallback[:limit]


def split_for_evidence(text: str, words: Sequence[str] | None = None) -> Sentences:
    """The first EVIDENCE_CHARS of `text`, ready to be split into candidate sentences.

    `words`, when the caller has them, are the word tokens of `text[:EVIDENCE_CHARS].lower()`
    (the featurizer's, see `ArticleFeatures.row_and_tokens`)."""
    return Sentences(text, words)


def find_evidence(
    text: str | Sentences,
    scorer: Scorer,
    max_items: int = 2,
    min_score: float = 0.9,
    frame: str | None = None,
) -> tuple[str, ...]:
    """The top one or two sentences for a frame, formatted, best first.

    `scorer` maps sentences to the frame model's probabilities. The best sentence is always
    returned (the frame was judged present on the whole article, so its strongest sentence
    is the best explanation we have); a second one only when it also scores ≥ `min_score`.
    Full sentences are preferred to headings, bylines and press-release headers (lines with
    no closing punctuation), which the model may score high but which explain nothing. With
    `frame`, sentences using that frame's vocabulary (any of the nine languages) are
    preferred: the evidence must carry the frame itself, not stand next to it.
    """
    split = text if isinstance(text, Sentences) else split_for_evidence(text)
    candidates = split.candidates(FRAME_KIND[frame] if frame is not None else None)
    if not candidates:
        return ()
    scores = np.asarray(scorer([split.tokens_of(where) for where in candidates]), dtype=float)
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    chosen: list[str] = []
    for rank, i in enumerate(order[:max_items]):
        if rank > 0 and scores[i] < min_score:
            break
        p, s = candidates[i]
        speaker = _attributed_to(split.sentences_of(p), s, split.text, split.speakers)
        chosen.append(format_evidence(strip_dateline(split.sentence((p, s))), speaker))
    return tuple(chosen)
