"""Turning untrusted article text into safe, readable page pieces.

Nothing here produces HTML. Functions return plain (text, tag) segments and the templates
render them with Jinja autoescape, so a title like `<img src=x onerror=...>` or a scraped
`hx-post` attribute is shown as text and can never run. Links are only ever built from
http(s) URLs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from pipeline.store.archive import MARK_END, MARK_START

FRAME_CLASSES = {"pro_city_inclusion": "city", "sovereignty_framing": "sov"}


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) with a host, else None (no javascript:, data:, file:...)."""
    if not url or any(ord(ch) < 32 for ch in url):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


@dataclass(frozen=True)
class Segment:
    text: str
    frame: str | None = None  # city | sov | both
    anchor: str | None = None  # id of the first highlight of an evidence sentence


@dataclass(frozen=True)
class Evidence:
    frame: str  # pro_city_inclusion | sovereignty_framing
    sentence: str
    anchor: str | None  # None when the sentence was not found in the text


_SPEAKER = re.compile(r"\s*\(— [^)]*\)\s*$")
_QUOTES = "\"“”„«»'‘’"


def evidence_core(evidence: str) -> str:
    """The sentence inside a classifier evidence string: `"sentence…" (— Speaker)` → sentence."""
    core = _SPEAKER.sub("", evidence.strip())
    if len(core) >= 2 and core[0] in _QUOTES and core[-1] in _QUOTES:
        core = core[1:-1]
    return core.rstrip("…").strip()


def _pattern(sentence: str) -> re.Pattern[str] | None:
    """Match the sentence in the text: flexible whitespace, any style of quotation mark."""
    words = evidence_core(sentence).split()
    if not words:
        return None
    quote = "[" + re.escape(_QUOTES) + "]"
    return re.compile(r"\s+".join("".join(quote if c in _QUOTES else re.escape(c) for c in w) for w in words))


def highlight(text: str, evidence: dict[str, list[str]]) -> tuple[list[list[Segment]], list[Evidence]]:
    """Split `text` into paragraphs of segments, marking each evidence sentence.

    Sentences are matched with flexible whitespace (extraction reflows lines). Where both
    frames cite the same words the segment is marked "both". Returns the paragraphs and
    the evidence list with anchors, so the sidebar can link to each highlight.
    """
    spans: list[tuple[int, int, str, str]] = []
    found: list[Evidence] = []
    counter = 0
    for frame, sentences in evidence.items():
        css = FRAME_CLASSES.get(frame)
        if css is None:
            continue
        for sentence in sentences[:20]:
            pattern = _pattern(sentence[:2000])
            match = pattern.search(text) if pattern else None
            if match is None:
                found.append(Evidence(frame, sentence, None))
                continue
            counter += 1
            anchor = f"ev-{counter}"
            spans.append((match.start(), match.end(), css, anchor))
            found.append(Evidence(frame, sentence, anchor))
    # Character-level marking keeps overlaps simple and exact (texts are a few KB).
    marks: list[set[str]] = [set() for _ in range(len(text))] if spans else []
    anchors: dict[int, str] = {}
    for start, end, css, anchor in spans:
        anchors.setdefault(start, anchor)
        for i in range(start, end):
            marks[i].add(css)

    def frame_at(i: int) -> str | None:
        if not marks:
            return None
        tags = marks[i]
        if not tags:
            return None
        return "both" if len(tags) > 1 else next(iter(tags))

    paragraphs: list[list[Segment]] = []
    for para_start, para_end in _paragraphs(text):
        segments: list[Segment] = []
        i = para_start
        while i < para_end:
            tag = frame_at(i)
            j = i + 1
            while j < para_end and frame_at(j) == tag and j not in anchors:
                j += 1
            segments.append(Segment(text[i:j], tag, anchors.get(i)))
            i = j
        if segments:
            paragraphs.append(segments)
    return paragraphs, found


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of each paragraph: blank lines, or single newlines when the extractor
    put one paragraph per line."""
    out = []
    for match in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]+)*", text):
        chunk = match.group(0)
        if chunk.strip():
            out.append((match.start(), match.end()))
    if len(out) == 1 and "\n" in text.strip():
        out = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.group(0).strip()]
    return out


def snippet_segments(snippet: str | None) -> list[Segment]:
    """A search snippet (with private-use match markers) as plain/marked segments."""
    if not snippet:
        return []
    segments: list[Segment] = []
    for i, part in enumerate(re.split(f"[{MARK_START}{MARK_END}]", snippet)):
        if part:
            segments.append(Segment(part, "match" if i % 2 else None))
    return segments
