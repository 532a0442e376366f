"""SQLAlchemy tables of the store. Only `pipeline.store` imports this module."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class FeedRow(Base):
    """A feed from feeds.yaml with its HTTP validators and health."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    interval_minutes: Mapped[int] = mapped_column(Integer, default=30)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str] = mapped_column(String(16), default="en")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    conditional_get: Mapped[bool] = mapped_column(Boolean, default=True)
    max_entries: Mapped[int] = mapped_column(Integer, default=50)
    # HTTP validators and change detection
    etag: Mapped[str | None] = mapped_column(String(512))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    feed_title: Mapped[str | None] = mapped_column(String(500))
    # health
    status: Mapped[str] = mapped_column(String(20), default="never_polled")
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_new_entry_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_http_status: Mapped[int | None] = mapped_column(Integer)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    articles_found: Mapped[int] = mapped_column(Integer, default=0)
    # ops warnings already posted: none | failing | silent (so one warning, one recovery)
    health_warning: Mapped[str] = mapped_column(String(20), default="none")


class StoryRow(Base):
    """A cluster of articles telling one story (syndicated copies, near-duplicates)."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str] = mapped_column(String(500), index=True)
    simhash: Mapped[int] = mapped_column(BigInteger)
    first_article_id: Mapped[int | None] = mapped_column(Integer)
    member_count: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ArticleRow(Base):
    """One fetched article: the feed's entry, the extracted text and how extraction went."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    guid: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(500))
    outlet: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    extraction_status: Mapped[str] = mapped_column(String(30))
    extraction_detail: Mapped[str | None] = mapped_column(Text)
    text_hash: Mapped[str] = mapped_column(String(64), index=True)
    title_key: Mapped[str] = mapped_column(String(500), index=True)
    simhash: Mapped[int] = mapped_column(BigInteger)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"), index=True)


class ClassificationRow(Base):
    """The model's own output for an article; never edited by analysts (see LabelRow)."""

    __tablename__ = "classifications"
    __table_args__ = (
        UniqueConstraint("article_id", "model_version"),
        Index("ix_classifications_article_latest", "article_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(30), default="ok")
    relevant: Mapped[bool] = mapped_column(Boolean)
    relevance: Mapped[float] = mapped_column(Float)
    pro_city_inclusion: Mapped[bool] = mapped_column(Boolean)
    pro_city_inclusion_score: Mapped[float] = mapped_column(Float)
    sovereignty_framing: Mapped[bool] = mapped_column(Boolean)
    sovereignty_framing_score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LabelRow(Base):
    """An analyst's correction of one label on one article (from Slack or the archive UI)."""

    __tablename__ = "labels"
    __table_args__ = (Index("ix_labels_article_label_latest", "article_id", "label", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(40))  # relevant | pro_city_inclusion | sovereignty_framing
    value: Mapped[bool] = mapped_column(Boolean)
    previous_value: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20))  # slack | ui
    who: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[str | None] = mapped_column(String(100))
    alert_id: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AlertRow(Base):
    """The outbox: one row per Slack message to send (unique per dedupe key).

    status: pending → sending (leased) → sent | failed | unknown (a send whose outcome is
    not known: never re-posted blindly, reconciled or shown to operators).
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="article")  # article | feed_health | ...
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    story_id: Mapped[int | None] = mapped_column(Integer, index=True)
    channel: Mapped[str] = mapped_column(String(200))
    route: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    slack_ts: Mapped[str | None] = mapped_column(String(50))
    slack_channel_id: Mapped[str | None] = mapped_column(String(50))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DigestRow(Base):
    """A weekly digest sent (or attempted) for one period and recipient."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("period_start", "recipient"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))  # sent | failed
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ArchiveSessionRow(Base):
    """A logged-in archive session (issue 12). The cookie carries a random session id; only
    its SHA-256 is stored. Logout, a password change and `compactwatch sessions revoke` end
    sessions here, so a copied cookie stops working at once instead of living for 7 days."""

    __tablename__ = "archive_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the cookie's id
    user_name: Mapped[str] = mapped_column(String(200), index=True)
    via: Mapped[str] = mapped_column(String(20))  # account | token
    credential: Mapped[str] = mapped_column(String(64))  # fingerprint of the password hash / token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TaskLeaseRow(Base):
    """A lease on a unit of distributed work (`feed:<id>` for a feed poll, issue 11).

    The Celery runner delivers tasks at least once; a lease makes the effect happen once at a
    time: whoever holds an unexpired lease for a key does the work, anyone else skips it.
    """

    __tablename__ = "task_leases"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    token: Mapped[str] = mapped_column(String(64))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ShiftFindingRow(Base):
    """A shift finding (volume surge, frame-share shift, frame spread), issue 14.

    `active_key` holds the finding's condition key while it is open and NULL once it ended:
    its unique index makes "one open finding per condition" hold across processes, so a
    condition that persists is never announced twice.
    """

    __tablename__ = "shift_findings"
    __table_args__ = (Index("ix_shift_findings_started", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # volume | frame_shift | frame_spread
    key: Mapped[str] = mapped_column(String(300), index=True)
    active_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    headline: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime())
    period_end: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
