"""Articles in the store: saving one with its classification, story clustering and alert
outbox rows in one transaction; reading articles back; analysts' labels.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.records import (
    AlertTarget,
    Classification,
    Fingerprint,
    NewArticle,
    StoredArticle,
)
from pipeline.store.base import LABELS, StoreBase, utcnow
from pipeline.store.tables import (
    AlertRow,
    ArticleRow,
    ClassificationRow,
    FeedRow,
    LabelRow,
    StoryRow,
)


@dataclass(frozen=True)
class ArticleFilter:
    """Filters shared by the CLI, the archive UI, the API and exports."""

    relevant: bool | None = None
    frame: str | None = None  # pro_city_inclusion | sovereignty_framing
    since: datetime | None = None
    until: datetime | None = None
    feed_id: int | None = None
    language: str | None = None
    story_id: int | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class SavedArticle:
    article_id: int
    created: bool  # False when the canonical URL was already stored
    story_id: int | None
    new_story: bool
    duplicate_of: int | None
    alerts_queued: int


class ArticleStore(StoreBase):
    """Articles, stories, classifications and analysts' labels."""

    # ------------------------------------------------------------------ articles
    def known_urls(self, canonical_urls: Iterable[str]) -> set[str]:
        urls = list(set(canonical_urls))
        if not urls:
            return set()
        with self.reading() as session:
            found: set[str] = set()
            for start in range(0, len(urls), 500):
                chunk = urls[start : start + 500]
                found.update(
                    session.scalars(
                        select(ArticleRow.canonical_url).where(ArticleRow.canonical_url.in_(chunk))
                    )
                )
            return found

    def save_article(
        self,
        article: NewArticle,
        *,
        alert_channels: Sequence[str | AlertTarget] = (),
        story_window: timedelta = timedelta(days=3),
        near_duplicate_distance: int = 6,
    ) -> SavedArticle:
        """Store an article, its classification and its alert rows in ONE transaction.

        This is the outbox: if the process dies after commit, the pending alert rows are
        still there for the relay; if it dies before, nothing of the article was stored and
        the next poll sees it again. Exact duplicates of stored text are linked to the
        original and never alerted; near-duplicates join the original's story, and only the
        first article of a story queues alerts.
        """
        now = utcnow()
        cls = article.classification
        try:
            with self.writing() as session:
                existing = session.scalar(
                    select(ArticleRow.id).where(ArticleRow.canonical_url == article.canonical_url)
                )
                if existing is not None:
                    return SavedArticle(existing, False, None, False, None, 0)
                duplicate_of = _exact_duplicate(session, article.fingerprint)
                story = _find_story(session, article.fingerprint, now - story_window, near_duplicate_distance)
                new_story = story is None
                if story is None:
                    story = StoryRow(
                        title=article.extraction.title or article.entry.title,
                        title_key=article.fingerprint.title_key[:500],
                        simhash=article.fingerprint.simhash,
                        member_count=0,
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(story)
                    session.flush()
                story.member_count += 1
                story.updated_at = now
                ext = article.extraction
                row = ArticleRow(
                    feed_id=article.feed_id,
                    url=article.url,
                    canonical_url=article.canonical_url,
                    guid=article.entry.guid,
                    title=ext.title or article.entry.title,
                    summary=article.entry.summary,
                    text=ext.text,
                    author=ext.author or article.entry.author,
                    outlet=ext.site_name,
                    published_at=ext.published or article.entry.published,
                    fetched_at=now,
                    language=cls.language or ext.language,
                    extraction_status=ext.status,
                    extraction_detail=ext.detail,
                    text_hash=article.fingerprint.text_hash,
                    title_key=article.fingerprint.title_key[:500],
                    simhash=article.fingerprint.simhash,
                    duplicate_of=duplicate_of,
                    story_id=story.id,
                )
                session.add(row)
                session.flush()
                if story.first_article_id is None:
                    story.first_article_id = row.id
                session.add(
                    ClassificationRow(
                        article_id=row.id,
                        model_version=cls.model_version,
                        status=cls.status,
                        relevant=cls.relevant,
                        relevance=cls.relevance,
                        pro_city_inclusion=cls.pro_city_inclusion.present,
                        pro_city_inclusion_score=cls.pro_city_inclusion.score,
                        sovereignty_framing=cls.sovereignty_framing.present,
                        sovereignty_framing_score=cls.sovereignty_framing.score,
                        evidence=cls.as_output()["evidence"],
                        created_at=now,
                    )
                )
                queued = 0
                if new_story and duplicate_of is None:
                    targets = [t if isinstance(t, AlertTarget) else AlertTarget(t) for t in alert_channels]
                    for target in {t.channel: t for t in reversed(targets)}.values():
                        session.add(
                            AlertRow(
                                dedupe_key=f"story:{story.id}:{target.channel}",
                                kind="article",
                                article_id=row.id,
                                story_id=story.id,
                                channel=target.channel,
                                route=target.route,
                                status="pending",
                                next_attempt_at=target.not_before or now,
                                created_at=now,
                            )
                        )
                        queued += 1
                elif not new_story:
                    _queue_story_followups(session, story, row, cls, now)
                return SavedArticle(row.id, True, story.id, new_story, duplicate_of, queued)
        except IntegrityError:
            # Another worker stored the same canonical URL first: theirs wins.
            with self.reading() as session:
                winner = session.scalar(
                    select(ArticleRow.id).where(ArticleRow.canonical_url == article.canonical_url)
                )
            return SavedArticle(winner or 0, False, None, False, None, 0)

    def article(self, article_id: int) -> StoredArticle | None:
        with self.reading() as session:
            rows = self._articles(session, select(ArticleRow).where(ArticleRow.id == article_id))
            return rows[0] if rows else None

    def articles(self, filters: ArticleFilter = ArticleFilter()) -> list[StoredArticle]:
        """Recent articles, newest first, with the model's labels and analysts' corrections."""
        query = select(ArticleRow)
        latest = _latest_classification()
        if filters.relevant is not None or filters.frame:
            query = query.join(latest, latest.c.article_id == ArticleRow.id)
            if filters.relevant is not None:
                query = query.where(latest.c.relevant.is_(filters.relevant))
            if filters.frame:
                if filters.frame not in LABELS[1:]:
                    raise ValueError(f"unknown frame {filters.frame!r}")
                query = query.where(latest.c[filters.frame].is_(True))
        if filters.since:
            query = query.where(ArticleRow.fetched_at >= filters.since)
        if filters.until:
            query = query.where(ArticleRow.fetched_at < filters.until)
        if filters.feed_id:
            query = query.where(ArticleRow.feed_id == filters.feed_id)
        if filters.language:
            query = query.where(ArticleRow.language == filters.language)
        if filters.story_id:
            query = query.where(ArticleRow.story_id == filters.story_id)
        query = (
            query.order_by(ArticleRow.fetched_at.desc(), ArticleRow.id.desc())
            .limit(filters.limit)
            .offset(filters.offset)
        )
        with self.reading() as session:
            return self._articles(session, query)

    def _articles(self, session: Session, query: Select[tuple[ArticleRow]]) -> list[StoredArticle]:
        rows = session.scalars(query).all()
        if not rows:
            return []
        ids = [r.id for r in rows]
        feeds = {f.id: f.name for f in session.scalars(select(FeedRow))}
        classifications: dict[int, ClassificationRow] = {}
        for c in session.scalars(
            select(ClassificationRow)
            .where(ClassificationRow.article_id.in_(ids))
            .order_by(ClassificationRow.created_at, ClassificationRow.id)
        ):
            classifications[c.article_id] = c  # the latest wins
        corrections: dict[int, dict[str, bool]] = {}
        for label in session.scalars(
            select(LabelRow).where(LabelRow.article_id.in_(ids)).order_by(LabelRow.created_at, LabelRow.id)
        ):
            corrections.setdefault(label.article_id, {})[label.label] = label.value
        return [
            stored_article_from_rows(
                r, feeds.get(r.feed_id, "?"), classifications.get(r.id), corrections.get(r.id)
            )
            for r in rows
        ]

    def add_label(
        self,
        article_id: int,
        label: str,
        value: bool,
        *,
        source: str,
        who: str,
        note: str | None = None,
        alert_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> bool:
        """Record an analyst's correction; the model's own output is never touched.

        Returns False (and changes nothing) when the same idempotency key was already
        recorded (a double click or a Slack retry) or when the value is unchanged.
        """
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}")
        current = self.article(article_id)
        if current is None:
            raise ValueError(f"no article {article_id}")
        previous = current.label(label)
        if previous == value and current.is_corrected(label):
            return False
        try:
            with self.writing() as session:
                if idempotency_key and session.scalar(
                    select(LabelRow.id).where(LabelRow.idempotency_key == idempotency_key)
                ):
                    return False
                session.add(
                    LabelRow(
                        article_id=article_id,
                        label=label,
                        value=value,
                        previous_value=previous,
                        source=source,
                        who=who,
                        note=note,
                        model_version=current.model_version or None,
                        alert_id=alert_id,
                        idempotency_key=idempotency_key,
                        created_at=utcnow(),
                    )
                )
        except IntegrityError:
            return False  # the same key raced in from another request
        return True

    def undo_labels(self, key_prefix: str, who: str) -> int:
        """Take back the corrections one form recorded (keys starting with `key_prefix`,
        written by `who`). A correction is only removed while it is still the newest one
        for its article and label: if anyone changed that label since, theirs stands.
        Returns how many corrections were taken back."""
        undone = 0
        with self.writing() as session:
            rows = session.scalars(
                select(LabelRow).where(
                    LabelRow.idempotency_key.startswith(key_prefix, autoescape=True), LabelRow.who == who
                )
            ).all()
            for row in rows:
                newest = session.scalar(
                    select(func.max(LabelRow.id)).where(
                        LabelRow.article_id == row.article_id, LabelRow.label == row.label
                    )
                )
                if newest == row.id:
                    session.delete(row)
                    undone += 1
        return undone

    def label_history(self, article_id: int) -> list[dict[str, object]]:
        with self.reading() as session:
            rows = session.scalars(
                select(LabelRow).where(LabelRow.article_id == article_id).order_by(LabelRow.id)
            ).all()
            return [
                {
                    "label": r.label,
                    "value": r.value,
                    "previous_value": r.previous_value,
                    "source": r.source,
                    "who": r.who,
                    "note": r.note,
                    "model_version": r.model_version,
                    "alert_id": r.alert_id,
                    "created_at": r.created_at,
                }
                for r in rows
            ]

    def analyst_labels(self) -> list[tuple[str, str, str, bool]]:
        """(title, text, label, value) of every article's latest correction, for retraining."""
        with self.reading() as session:
            rows = session.execute(
                select(ArticleRow.id, ArticleRow.title, ArticleRow.text, LabelRow.label, LabelRow.value)
                .join(LabelRow, LabelRow.article_id == ArticleRow.id)
                .order_by(LabelRow.id)
            ).all()
        latest: dict[tuple[int, str], tuple[str, str, str, bool]] = {}
        for article_id, title, text, label, value in rows:
            latest[(article_id, label)] = (title, text, label, bool(value))
        return list(latest.values())

    def count_articles(self) -> int:
        with self.reading() as session:
            return int(session.scalar(select(func.count(ArticleRow.id))) or 0)


def _latest_classification() -> object:
    newest = (
        select(
            ClassificationRow.article_id,
            func.max(ClassificationRow.id).label("newest_id"),
        )
        .group_by(ClassificationRow.article_id)
        .subquery()
    )
    return (
        select(ClassificationRow)
        .join(newest, ClassificationRow.id == newest.c.newest_id)
        .subquery("latest_classification")
    )


def _queue_story_followups(
    session: Session, story: StoryRow, member: ArticleRow, cls: Classification, now: datetime
) -> int:
    """A later member of an alerted story edits the story's message ("also in ...") and,
    when it carries a frame the first article did not, gets one thread reply."""
    first_alerts = session.scalars(
        select(AlertRow).where(AlertRow.story_id == story.id, AlertRow.kind == "article")
    ).all()
    if not first_alerts:
        return 0
    first = session.scalar(
        select(ClassificationRow)
        .where(ClassificationRow.article_id == story.first_article_id)
        .order_by(ClassificationRow.id.desc())
        .limit(1)
    )
    new_frames = sorted(
        name
        for name, present in (
            ("pro_city_inclusion", cls.pro_city_inclusion.present),
            ("sovereignty_framing", cls.sovereignty_framing.present),
        )
        if present and cls.relevant and not (first is not None and getattr(first, name))
    )
    queued = 0
    for alert in first_alerts:
        rows = [("story_update", f"update:{story.id}:{alert.channel}:{member.id}")]
        if new_frames:
            rows.append(("frame_reply", f"frames:{story.id}:{alert.channel}:{','.join(new_frames)}"))
        for kind, key in rows:
            if session.scalar(select(AlertRow.id).where(AlertRow.dedupe_key == key)):
                continue
            session.add(
                AlertRow(
                    dedupe_key=key,
                    kind=kind,
                    article_id=member.id,
                    story_id=story.id,
                    channel=alert.channel,
                    route=alert.route,
                    payload={"frames": new_frames} if kind == "frame_reply" else {},
                    status="pending",
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            queued += 1
    return queued


def _exact_duplicate(session: Session, fingerprint: Fingerprint) -> int | None:
    if not fingerprint.text_hash:
        return None
    return session.scalar(
        select(ArticleRow.id)
        .where(ArticleRow.text_hash == fingerprint.text_hash, ArticleRow.duplicate_of.is_(None))
        .order_by(ArticleRow.id)
        .limit(1)
    )


def _find_story(
    session: Session, fingerprint: Fingerprint, since: datetime, max_distance: int
) -> StoryRow | None:
    """The recent story this article belongs to: same text, same normalised title, or a
    SimHash within `max_distance` bits of a member."""
    if fingerprint.text_hash:
        story_id = session.scalar(
            select(ArticleRow.story_id)
            .where(ArticleRow.text_hash == fingerprint.text_hash, ArticleRow.story_id.is_not(None))
            .limit(1)
        )
        if story_id is not None:
            return session.get(StoryRow, story_id)
    if not fingerprint.text_hash:
        return None  # no text: a title-only SimHash says little, keep it a story of its own
    if fingerprint.title_key and len(fingerprint.title_key) >= 20:
        story_id = session.scalar(  # same normalised title: one probe of the title_key index
            select(ArticleRow.story_id)
            .where(
                ArticleRow.title_key == fingerprint.title_key,
                ArticleRow.fetched_at >= since,
                ArticleRow.story_id.is_not(None),
            )
            .order_by(ArticleRow.id.desc())
            .limit(1)
        )
        if story_id is not None:
            return session.get(StoryRow, story_id)
    recent = session.execute(
        select(ArticleRow.story_id, ArticleRow.simhash)
        .where(ArticleRow.fetched_at >= since, ArticleRow.story_id.is_not(None))
        .order_by(ArticleRow.id.desc())
        .limit(5000)
    ).all()
    mask = (1 << 64) - 1
    for story_id, simhash in recent:
        if ((simhash ^ fingerprint.simhash) & mask).bit_count() <= max_distance:
            return session.get(StoryRow, story_id)
    return None


def stored_article_from_rows(
    row: ArticleRow,
    feed_name: str,
    cls: ClassificationRow | None,
    corrections: dict[str, bool] | None,
) -> StoredArticle:
    """The record every reader of the store gets: article, latest model output, corrections."""
    return StoredArticle(
        id=row.id,
        feed_id=row.feed_id,
        feed_name=feed_name,
        url=row.url,
        canonical_url=row.canonical_url,
        title=row.title,
        text=row.text,
        outlet=row.outlet or feed_name,
        published_at=row.published_at,
        fetched_at=row.fetched_at,
        language=row.language,
        extraction_status=row.extraction_status,
        relevant=bool(cls and cls.relevant),
        relevance=float(cls.relevance) if cls else 0.0,
        pro_city_inclusion=bool(cls and cls.pro_city_inclusion),
        pro_city_inclusion_score=float(cls.pro_city_inclusion_score) if cls else 0.0,
        sovereignty_framing=bool(cls and cls.sovereignty_framing),
        sovereignty_framing_score=float(cls.sovereignty_framing_score) if cls else 0.0,
        evidence=dict(cls.evidence or {}) if cls else {},
        model_version=cls.model_version if cls else "",
        duplicate_of=row.duplicate_of,
        story_id=row.story_id,
        corrections=dict(corrections or {}),
        classification_status=cls.status if cls else "unclassified",
        extraction_detail=row.extraction_detail,
    )
