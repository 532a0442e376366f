"""All database access of compactwatch, as methods on one `Store`.

Stages never see a session: they hand records in and get records out. Write transactions
are short and, on SQLite, take the write lock up front (see db.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, Select, func, or_, select, update
from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.errors import StoreError
from pipeline.records import (
    AlertMessage,
    AlertTarget,
    Classification,
    FeedConfig,
    FeedHealth,
    FeedState,
    Fingerprint,
    NewArticle,
    PollResult,
    StoredArticle,
)
from pipeline.store.db import DEFAULT_CONNECT_TIMEOUT, create_store_engine, writer_engine
from pipeline.store.migrate import upgrade_database
from pipeline.store.tables import (
    AlertRow,
    ArticleRow,
    ClassificationRow,
    FeedRow,
    LabelRow,
    StoryRow,
)

LABELS = ("relevant", "pro_city_inclusion", "sovereignty_framing")


def utcnow() -> datetime:
    return datetime.now(UTC)


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


def _is_corrupt(error: Exception) -> bool:
    text = str(getattr(error, "orig", error)).lower()
    return "malformed" in text or "file is not a database" in text or "disk image" in text


def _friendly(error: Exception) -> str:
    text = str(getattr(error, "orig", error)).strip().splitlines()[0]
    return text[:300]


class Store:
    """The one gateway to the database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(writer_engine(engine), expire_on_commit=False)

    # ------------------------------------------------------------------ plumbing
    @contextmanager
    def reading(self) -> Iterator[Session]:
        try:
            with self._read() as session:
                yield session
        except DatabaseError as error:
            if isinstance(error, OperationalError) or _is_corrupt(error):
                raise self._unavailable(error) from None
            raise

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A short write transaction, committed on success, rolled back on error."""
        try:
            with self._write.begin() as session:
                yield session
        except DatabaseError as error:
            if isinstance(error, OperationalError) or _is_corrupt(error):
                raise self._unavailable(error) from None
            raise

    def _unavailable(self, error: DatabaseError) -> StoreError:
        """A one-line StoreError for an unreachable or a corrupt database (a corrupt SQLite
        file is named, with what to do)."""
        if _is_corrupt(error):
            url = self.engine.url
            where = url.database if self.dialect == "sqlite" else url.render_as_string(hide_password=True)
            return StoreError(
                f"the database file {where} is corrupt ({_friendly(error)}): stop compactwatch and "
                "restore the file from your latest backup (see README, Security)"
            )
        return StoreError(f"database unavailable: {_friendly(error)}")

    def upgrade(self) -> None:
        try:
            upgrade_database(self.engine)
        except DatabaseError as error:
            if _is_corrupt(error):
                raise self._unavailable(error) from None
            if not isinstance(error, OperationalError):
                raise StoreError(f"could not migrate the database: {_friendly(error)}") from None
            where = self.engine.url.render_as_string(hide_password=True)
            raise StoreError(f"database unavailable at {where}: {_friendly(error)}") from None
        except SQLAlchemyError as error:
            raise StoreError(f"could not migrate the database: {_friendly(error)}") from None

    def check(self) -> None:
        """Raise StoreError when the database cannot be reached."""
        with self.reading() as session:
            session.execute(select(1))

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ feeds
    def sync_feeds(self, feeds: Sequence[FeedConfig]) -> dict[str, int]:
        """Upsert feeds from feeds.yaml by name; feeds no longer listed are disabled, not lost."""
        now = utcnow()
        ids: dict[str, int] = {}
        with self.writing() as session:
            rows = {row.name: row for row in session.scalars(select(FeedRow))}
            for feed in feeds:
                row = rows.get(feed.name)
                if row is None:
                    row = FeedRow(name=feed.name, url=feed.url, next_due_at=now)
                    session.add(row)
                elif row.url != feed.url:
                    row.url, row.etag, row.last_modified, row.body_hash = feed.url, None, None, None
                row.interval_minutes = feed.interval
                row.tags = list(feed.tags)
                row.language = feed.language
                row.enabled = feed.enabled
                row.conditional_get = feed.conditional_get
                row.max_entries = feed.max_entries
                if row.next_due_at is None:
                    row.next_due_at = now
            listed = {feed.name for feed in feeds}
            for name, row in rows.items():
                if name not in listed:
                    row.enabled = False
            session.flush()
            for row in session.scalars(select(FeedRow)):
                ids[row.name] = row.id
        return ids

    def due_feeds(self, now: datetime | None = None) -> list[tuple[FeedConfig, FeedState]]:
        now = now or utcnow()
        with self.reading() as session:
            rows = session.scalars(
                select(FeedRow)
                .where(FeedRow.enabled.is_(True))
                .where(or_(FeedRow.next_due_at.is_(None), FeedRow.next_due_at <= now))
                .order_by(FeedRow.next_due_at, FeedRow.id)
            ).all()
            return [(_feed_config(row), _feed_state(row)) for row in rows]

    def feed(self, name: str) -> tuple[FeedConfig, FeedState] | None:
        with self.reading() as session:
            row = session.scalar(select(FeedRow).where(FeedRow.name == name))
            return (_feed_config(row), _feed_state(row)) if row else None

    def record_poll(self, feed_id: int, result: PollResult, health: FeedHealth) -> None:
        """Write validators (only on success) and health after one poll."""
        with self.writing() as session:
            row = session.get(FeedRow, feed_id)
            if row is None:
                return
            if result.status in ("ok", "unchanged", "not_modified"):
                row.etag = result.etag or row.etag
                row.last_modified = result.last_modified or row.last_modified
                row.body_hash = result.body_hash or row.body_hash
                row.feed_title = result.feed_title or row.feed_title
            row.status = health.status
            row.last_attempt_at = health.last_attempt_at
            row.last_success_at = health.last_success_at
            row.consecutive_failures = health.consecutive_failures
            row.last_error = health.last_error
            row.next_due_at = health.next_due_at
            row.last_http_status = result.http_status

    def note_new_entries(self, feed_id: int, count: int) -> None:
        if count <= 0:
            return
        with self.writing() as session:
            row = session.get(FeedRow, feed_id)
            if row is not None:
                row.articles_found += count
                row.last_new_entry_at = utcnow()

    def feed_rows(self) -> list[dict[str, object]]:
        """Every feed with its health, failing ones first (CLI, UI, digest)."""
        with self.reading() as session:
            rows = session.scalars(select(FeedRow)).all()
            out = [
                {
                    "id": r.id,
                    "name": r.name,
                    "url": r.url,
                    "enabled": r.enabled,
                    "interval": r.interval_minutes,
                    "tags": list(r.tags or []),
                    "language": r.language,
                    "status": r.status if r.enabled else "disabled",
                    "last_attempt_at": r.last_attempt_at,
                    "last_success_at": r.last_success_at,
                    "last_new_entry_at": r.last_new_entry_at,
                    "consecutive_failures": r.consecutive_failures,
                    "last_error": r.last_error,
                    "last_http_status": r.last_http_status,
                    "next_due_at": r.next_due_at,
                    "articles_found": r.articles_found,
                    "health_warning": r.health_warning,
                }
                for r in rows
            ]
        order = {"failing": 0, "never_polled": 1, "ok": 2, "disabled": 3}
        return sorted(out, key=lambda f: (order.get(str(f["status"]), 9), str(f["name"])))

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

    # ------------------------------------------------------------------ alert outbox
    def claim_alerts(
        self, *, limit: int = 20, lease_seconds: int = 120, now: datetime | None = None
    ) -> list[AlertMessage]:
        """Atomically lease due alerts to this relay (SKIP LOCKED on PostgreSQL,
        BEGIN IMMEDIATE on SQLite), oldest first so alerts go out in order."""
        now = now or utcnow()
        with self.writing() as session:
            query = (
                select(AlertRow)
                .where(AlertRow.status == "pending", AlertRow.next_attempt_at <= now)
                .order_by(AlertRow.id)
                .limit(limit)
            )
            if self.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            rows = session.scalars(query).all()
            for row in rows:
                row.status = "sending"
                row.lease_until = now + timedelta(seconds=lease_seconds)
                row.attempts += 1
            claimed = [(_claimed(r), r.article_id) for r in rows]
        messages = []
        for message, article_id in claimed:
            message = self._with_article(message, article_id)
            if message.article is None and message.kind in ARTICLE_KINDS:
                self.mark_alert_failed(message.alert_id, "article no longer stored")
                continue
            messages.append(message)
        return messages

    def _with_article(self, message: AlertMessage, article_id: int | None) -> AlertMessage:
        if article_id is None:
            return message
        return dataclass_replace(message, article=self.article(article_id))

    def mark_alert_sent(self, alert_id: int, *, ts: str | None, channel_id: str | None) -> None:
        with self.writing() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(
                    status="sent",
                    slack_ts=ts,
                    slack_channel_id=channel_id,
                    sent_at=utcnow(),
                    lease_until=None,
                    last_error=None,
                )
            )

    def mark_alert_console(self, alert_id: int) -> None:
        """Printed to the console because no Slack token is configured."""
        with self.writing() as session:
            session.execute(update(AlertRow).where(AlertRow.id == alert_id).values(status="console"))

    def reschedule_alert(self, alert_id: int, *, at: datetime, error: str) -> None:
        """Put a claimed alert back in the queue (429, 5xx, Slack unreachable)."""
        with self.writing() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(status="pending", next_attempt_at=at, lease_until=None, last_error=error)
            )

    def mark_alert_failed(self, alert_id: int, reason: str) -> None:
        with self.writing() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(status="failed", lease_until=None, last_error=reason)
            )

    def mark_alert_unknown(self, alert_id: int, reason: str) -> None:
        """The send may or may not have reached Slack: never re-post blindly."""
        with self.writing() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(status="unknown", lease_until=None, last_error=reason)
            )

    def unknown_alerts(self, limit: int = 20) -> list[AlertMessage]:
        """Posts whose outcome is unknown, for reconciliation against Slack's history."""
        with self.reading() as session:
            rows = session.scalars(
                select(AlertRow)
                .where(AlertRow.status == "unknown", AlertRow.kind.in_(POSTING_KINDS))
                .order_by(AlertRow.id)
                .limit(limit)
            ).all()
            claimed = [(_claimed(r), r.article_id) for r in rows]
        return [self._with_article(m, a) for m, a in claimed]

    def alert_channel(self, alert_id: int) -> str | None:
        """The channel (as routed, e.g. `#cities`) an outbox row was for."""
        with self.reading() as session:
            return session.scalar(select(AlertRow.channel).where(AlertRow.id == alert_id))

    def story_alert(self, story_id: int, channel: str) -> dict[str, object] | None:
        """The story's first alert in a channel (its ts, to edit it or reply in its thread)."""
        with self.reading() as session:
            row = session.scalar(
                select(AlertRow).where(
                    AlertRow.story_id == story_id, AlertRow.channel == channel, AlertRow.kind == "article"
                )
            )
            if row is None:
                return None
            return {
                "id": row.id,
                "status": row.status,
                "ts": row.slack_ts,
                "channel_id": row.slack_channel_id or row.channel,
                "article_id": row.article_id,
                "summarised": bool((row.payload or {}).get("summary_ts")),
            }

    def story_outlets(self, story_id: int) -> list[str]:
        """Outlets that carried a story, first article first, each once."""
        with self.reading() as session:
            rows = session.execute(
                select(ArticleRow.outlet, FeedRow.name)
                .join(FeedRow, FeedRow.id == ArticleRow.feed_id)
                .where(ArticleRow.story_id == story_id)
                .order_by(ArticleRow.id)
            ).all()
        return list(dict.fromkeys((outlet or feed) for outlet, feed in rows))

    def stories(self, limit: int = 50) -> list[dict[str, object]]:
        """Recent stories with their size, for `compactwatch stories` and the API."""
        with self.reading() as session:
            rows = session.scalars(
                select(StoryRow)
                .where(StoryRow.member_count > 1)
                .order_by(StoryRow.updated_at.desc())
                .limit(limit)
            ).all()
            out = [
                {"id": r.id, "title": r.title, "members": r.member_count, "updated_at": r.updated_at}
                for r in rows
            ]
        for story in out:
            story["outlets"] = self.story_outlets(int(story["id"]))  # type: ignore[arg-type]
        return out

    def count_recent_posts(self, channel: str, since: datetime) -> int:
        """Story alerts already posted to a channel since `since` (for burst detection)."""
        with self.reading() as session:
            return int(
                session.scalar(
                    select(func.count(AlertRow.id)).where(
                        AlertRow.channel == channel,
                        AlertRow.kind == "article",
                        AlertRow.status == "sent",
                        AlertRow.sent_at >= since,
                    )
                )
                or 0
            )

    def mark_summarised(self, alert_ids: Sequence[int], *, ts: str | None, channel_id: str | None) -> None:
        """Alerts delivered inside one burst summary message."""
        with self.writing() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id.in_(list(alert_ids)))
                .values(
                    status="sent",
                    slack_ts=ts,
                    slack_channel_id=channel_id,
                    sent_at=utcnow(),
                    lease_until=None,
                    payload={"summary_ts": ts},
                )
            )

    def transition_feed_warning(
        self, feed_id: int, *, expected: str, new: str, channel: str, kind: str, text: str
    ) -> bool:
        """Move a feed's warning state and queue its ops message in one transaction; the
        compare-and-set on `expected` makes two relays post it once."""
        now = utcnow()
        with self.writing() as session:
            result = session.execute(
                update(FeedRow)
                .where(FeedRow.id == feed_id, FeedRow.health_warning == expected)
                .values(health_warning=new)
            )
            if not getattr(result, "rowcount", 0):
                return False
            if kind:
                session.add(
                    AlertRow(
                        dedupe_key=f"{kind}:{feed_id}:{now.isoformat()}",
                        kind=kind,
                        channel=channel,
                        payload={"text": text, "feed_id": feed_id},
                        status="pending",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        return True

    def enqueue_ops_message(self, *, channel: str, kind: str, dedupe_key: str, text: str) -> bool:
        """An operational message (feed warning/recovery) in the same outbox as alerts."""
        now = utcnow()
        try:
            with self.writing() as session:
                if session.scalar(select(AlertRow.id).where(AlertRow.dedupe_key == dedupe_key)):
                    return False
                session.add(
                    AlertRow(
                        dedupe_key=dedupe_key,
                        kind=kind,
                        channel=channel,
                        payload={"text": text},
                        status="pending",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return False
        return True

    def requeue_alert(self, alert_id: int, reason: str) -> None:
        """Back to pending: used only once Slack's history proved the message is not there."""
        with self.writing() as session:
            session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id, AlertRow.status == "unknown")
                .values(status="pending", next_attempt_at=utcnow(), last_error=reason)
            )

    def expire_leases(self, now: datetime | None = None) -> int:
        """Alerts left in `sending` by a relay that died become `unknown`, never resent blindly."""
        now = now or utcnow()
        with self.writing() as session:
            result = session.execute(
                update(AlertRow)
                .where(AlertRow.status == "sending", AlertRow.lease_until < now)
                .values(
                    status="unknown",
                    lease_until=None,
                    last_error="relay stopped while sending; outcome unknown",
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def next_alert_due(self) -> datetime | None:
        """When the earliest pending alert falls due (None: nothing pending), so a relay that
        must empty the outbox knows whether waiting a little would let it finish."""
        with self.reading() as session:
            query = select(func.min(AlertRow.next_attempt_at)).where(AlertRow.status == "pending")
            return session.scalar(query)

    def alert_counts(self) -> dict[str, int]:
        with self.reading() as session:
            rows = session.execute(
                select(AlertRow.status, func.count(AlertRow.id)).group_by(AlertRow.status)
            ).all()
            return {status: int(count) for status, count in rows}

    def alerts(
        self, status: str | tuple[str, ...] | None = None, limit: int = 100
    ) -> list[dict[str, object]]:
        """Newest alerts first; `status` (one or several) filters before `limit` applies."""
        with self.reading() as session:
            query = select(AlertRow, ArticleRow.title).join(
                ArticleRow, ArticleRow.id == AlertRow.article_id, isouter=True
            )
            if isinstance(status, str):
                query = query.where(AlertRow.status == status)
            elif status:
                query = query.where(AlertRow.status.in_(status))
            query = query.order_by(AlertRow.id.desc()).limit(limit)
            return [
                {
                    "id": a.id,
                    "kind": a.kind,
                    "article_id": a.article_id,
                    "title": title,
                    "channel": a.channel,
                    "status": a.status,
                    "attempts": a.attempts,
                    "last_error": a.last_error,
                    "slack_ts": a.slack_ts,
                    "created_at": a.created_at,
                    "sent_at": a.sent_at,
                }
                for a, title in session.execute(query).all()
            ]


def open_store(
    database_url: str,
    *,
    migrate: bool = True,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    statement_timeout: float | None = None,
) -> Store:
    """Connect to the database and (by default) apply migrations. Connecting gives up after
    `connect_timeout` seconds; `statement_timeout` bounds each query (the web app's), and
    migrations run before it applies, on a connection without that bound."""
    if statement_timeout and migrate:
        open_store(database_url, connect_timeout=connect_timeout).close()
        migrate = False
    try:
        engine = create_store_engine(
            database_url, connect_timeout=connect_timeout, statement_timeout=statement_timeout
        )
    except SQLAlchemyError as error:
        raise StoreError(f"bad DATABASE_URL: {_friendly(error)}") from None
    store = Store(engine)
    if migrate:
        store.upgrade()
    else:
        store.check()
    return store


# ---------------------------------------------------------------------- helpers
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


ARTICLE_KINDS = ("article", "story_update", "frame_reply")
POSTING_KINDS = (
    "article", "frame_reply", "feed_warning", "feed_recovered", "shift_finding", "shift_ended", "daily_brief"
)  # fmt: skip


def _claimed(row: AlertRow) -> AlertMessage:
    return AlertMessage(
        alert_id=row.id,
        channel=row.channel,
        article=None,
        attempts=row.attempts,
        kind=row.kind,
        story_id=row.story_id,
        payload=dict(row.payload or {}),
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
    candidates = session.execute(
        select(ArticleRow.story_id, ArticleRow.simhash, ArticleRow.title_key)
        .where(ArticleRow.fetched_at >= since, ArticleRow.story_id.is_not(None))
        .order_by(ArticleRow.id.desc())
        .limit(5000)
    ).all()
    for story_id, simhash, title_key in candidates:
        same_title = (
            bool(fingerprint.title_key)
            and len(fingerprint.title_key) >= 20
            and (title_key == fingerprint.title_key)
        )
        near = bin((simhash ^ fingerprint.simhash) & ((1 << 64) - 1)).count("1") <= max_distance
        if same_title or near:
            return session.get(StoryRow, story_id)
    return None


def _feed_config(row: FeedRow) -> FeedConfig:
    return FeedConfig(
        name=row.name,
        url=row.url,
        interval=row.interval_minutes,
        tags=tuple(row.tags or ()),
        language=row.language,
        enabled=row.enabled,
        conditional_get=row.conditional_get,
        max_entries=row.max_entries,
    )


def _feed_state(row: FeedRow) -> FeedState:
    return FeedState(
        feed_id=row.id,
        etag=row.etag,
        last_modified=row.last_modified,
        body_hash=row.body_hash,
        consecutive_failures=row.consecutive_failures,
        last_success_at=row.last_success_at,
    )


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
