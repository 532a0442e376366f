"""What the shift detectors read and write: story points, findings, their outbox rows.

Functions taking a `Store` (like `digest_queries`), so the shift work never grows the class
every stage shares and all SQL stays in `pipeline/store/`.

* A story's time is when it began: its earliest member's date, where an article's date is
  its published time when plausible (not after it was fetched) and its fetch time
  otherwise, the same rule as the archive's Trends page, so markers land where the bars are.
  (Fetch time alone would make a new feed's back catalogue look like a surge.)
* Labels are the effective ones: the latest analyst correction wins over the model.
* Opening a finding, queueing its Slack messages, and ending one with its "ended" notes
  each happen in one transaction: the outbox guarantees the rest (exactly once, retries).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.records import BLOCKED_ADDRESS, AlertTarget
from pipeline.shifts import ENDS_NOTIFIED, ArticlePoint, Finding, Reconciled, StoredFinding
from pipeline.store.article_sql import CHUNK, article_date, latest_classification_id, latest_corrections
from pipeline.store.store import Store, utcnow
from pipeline.store.tables import (
    AlertRow,
    ArticleRow,
    ClassificationRow,
    FeedRow,
    ShiftFindingRow,
)

FRAMES = ("pro_city_inclusion", "sovereignty_framing")
SHIFT_KINDS = ("shift_finding", "shift_ended", "daily_brief")

TargetsFn = Callable[[Finding], Sequence[AlertTarget]]


# --------------------------------------------------------------------------- points
def article_points(store: Store, since: datetime, until: datetime) -> list[ArticlePoint]:
    """Relevant articles of the stories that began in [since, until), effective labels.

    An article's date is never after its fetch time, so `fetched_at >= since` (indexed) is a
    safe superset of the members of those stories.
    """
    latest = latest_classification_id()
    outlet = func.coalesce(func.nullif(ArticleRow.outlet, ""), FeedRow.name)
    query = (
        select(
            ArticleRow.id,
            ArticleRow.story_id,
            ArticleRow.title,
            # a page refused as a private address is never linked (pipeline.records.BLOCKED_ADDRESS)
            case((ArticleRow.extraction_status == BLOCKED_ADDRESS, ""), else_=ArticleRow.url),
            outlet,
            func.coalesce(ArticleRow.language, FeedRow.language, "?"),
            ClassificationRow.relevant,
            ClassificationRow.pro_city_inclusion,
            ClassificationRow.sovereignty_framing,
        )
        .join(FeedRow, FeedRow.id == ArticleRow.feed_id)
        .outerjoin(
            ClassificationRow,
            (ClassificationRow.article_id == ArticleRow.id) & (ClassificationRow.id == latest),
        )
        .where(ArticleRow.fetched_at >= since)
        .order_by(ArticleRow.id)
    )
    with store.reading() as session:
        rows = session.execute(query).all()
        corrections = latest_corrections(session, [r[0] for r in rows])
        kept = []
        for aid, story_id, title, url, outlet_name, language, relevant, city, sov in rows:
            labels = {
                "relevant": bool(relevant),
                "pro_city_inclusion": bool(city),
                "sovereignty_framing": bool(sov),
            }
            labels.update(corrections.get(aid, {}))
            if labels["relevant"]:
                frames = frozenset(f for f in FRAMES if labels[f])
                kept.append(
                    (
                        aid,
                        story_id if story_id is not None else -aid,
                        title,
                        url,
                        outlet_name,
                        language,
                        frames,
                    )
                )
        starts = _story_starts(session, sorted({k[1] for k in kept if k[1] > 0}))
        singles = _article_dates(session, [k[0] for k in kept if k[1] < 0])
    points = []
    for aid, story_id, title, url, outlet_name, language, frames in kept:
        began = starts.get(story_id) if story_id > 0 else singles.get(aid)
        if began is None or not since <= began < until:
            continue
        points.append(
            ArticlePoint(
                aid, story_id, began, title or "(untitled)", url, str(outlet_name), str(language), frames
            )
        )
    return points


def _story_starts(session: Session, story_ids: Sequence[int]) -> dict[int, datetime]:
    """When each story began: the earliest date of any member (relevant or not)."""
    date = article_date()
    out: dict[int, datetime] = {}
    for start in range(0, len(story_ids), CHUNK):
        chunk = story_ids[start : start + CHUNK]
        rows = session.execute(
            select(ArticleRow.story_id, func.min(date))
            .where(ArticleRow.story_id.in_(chunk))
            .group_by(ArticleRow.story_id)
        ).all()
        out.update({int(sid): when for sid, when in rows if when is not None})
    return out


def _article_dates(session: Session, ids: Sequence[int]) -> dict[int, datetime]:
    date = article_date()
    out: dict[int, datetime] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        out.update(
            {
                int(i): d
                for i, d in session.execute(select(ArticleRow.id, date).where(ArticleRow.id.in_(chunk)))
            }
        )
    return out


# --------------------------------------------------------------------------- findings
def open_finding_keys(store: Store) -> set[str]:
    with store.reading() as session:
        return set(
            session.scalars(select(ShiftFindingRow.active_key).where(ShiftFindingRow.active_key.is_not(None)))
        )


def apply_findings(
    store: Store,
    reconciled: Reconciled,
    *,
    targets: TargetsFn,
    extra_payload: dict[str, object] | None = None,
    now: datetime | None = None,
) -> tuple[list[int], list[int]]:
    """Open new findings with their alerts and end finished ones with their "ended" notes,
    in one transaction. Returns (opened ids, ended ids); ([], []) when another process
    opened one of the same conditions first (the next round sees it open)."""
    if not reconciled.open and not reconciled.end:
        return [], []
    now = now or utcnow()
    extra = dict(extra_payload or {})
    opened: list[int] = []
    ended: list[int] = []
    try:
        with store.writing() as session:
            for finding in reconciled.open:
                row = ShiftFindingRow(
                    kind=finding.kind,
                    key=finding.key,
                    active_key=finding.key,
                    headline=finding.headline,
                    payload=finding.to_dict(),
                    period_start=finding.period_start,
                    period_end=finding.period_end,
                    started_at=now,
                )
                session.add(row)
                session.flush()
                opened.append(row.id)
                for target in {t.channel: t for t in reversed(list(targets(finding)))}.values():
                    session.add(
                        AlertRow(
                            dedupe_key=f"shift:{row.id}:{target.channel}",
                            kind="shift_finding",
                            channel=target.channel,
                            route=target.route,
                            payload={"finding_id": row.id, "finding": finding.to_dict(), **extra},
                            status="pending",
                            next_attempt_at=target.not_before or now,
                            created_at=now,
                        )
                    )
            for key in reconciled.end:
                row = session.scalar(select(ShiftFindingRow).where(ShiftFindingRow.active_key == key))
                if row is None:
                    continue
                row.active_key = None
                row.ended_at = now
                ended.append(row.id)
                if row.kind not in ENDS_NOTIFIED:
                    continue
                firsts = session.scalars(
                    select(AlertRow).where(
                        AlertRow.kind == "shift_finding", AlertRow.dedupe_key.like(f"shift:{row.id}:%")
                    )
                ).all()
                for first in firsts:
                    session.add(
                        AlertRow(
                            dedupe_key=f"shift_end:{row.id}:{first.channel}",
                            kind="shift_ended",
                            channel=first.channel,
                            route=first.route,
                            payload={
                                "finding_id": row.id,
                                "finding": dict(row.payload or {}),
                                "ended_at": now.isoformat(),
                                **extra,
                            },
                            status="pending",
                            next_attempt_at=max(now, first.next_attempt_at),
                            created_at=now,
                        )
                    )
    except IntegrityError:
        return [], []
    return opened, ended


def shift_parent(store: Store, finding_id: int, channel: str) -> dict[str, object] | None:
    """The finding's first message in a channel (to reply in its thread)."""
    with store.reading() as session:
        row = session.scalar(select(AlertRow).where(AlertRow.dedupe_key == f"shift:{finding_id}:{channel}"))
        if row is None:
            return None
        return {"status": row.status, "ts": row.slack_ts, "channel_id": row.slack_channel_id or row.channel}


def findings_between(store: Store, since: datetime | None, until: datetime | None) -> list[StoredFinding]:
    """Findings that started in [since, until), oldest first (trends markers, digest)."""
    query = select(ShiftFindingRow).order_by(ShiftFindingRow.started_at, ShiftFindingRow.id)
    if since is not None:
        query = query.where(ShiftFindingRow.started_at >= since)
    if until is not None:
        query = query.where(ShiftFindingRow.started_at < until)
    with store.reading() as session:
        rows = session.scalars(query).all()
        return [
            StoredFinding(r.id, Finding.from_dict(dict(r.payload or {})), r.started_at, r.ended_at)
            for r in rows
        ]


def enqueue_brief(
    store: Store, *, day: str, target: AlertTarget, payload: dict[str, object], now: datetime | None = None
) -> bool:
    """Queue one route's daily brief for `day`; False when it was queued before."""
    return store.enqueue_once(
        dedupe_key=f"brief:{day}:{target.channel}",
        kind="daily_brief",
        channel=target.channel,
        route=target.route,
        payload=payload,
        not_before=target.not_before,
        now=now,
    )
