"""Cleaning untrusted text once, where it enters: feed entries, extracted pages, metadata.

Feeds and pages are written by strangers. A NUL byte makes PostgreSQL refuse the whole
insert, an ANSI escape repaints an operator's terminal, a C1 control or a lone surrogate
confuses every later sink. `clean_text` removes those at ingestion, so nothing downstream
has to be careful about *storing* them; each sink still escapes for its own syntax
(Slack mrkdwn, HTML, terminal), because text that is clean is not yet safe to render.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from rich.console import Console
from rich.segment import Segment

# Caps per field, in characters: far above any real headline or article, far below what
# would hurt a database row, a Slack message or a terminal.
LIMITS = {
    "title": 1000,
    "link": 2048,  # the store's URL columns
    "guid": 2048,
    "author": 300,
    "site_name": 300,
    "language": 16,
    "summary": 20000,
    "text": 200_000,
    "feed_title": 500,
    "detail": 500,
}

# ANSI/VT100 escape sequences: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ESC \),
# DCS/SOS/PM/APC strings, and two-byte ESC sequences; plus the 8-bit C1 forms of CSI/OSC.
_ANSI = re.compile(
    r"""
    (?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]                # CSI ... final
  | (?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?  # OSC ... BEL / ST
  | (?:\x1b[PX^_]|[\x90\x98\x9e\x9f])[^\x1b\x9c]*(?:\x1b\\|\x9c)?  # DCS, SOS, PM, APC
  | \x1b[ -/]*[0-~]                                 # other ESC sequences (ESC c, ESC ( B, ...)
    """,
    re.VERBOSE,
)
# C0 controls except tab and newline, DEL, C1 controls; plus lone surrogates (not encodable)
# and the bidi overrides that make text display in an order other than it is stored.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def clean_text(value: object, field: str = "text", *, single_line: bool = False) -> str:
    """Untrusted text made safe to store: no ANSI sequences, no control characters but
    tab and newline (CR becomes newline), NFC-normalised, capped at the field's limit.

    `single_line` folds all whitespace runs into one space (titles, names, metadata).
    None becomes the empty string, so callers can pass what feedparser gives them.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ANSI.sub("", text)
    text = _CONTROLS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    if single_line:
        text = " ".join(text.split())
    limit = LIMITS.get(field, LIMITS["text"])
    return text[:limit]


def clean_optional(value: object, field: str, *, single_line: bool = True) -> str | None:
    """`clean_text` for optional metadata: empty after cleaning means None."""
    cleaned = clean_text(value, field, single_line=single_line)
    return cleaned or None


def _visible(match: re.Match[str]) -> str:
    """One control character as a visible escape: `\\x1b`, `\\u202e`."""
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


_TERMINAL_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def escape_terminal(value: object) -> str:
    """Text we did not produce, made inert for a terminal or a log line: every control
    character (ESC, CR, newline, C1, bidi overrides) shown as a visible `\\xNN` escape, so
    no feed can colour, move the cursor, retitle the window or forge a second log line.

    Used on top of `clean_text` (defence in depth): data stored before cleaning existed,
    or reaching a terminal by another path, still cannot drive it."""
    text = value if isinstance(value, str) else str(value)
    return _TERMINAL_UNSAFE.sub(_visible, text)


def public_reason(error: BaseException, prefix: str = "internal error") -> str:
    """A short reason safe to store in feed health or post to Slack: our own one-line
    messages (CompactwatchError) as they are, anything else only by its type, because a
    driver's message carries SQL, parameters and the hostile text that caused it."""
    from pipeline.errors import CompactwatchError

    if isinstance(error, CompactwatchError):
        return clean_text(str(error), "detail", single_line=True)
    return f"{prefix} ({type(error).__name__}); the details are in the log"


_SEGMENT_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class SafeConsole(Console):
    """A Rich console that cannot be driven by the text it prints.

    Rich draws its own colours and cursor moves from styles and control segments, never
    from the text itself; so escaping every control character found in plain text
    segments (ESC, CR, BEL, C1, bidi overrides; newlines and tabs are layout and stay)
    removes only what came from feeds, pages or logs. One place covers every table, the
    ALERT line, progress output and Rich log records."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            segment if segment.control else Segment(_escape_segment(segment.text), segment.style)
            for segment in buffer
        )


def _escape_segment(text: str) -> str:
    if not _SEGMENT_UNSAFE.search(text):
        return text
    return _SEGMENT_UNSAFE.sub(_visible, text)
