"""The archive's plain records: the filter that defines a view, the rows it lists, the
cursor that pages through them, and the aggregates trends and the review queue show.

The web layer in `archive/` sees only these; `pipeline.store.archive` fills them.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import date, datetime

from pipeline.store.search_syntax import parse_search
from pipeline.store.store import LABELS

FRAMES = LABELS[1:]
SCORE_COLUMNS = {
    "relevant": "relevance",
    "pro_city_inclusion": "pro_city_inclusion_score",
    "sovereignty_framing": "sovereignty_framing_score",
}
SORTS = ("newest", "oldest", "relevance", "pro_city_inclusion", "sovereignty_framing", "rank")
GROUPS = ("outlet", "language", "feed")
SOURCES = ("model", "analyst")

MAX_PAGE = 500


# --------------------------------------------------------------------------- filters
@dataclass(frozen=True)
class ArchiveFilter:
    """One view of the archive: the same object drives the list, API, export and trends.

    Label filters (`relevant` and each frame) and `source` apply to effective labels.
    `since` is inclusive and `until` exclusive, compared with the article's date: its
    published time, or when it was fetched if the feed gave none (or one in the future).
    """

    q: str = ""
    since: datetime | None = None
    until: datetime | None = None
    feed_id: int | None = None
    language: str | None = None
    relevant: bool | None = None
    pro_city_inclusion: bool | None = None
    sovereignty_framing: bool | None = None
    score_label: str = "relevant"
    score_min: float | None = None
    score_max: float | None = None
    source: str | None = None  # model | analyst
    story_id: int | None = None
    sort: str = "newest"

    def __post_init__(self) -> None:
        if self.score_label not in LABELS:
            raise ValueError(f"unknown label {self.score_label!r}")
        if self.sort not in SORTS:
            raise ValueError(f"unknown sort {self.sort!r}")
        if self.source is not None and self.source not in SOURCES:
            raise ValueError(f"unknown label source {self.source!r}")

    def label_value(self, label: str) -> bool | None:
        return getattr(self, label)  # type: ignore[no-any-return]

    @property
    def effective_sort(self) -> str:
        """`rank` only means something with a search; without one, newest first."""
        if self.sort == "rank" and not any(not t.negated for t in parse_search(self.q)):
            return "newest"  # nothing to rank by (no search, or only exclusions)
        return self.sort


# --------------------------------------------------------------------------- records
@dataclass(frozen=True)
class Correction:
    """An analyst's latest value for one label (from the UI or Slack)."""

    value: bool
    who: str
    source: str
    at: datetime | None


@dataclass(frozen=True)
class ArchiveRow:
    """One article as the archive lists and exports it (no full text: lists stay light)."""

    id: int
    feed_id: int
    feed_name: str
    title: str
    url: str
    canonical_url: str
    outlet: str
    language: str | None
    date: datetime
    published_at: datetime | None
    fetched_at: datetime
    extraction_status: str
    story_id: int | None
    story_size: int
    duplicate_of: int | None
    model_version: str
    classification_status: str
    model: dict[str, bool]
    scores: dict[str, float]
    corrections: dict[str, Correction] = field(default_factory=dict)
    evidence: dict[str, list[str]] = field(default_factory=dict)
    snippet: str | None = None

    def label(self, name: str) -> bool:
        """What analysts see: a correction wins over the model."""
        correction = self.corrections.get(name)
        return correction.value if correction else self.model[name]

    def is_corrected(self, name: str) -> bool:
        return name in self.corrections

    def source(self, name: str) -> str:
        return "analyst" if name in self.corrections else "model"


@dataclass(frozen=True)
class Cursor:
    """A position in a sorted result: keyset (sort key + id) or, for rank order, an offset.

    `index` is the 0-based position of the boundary row, only used to print "51–100 of N".
    """

    sort: str
    direction: str  # after | before
    key: str | float | None = None
    id: int = 0
    index: int = 0
    offset: int | None = None

    def encode(self) -> str:
        payload = {"s": self.sort, "d": self.direction, "k": self.key, "i": self.id, "n": self.index}
        if self.offset is not None:
            payload["o"] = self.offset
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        """Parse a cursor from a URL; anything malformed is a ValueError (→ first page)."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = json.loads(raw)
        except (binascii.Error, ValueError, UnicodeDecodeError) as error:
            raise ValueError("bad cursor") from error
        if not isinstance(data, dict):
            raise ValueError("bad cursor")
        sort, direction, key = data.get("s"), data.get("d"), data.get("k")
        ident, index, offset = data.get("i", 0), data.get("n", 0), data.get("o")
        if sort not in SORTS or direction not in ("after", "before"):
            raise ValueError("bad cursor")
        if not isinstance(ident, int) or not isinstance(index, int) or index < 0:
            raise ValueError("bad cursor")
        if offset is not None and (not isinstance(offset, int) or offset < 0):
            raise ValueError("bad cursor")
        if key is not None and not isinstance(key, str | int | float):
            raise ValueError("bad cursor")
        if sort in ("newest", "oldest") and offset is None:
            if not isinstance(key, str):
                raise ValueError("bad cursor")
            try:
                datetime.fromisoformat(key)
            except ValueError as error:
                raise ValueError("bad cursor") from error
        return cls(sort, direction, key, ident, index, offset)


@dataclass(frozen=True)
class Page:
    rows: list[ArchiveRow]
    start: int  # 0-based index of the first row
    next_cursor: str | None
    prev_cursor: str | None


@dataclass(frozen=True)
class DailyCount:
    """Articles of one day (UTC) and one group (outlet, language or feed)."""

    day: date
    group: str
    total: int
    relevant: int
    pro_city_inclusion: int
    sovereignty_framing: int


@dataclass(frozen=True)
class ReviewItem:
    row: ArchiveRow
    label: str  # the label whose score is closest to its threshold
    distance: float
    disputed: bool = False  # an analyst labelled a copy of this story differently from the model
