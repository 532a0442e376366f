"""The alert outbox in the store: claiming due messages (FOR UPDATE SKIP LOCKED on
PostgreSQL), recording what Slack answered, follow-ups, ops messages, leases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace as dataclass_replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from pipeline.records import (
    AlertMessage,
)
from pipeline.store.base import StoreBase, utcnow
from pipeline.store.tables import (
    AlertRow,
    ArticleRow,
    FeedRow,
    StoryRow,
)

# Kinds whose outbox row is about an article; kinds that post a new Slack message (whose
# unknown outcome is reconciled from channel history).
ARTICLE_KINDS = ("article", "story_update", "frame_reply")
POSTING_KINDS = (
    "article", "frame_reply", "feed_warning", "feed_recovered", "shift_finding", "shift_ended", "daily_brief"
)  # fmt: skip


class OutboxStore(StoreBase):
    """The alerts table: the relay's queue and its history."""

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
                .values(**_delivered(ts, channel_id), last_error=None)
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
                .values(**_delivered(ts, channel_id), payload={"summary_ts": ts})
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
        return self.enqueue_once(dedupe_key=dedupe_key, kind=kind, channel=channel, payload={"text": text})

    def enqueue_once(
        self,
        *,
        dedupe_key: str,
        kind: str,
        channel: str,
        payload: dict[str, object],
        route: str | None = None,
        not_before: datetime | None = None,
        now: datetime | None = None,
    ) -> bool:
        """Queue one outbox message in its own transaction, unless a message with the same
        `dedupe_key` exists (False then: a second relay or a rerun adds nothing)."""
        now = now or utcnow()
        try:
            with self.writing() as session:
                if session.scalar(select(AlertRow.id).where(AlertRow.dedupe_key == dedupe_key)):
                    return False
                session.add(
                    AlertRow(
                        dedupe_key=dedupe_key,
                        kind=kind,
                        channel=channel,
                        route=route,
                        payload=payload,
                        status="pending",
                        next_attempt_at=not_before or now,
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


def _delivered(ts: str | None, channel_id: str | None) -> dict[str, object]:
    """The columns of an alert that reached Slack (alone or inside a burst summary)."""
    return {
        "status": "sent",
        "slack_ts": ts,
        "slack_channel_id": channel_id,
        "sent_at": utcnow(),
        "lease_until": None,
    }


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
