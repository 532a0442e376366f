"""The analyst archive's SQL: search, filters, sorting, pagination, counts, stories, the
review queue, trend aggregates and streaming exports.

It lives in `pipeline.store` because all SQL does (DEVELOPERS.md); the web layer in
`archive/` only sees the plain records defined here. Everything shown to analysts uses the
*effective* label: the latest analyst correction when there is one, else the model's
output, so a correction made in the UI or in Slack is visible (and filterable) everywhere.

Full-text search never passes user input to the search engine as syntax. The query is
parsed here into words, phrases, `-negations`, `OR` and `prefix*` terms made only of
letters and digits, then written out as quoted FTS5 phrases (SQLite) or as a
`websearch_to_tsquery` string (PostgreSQL), so `"`, `AND`, `NEAR(` and friends are just
words and can never raise a syntax error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    Table,
    and_,
    case,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
    type_coerce,
)
from sqlalchemy.orm import aliased

from pipeline.store.store import LABELS, Store
from pipeline.store.tables import (
    AlertRow,
    ArticleRow,
    ClassificationRow,
    FeedRow,
    LabelRow,
    StoryRow,
    UTCDateTime,
)

FRAMES = LABELS[1:]
SCORE_COLUMNS = {
    "relevant": "relevance",
    "pro_city_inclusion": "pro_city_inclusion_score",
    "sovereignty_framing": "sovereignty_framing_score",
}
SORTS = ("newest", "oldest", "relevance", "pro_city_inclusion", "sovereignty_framing", "rank")
GROUPS = ("outlet", "language", "feed")
SOURCES = ("model", "analyst")

MAX_QUERY_CHARS = 500
MAX_TERMS = 32
MAX_PAGE = 500
REVIEW_BAND = 0.05  # scores this close to each other are equally uncertain
CONFIDENT_MARGIN = 0.35  # relevance this far under its threshold is a confident "no"
# Snippet delimiters: private-use characters that never occur in news text, so the web
# layer can split on them and escape everything else.
# Diacritic folding for PostgreSQL search (SQLite's tokenizer does its own): the same
# translate() pair as migration 0002 uses for the indexed column.
FOLD_FROM = "àáâãäåçèéêëìíîïñòóôõöùúûüýÿāăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžſơưǎǐǒǔǖǘǚǜǟǡǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳ"  # noqa: E501
FOLD_TO = "aaaaaaceeeeiiiinooooouuuuyyaaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzsouaiouuuuuaagkoojgnaaaeeiioorruusthaeooooy"  # noqa: E501
MARK_START = "\ue000"
MARK_END = "\ue001"


class SearchError(ValueError):
    """The search could not be run (shown to analysts as 'invalid query', never a 500)."""


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


# --------------------------------------------------------------------------- the queries
class ArchiveQueries:
    """Read queries of the archive over one `Store` (writes still go through `Store`)."""

    def __init__(self, store: Store):
        self.store = store
        self.dialect = store.dialect
        classifications = ClassificationRow.__table__
        labels = LabelRow.__table__
        self.cls, self._cls_on = self._latest(classifications, "cls")  # type: ignore[arg-type]
        self.corr: dict[str, Any] = {}
        self._corr_on: dict[str, ColumnElement[bool]] = {}
        for label in LABELS:
            self.corr[label], self._corr_on[label] = self._latest(
                labels,  # type: ignore[arg-type]
                f"corr_{label}",
                labels.c.label == label,
            )
        self.story_row = aliased(StoryRow, name="story")

    # ------------------------------------------------------------------ expressions
    def article_date(self) -> ColumnElement[datetime]:
        """Published time when plausible, else fetch time: sorting, filters and trends."""
        expr = case(
            (
                or_(
                    ArticleRow.published_at.is_(None),
                    ArticleRow.published_at > ArticleRow.fetched_at,
                ),
                ArticleRow.fetched_at,
            ),
            else_=ArticleRow.published_at,
        )
        return type_coerce(expr, UTCDateTime())

    def effective(self, label: str) -> ColumnElement[bool]:
        corr = self.corr[label]
        model = self.cls.c[label]
        return case((corr.c.id.is_not(None), corr.c.value), else_=func.coalesce(model, false()))

    def score(self, label: str) -> ColumnElement[float]:
        return func.coalesce(self.cls.c[SCORE_COLUMNS[label]], 0.0)

    def outlet(self) -> ColumnElement[str]:
        return func.coalesce(func.nullif(ArticleRow.outlet, ""), FeedRow.name)

    def _latest(
        self, table: Table, name: str, *conditions: ColumnElement[bool]
    ) -> tuple[Any, ColumnElement[bool]]:
        """The newest row of `table` per article (the latest classification, the latest
        correction of one label), as something to LEFT JOIN and its ON clause.

        PostgreSQL gets a LATERAL "ORDER BY id DESC LIMIT 1" on the article_id index: a
        correlated max(id) lets its planner pick a backward primary-key scan per article,
        which is quadratic on a large archive. SQLite has no LATERAL and plans the
        correlated max(id) on the article_id index well.
        """
        if self.dialect == "postgresql":
            newest = (
                select(table)
                .where(table.c.article_id == ArticleRow.id, *conditions)
                .order_by(table.c.id.desc())
                .limit(1)
                .lateral(name)
            )
            return newest, true()
        alias = table.alias(name)
        newest_id = (
            select(func.max(table.c.id))
            .where(table.c.article_id == ArticleRow.id, *conditions)
            .correlate(ArticleRow)
            .scalar_subquery()
        )
        return alias, and_(alias.c.article_id == ArticleRow.id, alias.c.id == newest_id)

    def _joined(self, *columns: Any) -> Select[Any]:
        """Articles with their feed, latest classification and latest correction per label,
        one row per article so counts and pagination stay exact."""
        query = (
            select(*columns)
            .select_from(ArticleRow)
            .join(FeedRow, FeedRow.id == ArticleRow.feed_id)
            .outerjoin(self.cls, self._cls_on)
        )
        for label, corr in self.corr.items():
            query = query.outerjoin(corr, self._corr_on[label])
        return query.outerjoin(self.story_row, self.story_row.id == ArticleRow.story_id)

    def _row_columns(self) -> list[Any]:
        columns: list[Any] = [
            ArticleRow.id,
            ArticleRow.feed_id,
            FeedRow.name.label("feed_name"),
            ArticleRow.title,
            ArticleRow.url,
            ArticleRow.canonical_url,
            self.outlet().label("outlet"),
            ArticleRow.language,
            self.article_date().label("article_date"),
            ArticleRow.published_at,
            ArticleRow.fetched_at,
            ArticleRow.extraction_status,
            ArticleRow.story_id,
            func.coalesce(self.story_row.member_count, 1).label("story_size"),
            ArticleRow.duplicate_of,
            self.cls.c.model_version,
            self.cls.c.status.label("classification_status"),
            self.cls.c.evidence,
        ]
        for label in LABELS:
            corr = self.corr[label]
            columns += [
                self.cls.c[label].label(f"m_{label}"),
                self.cls.c[SCORE_COLUMNS[label]].label(f"s_{label}"),
                corr.c.value.label(f"c_{label}"),
                corr.c.who.label(f"w_{label}"),
                corr.c.source.label(f"src_{label}"),
                corr.c.created_at.label(f"at_{label}"),
            ]
        return columns

    def _filtered(self, query: Select[Any], f: ArchiveFilter, *, rank: bool = False) -> Select[Any]:
        """Apply every filter of `f` (and the search) to a query built by `_joined`."""
        date_expr = self.article_date()
        if f.since:
            query = query.where(date_expr >= f.since)
        if f.until:
            query = query.where(date_expr < f.until)
        if f.feed_id:
            query = query.where(ArticleRow.feed_id == f.feed_id)
        if f.language:
            query = query.where(ArticleRow.language == f.language)
        if f.story_id:
            query = query.where(ArticleRow.story_id == f.story_id)
        for label in LABELS:
            wanted = f.label_value(label)
            if wanted is not None:
                query = query.where(self.effective(label) == (true() if wanted else false()))
        if f.score_min is not None:
            query = query.where(self.score(f.score_label) >= f.score_min)
        if f.score_max is not None:
            query = query.where(self.score(f.score_label) <= f.score_max)
        if f.source:
            any_correction = or_(*(corr.c.id.is_not(None) for corr in self.corr.values()))
            query = query.where(any_correction if f.source == "analyst" else not_(any_correction))
        return self._searched(query, f, rank=rank)

    def _searched(self, query: Select[Any], f: ArchiveFilter, *, rank: bool) -> Select[Any]:
        terms = parse_search(f.q)
        if not terms:
            return query
        if self.dialect == "sqlite":
            positive, negative = fts5_expressions(terms)
            fts = table("articles_fts", column("rowid"))
            fts_name = literal_column("articles_fts")
            if positive:
                query = query.join(fts, fts.c.rowid == ArticleRow.id).where(fts_name.op("MATCH")(positive))
                if rank:
                    query = query.add_columns(
                        (-func.bm25(fts_name, 2.0, 1.0)).label("rank"),
                        func.snippet(fts_name, 1, MARK_START, MARK_END, "…", 16).label("snippet"),
                    )
            else:
                excluded = select(fts.c.rowid).where(fts_name.op("MATCH")(negative))
                query = query.where(ArticleRow.id.not_in(excluded))
            return query
        if self.dialect == "postgresql":
            vector = literal_column("articles.search_vector")
            config = literal_column("'simple'::regconfig")
            tsquery = None
            plain = websearch_text(terms)
            if plain:
                tsquery = func.websearch_to_tsquery(config, _fold(plain))
            prefixes = prefix_tsquery(terms)
            if prefixes:
                prefix_query = func.to_tsquery(config, _fold(prefixes))
                tsquery = prefix_query if tsquery is None else tsquery.op("&&")(prefix_query)
            assert tsquery is not None
            query = query.where(vector.op("@@")(tsquery))
            if rank:
                headline_options = (
                    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=28, MinWords=12, "
                    "MaxFragments=1, FragmentDelimiter=…"
                )
                query = query.add_columns(
                    func.ts_rank_cd(vector, tsquery, type_=Float).label("rank"),
                    func.ts_headline(
                        config, func.left(ArticleRow.text, 20000), tsquery, headline_options
                    ).label("snippet"),
                )
            return query
        # Another backend: a plain substring search keeps the archive usable.
        for term in terms:
            like = ArticleRow.title.contains(" ".join(term.words)) | ArticleRow.text.contains(
                " ".join(term.words)
            )
            query = query.where(not_(like) if term.negated else like)
        return query

    def _sort_key(self, sort: str) -> ColumnElement[Any]:
        if sort in ("newest", "oldest"):
            return self.article_date()
        if sort == "relevance":
            return self.score("relevant")
        return self.score(sort)

    # ------------------------------------------------------------------ row building
    @staticmethod
    def _row(r: Any) -> ArchiveRow:
        m = r._mapping
        corrections = {
            label: Correction(bool(m[f"c_{label}"]), m[f"w_{label}"], m[f"src_{label}"], m[f"at_{label}"])
            for label in LABELS
            if m[f"c_{label}"] is not None
        }
        evidence = m["evidence"] or {}
        return ArchiveRow(
            id=m["id"],
            feed_id=m["feed_id"],
            feed_name=m["feed_name"],
            title=m["title"],
            url=m["url"],
            canonical_url=m["canonical_url"],
            outlet=m["outlet"],
            language=m["language"],
            date=m["article_date"],
            published_at=m["published_at"],
            fetched_at=m["fetched_at"],
            extraction_status=m["extraction_status"],
            story_id=m["story_id"],
            story_size=int(m["story_size"] or 1),
            duplicate_of=m["duplicate_of"],
            model_version=m["model_version"] or "",
            classification_status=m["classification_status"] or "unclassified",
            model={label: bool(m[f"m_{label}"]) for label in LABELS},
            scores={label: float(m[f"s_{label}"] or 0.0) for label in LABELS},
            corrections=corrections,
            evidence={k: list(v) for k, v in evidence.items() if isinstance(v, list)},
            snippet=m.get("snippet"),
        )

    def _run(self, query: Select[Any]) -> list[ArchiveRow]:
        try:
            with self.store.reading() as session:
                return [self._row(r) for r in session.execute(query)]
        except Exception as error:  # an FTS/tsquery error must reach users as "invalid query"
            if _is_search_error(error):
                raise SearchError("invalid search query") from None
            raise

    # ------------------------------------------------------------------ public reads
    def count(self, f: ArchiveFilter) -> int:
        query = self._filtered(self._joined(func.count(ArticleRow.id)), f)
        try:
            with self.store.reading() as session:
                return int(session.scalar(query) or 0)
        except Exception as error:
            if _is_search_error(error):
                raise SearchError("invalid search query") from None
            raise

    def page(self, f: ArchiveFilter, *, limit: int = 50, cursor: Cursor | None = None) -> Page:
        """One page of the filtered, sorted archive.

        Date and score orders use keyset pagination (stable while new articles arrive and
        cheap at any depth); rank order (search relevance) uses an offset.
        """
        limit = max(1, min(limit, MAX_PAGE))
        sort = f.effective_sort
        if cursor is not None and cursor.sort != sort:
            cursor = None
        if sort == "rank" or (cursor is not None and cursor.offset is not None):
            return self._offset_page(f, sort, limit, cursor)
        key = self._sort_key(sort)
        descending = sort != "oldest"
        query = self._filtered(self._joined(*self._row_columns()), f, rank=bool(f.q))
        backwards = cursor is not None and cursor.direction == "before"
        if cursor is not None:
            key_value = _key_value(sort, cursor.key)
            later = (key < key_value) | ((key == key_value) & (ArticleRow.id < cursor.id))
            earlier = (key > key_value) | ((key == key_value) & (ArticleRow.id > cursor.id))
            # "after" continues in display order; "before" walks back towards the top.
            query = query.where(later if descending != backwards else earlier)
        if descending != backwards:
            query = query.order_by(key.desc(), ArticleRow.id.desc())
        else:
            query = query.order_by(key.asc(), ArticleRow.id.asc())
        rows = self._run(query.limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        if backwards:
            assert cursor is not None
            if not more:  # reached the top: show a full first page instead of a stub
                return self.page(f, limit=limit, cursor=None)
            rows.reverse()
            start = max(cursor.index - len(rows), 0)
            has_next, has_prev = True, True
        else:
            start = cursor.index + 1 if cursor is not None else 0
            has_next, has_prev = more, cursor is not None and start > 0
        next_cursor = prev_cursor = None
        if rows and has_next:
            last = rows[-1]
            next_cursor = Cursor(sort, "after", _key_of(sort, last), last.id, start + len(rows) - 1).encode()
        if rows and has_prev:
            first = rows[0]
            prev_cursor = Cursor(sort, "before", _key_of(sort, first), first.id, start).encode()
        return Page(rows, start, next_cursor, prev_cursor)

    def _offset_page(self, f: ArchiveFilter, sort: str, limit: int, cursor: Cursor | None) -> Page:
        offset = cursor.offset if cursor is not None and cursor.offset is not None else 0
        query = self._filtered(self._joined(*self._row_columns()), f, rank=True)
        if sort == "rank":
            query = query.order_by(literal_column("rank").desc(), ArticleRow.id.desc())
        else:
            key = self._sort_key(sort)
            order = key.asc() if sort == "oldest" else key.desc()
            query = query.order_by(order, ArticleRow.id.desc())
        rows = self._run(query.offset(offset).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = (
            Cursor(sort, "after", None, 0, offset + limit, offset + limit).encode() if more else None
        )
        prev_cursor = None
        if offset > 0:
            back = max(offset - limit, 0)
            prev_cursor = Cursor(sort, "before", None, 0, back, back).encode()
        return Page(rows, offset, next_cursor, prev_cursor)

    def rows_by_id(self, ids: Sequence[int]) -> list[ArchiveRow]:
        if not ids:
            return []
        query = self._joined(*self._row_columns()).where(ArticleRow.id.in_(list(ids)))
        by_id = {row.id: row for row in self._run(query)}
        return [by_id[i] for i in ids if i in by_id]

    def iter_rows(self, f: ArchiveFilter, *, batch_size: int = 500) -> Iterator[ArchiveRow]:
        """Every matching row, streamed: `yield_per` makes PostgreSQL use a server-side
        cursor and SQLite step lazily, so an export of any size holds one batch at a time."""
        sort = f.effective_sort
        query = self._filtered(self._joined(*self._row_columns()), f, rank=sort == "rank")
        if sort == "rank":
            query = query.order_by(literal_column("rank").desc(), ArticleRow.id.desc())
        else:
            key = self._sort_key(sort)
            order = key.asc() if sort == "oldest" else key.desc()
            query = query.order_by(order, ArticleRow.id.asc() if sort == "oldest" else ArticleRow.id.desc())
        with self.store.reading() as session:
            result = session.execute(query.execution_options(yield_per=batch_size))
            try:
                for partition in result.partitions(batch_size):
                    for r in partition:
                        yield self._row(r)
            finally:
                result.close()

    # ------------------------------------------------------------------ stories
    def story(self, story_id: int) -> tuple[dict[str, Any], list[ArchiveRow]] | None:
        """A story cluster and its members, oldest first (the first one is the original)."""
        with self.store.reading() as session:
            story = session.get(StoryRow, story_id)
            if story is None:
                return None
            info = {
                "id": story.id,
                "title": story.title,
                "member_count": story.member_count,
                "first_article_id": story.first_article_id,
                "created_at": story.created_at,
                "updated_at": story.updated_at,
            }
        query = (
            self._joined(*self._row_columns())
            .where(ArticleRow.story_id == story_id)
            .order_by(ArticleRow.id)
            .limit(MAX_PAGE)
        )
        return info, self._run(query)

    def stories(self, f: ArchiveFilter, *, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Stories with at least one article matching `f`, most recently active first."""
        limit = max(1, min(limit, MAX_PAGE))
        matching = self._filtered(
            self._joined(
                ArticleRow.story_id.label("story_id"),
                func.count(ArticleRow.id).label("matching"),
                func.max(self.article_date()).label("latest"),
            ),
            f,
        ).where(ArticleRow.story_id.is_not(None))
        matching = matching.group_by(ArticleRow.story_id).subquery("matching")
        query = (
            select(StoryRow, matching.c.matching, matching.c.latest)
            .join(matching, matching.c.story_id == StoryRow.id)
            .order_by(matching.c.latest.desc(), StoryRow.id.desc())
            .offset(max(offset, 0))
            .limit(limit)
        )
        try:
            with self.store.reading() as session:
                rows = session.execute(query).all()
                return [
                    {
                        "id": s.id,
                        "title": s.title,
                        "member_count": s.member_count,
                        "matching_articles": int(n),
                        "first_article_id": s.first_article_id,
                        "created_at": s.created_at,
                        "updated_at": s.updated_at,
                        "latest_article_at": _as_datetime(latest),
                    }
                    for s, n, latest in rows
                ]
        except Exception as error:
            if _is_search_error(error):
                raise SearchError("invalid search query") from None
            raise

    # ------------------------------------------------------------------ review queue
    def uncertain(
        self,
        thresholds: dict[str, float],
        *,
        limit: int = 25,
        since: datetime | None = None,
    ) -> list[ReviewItem]:
        """Unreviewed articles whose scores sit closest to a decision threshold: the ones a
        correction teaches the model most about. Frames count only where the article is
        judged relevant (that is where a frame decision is shown to anyone).

        Order: uncertainty first, in bands of `REVIEW_BAND` (scores 0.01 apart are equally
        uncertain), then articles whose story an analyst already labelled differently from
        the model (a disagreement worth settling), then the closest. Confidently irrelevant
        articles (relevance more than `CONFIDENT_MARGIN` under its threshold) are left out:
        confirming them teaches nothing and buries the real questions.
        """
        t = {label: float(thresholds.get(label, 0.5)) for label in LABELS}
        distances = [func.abs(self.score("relevant") - t["relevant"])]
        for frame in FRAMES:
            distances.append(
                case(
                    (self.effective("relevant"), func.abs(self.score(frame) - t[frame])),
                    else_=literal(1.0),
                )
            )
        closest = (func.min if self.dialect == "sqlite" else func.least)(*distances)
        disputed = self._disputed_by_analysts()
        band = cast(closest * (1.0 / REVIEW_BAND), Integer)
        query = (
            self._joined(*self._row_columns(), closest.label("distance"), disputed.label("disputed"))
            .where(self.cls.c.id.is_not(None), self.cls.c.status == "ok")
            .where(ArticleRow.duplicate_of.is_(None))
            .where(and_(*(corr.c.id.is_(None) for corr in self.corr.values())))
            .where(self.score("relevant") >= t["relevant"] - CONFIDENT_MARGIN)
        )
        if since is not None:
            query = query.where(self.article_date() >= since)
        query = query.order_by(
            band.asc(), disputed.desc(), literal_column("distance").asc(), ArticleRow.id.desc()
        ).limit(limit)
        items = []
        with self.store.reading() as session:
            rows = list(session.execute(query))
        for row in rows:
            archive_row = self._row(row)
            gaps = {"relevant": abs(archive_row.scores["relevant"] - t["relevant"])}
            if archive_row.label("relevant"):
                gaps.update({frame: abs(archive_row.scores[frame] - t[frame]) for frame in FRAMES})
            label = min(gaps, key=lambda k: gaps[k])
            items.append(ReviewItem(archive_row, label, gaps[label], bool(row.disputed)))
        return items

    def _disputed_by_analysts(self) -> ColumnElement[bool]:
        """True when an analyst label on another copy of this article's story contradicts
        what the model says about this article (same label, other value)."""
        sibling = aliased(ArticleRow)
        contradicts = or_(
            *(
                and_(LabelRow.label == label, LabelRow.value != func.coalesce(self.cls.c[label], false()))
                for label in LABELS
            )
        )
        return (
            select(LabelRow.id)
            .join(sibling, sibling.id == LabelRow.article_id)
            .where(
                ArticleRow.story_id.is_not(None),
                sibling.story_id == ArticleRow.story_id,
                sibling.id != ArticleRow.id,
                LabelRow.source != "model",
                contradicts,
            )
            .exists()
        )

    def unconfirmed_alerts(self, *, since: datetime, limit: int = 25) -> list[ArchiveRow]:
        """Articles alerted since `since` that no analyst has labelled yet, newest first."""
        alerted = select(AlertRow.article_id).where(
            AlertRow.kind == "article",
            AlertRow.article_id.is_not(None),
            AlertRow.status.in_(("sent", "console", "pending", "sending", "unknown")),
            AlertRow.created_at >= since,
        )
        query = (
            self._joined(*self._row_columns())
            .where(ArticleRow.id.in_(alerted))
            .where(and_(*(corr.c.id.is_(None) for corr in self.corr.values())))
            .order_by(self.article_date().desc(), ArticleRow.id.desc())
            .limit(limit)
        )
        return self._run(query)

    # ------------------------------------------------------------------ trends
    def daily_counts(self, f: ArchiveFilter, group: str | None = None) -> list[DailyCount]:
        """Per UTC day (and per outlet, language or feed): total, relevant and frame counts.

        Frames are counted among relevant articles only, so "share" means share of the
        relevant coverage. The database groups by day; callers roll days into weeks.
        """
        if group is not None and group not in GROUPS:
            raise ValueError(f"unknown group {group!r}")
        date_expr = self.article_date()
        if self.dialect == "postgresql":
            day = cast(func.timezone("UTC", date_expr), Date)
        else:
            day = func.date(date_expr)
        if group == "outlet":
            key: ColumnElement[Any] = self.outlet()
        elif group == "language":
            key = func.coalesce(ArticleRow.language, "?")
        elif group == "feed":
            key = FeedRow.name
        else:
            key = literal("all")
        relevant = self.effective("relevant")

        def counted(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.sum(case((condition, 1), else_=0))

        query = self._filtered(
            self._joined(
                day.label("day"),
                key.label("grp"),
                func.count(ArticleRow.id).label("total"),
                counted(relevant).label("relevant"),
                counted(and_(relevant, self.effective("pro_city_inclusion"))).label("city"),
                counted(and_(relevant, self.effective("sovereignty_framing"))).label("sov"),
            ),
            f,
        ).group_by(day, key)
        try:
            with self.store.reading() as session:
                rows = session.execute(query).all()
        except Exception as error:
            if _is_search_error(error):
                raise SearchError("invalid search query") from None
            raise
        out = [
            DailyCount(
                day=d if isinstance(d, date) else date.fromisoformat(str(d)[:10]),
                group=str(g),
                total=int(total),
                relevant=int(rel or 0),
                pro_city_inclusion=int(city or 0),
                sovereignty_framing=int(sov or 0),
            )
            for d, g, total, rel, city, sov in rows
            if d is not None
        ]
        return sorted(out, key=lambda c: (c.day, c.group))

    # ------------------------------------------------------------------ choices and summaries
    def feed_choices(self) -> list[tuple[int, str]]:
        with self.store.reading() as session:
            rows = session.execute(select(FeedRow.id, FeedRow.name).order_by(FeedRow.name))
            return [(int(i), str(n)) for i, n in rows]

    def languages(self) -> list[str]:
        with self.store.reading() as session:
            rows = session.scalars(
                select(ArticleRow.language).where(ArticleRow.language.is_not(None)).distinct()
            ).all()
        return sorted(str(r) for r in rows if r)

    def model_versions(self) -> list[tuple[str, int]]:
        """How many articles each model version classified (latest classification only)."""
        query = (
            self._joined(self.cls.c.model_version, func.count(ArticleRow.id))
            .where(self.cls.c.id.is_not(None))
            .group_by(self.cls.c.model_version)
            .order_by(func.count(ArticleRow.id).desc())
        )
        with self.store.reading() as session:
            return [(str(v), int(n)) for v, n in session.execute(query)]

    def correction_counts(self, since: datetime | None = None) -> dict[str, int]:
        """Analyst label rows per source (ui, slack), for the Models page."""
        query = select(LabelRow.source, func.count(LabelRow.id)).group_by(LabelRow.source)
        if since is not None:
            query = query.where(LabelRow.created_at >= since)
        with self.store.reading() as session:
            return {str(s): int(n) for s, n in session.execute(query)}


# --------------------------------------------------------------------------- helpers
def _fold(value: str) -> ColumnElement[str]:
    """Lower-case and strip accents in SQL, exactly as the indexed column was folded."""
    return func.translate(func.lower(literal(value)), FOLD_FROM, FOLD_TO)


def _is_search_error(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    markers = ("fts5", "syntax error in tsquery", "unterminated string", "no such column: articles_fts")
    return any(marker in text for marker in markers)


def _key_of(sort: str, row: ArchiveRow) -> str | float:
    if sort in ("newest", "oldest"):
        return row.date.astimezone(UTC).isoformat()
    return row.scores["relevant" if sort == "relevance" else sort]


def _key_value(sort: str, key: str | float | None) -> Any:
    if sort in ("newest", "oldest"):
        parsed = datetime.fromisoformat(str(key))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    try:
        return float(key)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0


def _as_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def week_start(day: date) -> date:
    """Monday of the ISO week holding `day` (trend buckets)."""
    return day - timedelta(days=day.weekday())


__all__ = [
    "FRAMES",
    "GROUPS",
    "LABELS",
    "SORTS",
    "ArchiveFilter",
    "ArchiveQueries",
    "ArchiveRow",
    "Correction",
    "Cursor",
    "DailyCount",
    "Page",
    "ReviewItem",
    "SearchError",
    "fts5_expressions",
    "parse_search",
    "websearch_text",
]
