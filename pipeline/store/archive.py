"""The analyst archive's SQL: search, filters, sorting, pagination, counts, stories, the
review queue, trend aggregates and streaming exports. The records it returns live in
`archive_records`, the search syntax it compiles in `search_syntax`.

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

from collections.abc import Iterator, Sequence
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
)
from sqlalchemy.orm import aliased

from pipeline.store.archive_records import (
    FRAMES,
    GROUPS,
    LABELS,
    MAX_PAGE,
    SCORE_COLUMNS,
    SORTS,
    SOURCES,
    ArchiveFilter,
    ArchiveRow,
    Correction,
    Cursor,
    DailyCount,
    Page,
    ReviewItem,
)
from pipeline.store.article_sql import article_date
from pipeline.store.search_syntax import (
    FOLD_FROM,
    FOLD_TO,
    MARK_END,
    MARK_START,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    SearchError,
    SearchTerm,
    fts5_expressions,
    parse_search,
    prefix_tsquery,
    websearch_text,
)
from pipeline.store.store import Store
from pipeline.store.tables import (
    AlertRow,
    ArticleRow,
    ClassificationRow,
    FeedRow,
    LabelRow,
    StoryRow,
)

REVIEW_BAND = 0.05  # scores this close to each other are equally uncertain
CONFIDENT_MARGIN = 0.35  # relevance this far under its threshold is a confident "no"

__all__ = [
    "FOLD_FROM",
    "FOLD_TO",
    "FRAMES",
    "GROUPS",
    "LABELS",
    "MARK_END",
    "MARK_START",
    "MAX_PAGE",
    "MAX_QUERY_CHARS",
    "MAX_TERMS",
    "SCORE_COLUMNS",
    "SORTS",
    "SOURCES",
    "ArchiveFilter",
    "ArchiveQueries",
    "ArchiveRow",
    "Correction",
    "Cursor",
    "DailyCount",
    "Page",
    "ReviewItem",
    "SearchError",
    "SearchTerm",
    "fts5_expressions",
    "parse_search",
    "prefix_tsquery",
    "websearch_text",
    "week_start",
]


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
        return article_date()

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
