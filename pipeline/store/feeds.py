"""Feeds in the store: syncing feeds.yaml, what is due, poll results and health."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select

from pipeline.records import (
    FeedConfig,
    FeedHealth,
    FeedState,
    PollResult,
)
from pipeline.store.base import StoreBase, utcnow
from pipeline.store.tables import (
    FeedRow,
)


class FeedStore(StoreBase):
    """The feeds table: configuration, conditional-GET state and health."""

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
