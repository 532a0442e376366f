"""Every query the weekly digest needs, as functions taking a `Store`.

The digest is built from plain records (`StoredArticle`, `FeedProblem`, `DigestDelivery`),
so `alerts.digest` never sees a session and all SQL stays in `pipeline/store/`. The
functions live here rather than on `Store` so that the digest can evolve without touching
the class every stage shares.

Two rules shape these queries:

* An article belongs to the week compactwatch *found* it in (`fetched_at`), so every
  article is counted in exactly one digest, whatever date its feed claims.
* Analysts' corrections win over the model. The SQL only narrows the candidates (model
  said relevant, or an analyst touched the `relevant` label); the effective label is
  decided by `StoredArticle.label`, the same rule the alerts and the archive use.

Sent digests are recorded per (period start, recipient) in `digests`. A row is claimed as
`sending` before the SMTP conversation starts and becomes `sent` or `failed` afterwards, so
two senders (the scheduler and a manual `--send`) cannot both mail one recipient, and a
crash mid-send leaves `sending`: outcome unknown, never re-sent blindly (only `--force`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError

from pipeline.records import StoredArticle
from pipeline.store.article_sql import CHUNK, latest_classification_id, latest_corrections
from pipeline.store.store import Store, stored_article_from_rows
from pipeline.store.tables import ArticleRow, ClassificationRow, DigestRow, FeedRow, LabelRow

#: A failing feed is worth telling readers about once it has been failing this long (the
#: ops warning in alerts/feed_health.py uses the same default): a single 503 is not news.
FAILING_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class FeedProblem:
    """A feed whose coverage the digest may be missing.

    kind: failing (polls fail), silent (polls succeed but brought nothing new during the
    period) or never_polled (configured but never fetched).
    """

    name: str
    kind: str
    since: datetime | None  # last success (failing) or last new entry (silent)
    failures: int
    error: str | None


@dataclass(frozen=True)
class DigestDelivery:
    """One row of the digests table: a digest for one period and recipient."""

    period_start: datetime
    period_end: datetime
    recipient: str
    status: str  # sending | sent | failed
    error: str | None
    sent_at: datetime | None


# --------------------------------------------------------------------------- articles
def relevant_articles(store: Store, start: datetime, end: datetime) -> list[StoredArticle]:
    """Candidate relevant articles found in [start, end), with corrections attached.

    Returns articles the model called relevant plus any article whose `relevant` label an
    analyst set; callers keep those where `article.label("relevant")` is true. The article
    text is not loaded (the digest quotes evidence sentences, never the body), which keeps a
    500-story week cheap.
    """
    touched = exists(
        select(LabelRow.id).where(LabelRow.article_id == ArticleRow.id, LabelRow.label == "relevant")
    )
    query = (
        select(ArticleRow, FeedRow.name, ClassificationRow)
        .join(FeedRow, FeedRow.id == ArticleRow.feed_id)
        .outerjoin(
            ClassificationRow,
            (ClassificationRow.article_id == ArticleRow.id)
            & (ClassificationRow.id == latest_classification_id()),
        )
        .where(ArticleRow.fetched_at >= start, ArticleRow.fetched_at < end)
        .where(or_(ClassificationRow.relevant.is_(True), touched))
        .order_by(ArticleRow.fetched_at, ArticleRow.id)
    )
    with store.reading() as session:
        rows = session.execute(query).all()
        corrections = latest_corrections(session, [article.id for article, _, _ in rows])
        return [
            # the digest quotes evidence, never the body: leave the text out of memory
            replace(
                stored_article_from_rows(article, feed_name, cls, corrections.get(article.id, {})), text=""
            )
            for article, feed_name, cls in rows
        ]


def outlets_covering_before(store: Store, outlets: Iterable[str], before: datetime) -> set[str]:
    """Which of `outlets` had a relevant article found before `before` (so are not new).

    The outlet of an article is its extracted site name, else its feed's name (as in
    `StoredArticle.outlet`). Relevance is the effective label: the latest analyst value for
    `relevant` when there is one, else the newest classification.
    """
    names = sorted(set(outlets))
    if not names:
        return set()
    latest_label = (
        select(LabelRow.value)
        .where(LabelRow.article_id == ArticleRow.id, LabelRow.label == "relevant")
        .order_by(LabelRow.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_model = (
        select(ClassificationRow.relevant)
        .where(ClassificationRow.article_id == ArticleRow.id)
        .order_by(ClassificationRow.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    outlet = func.coalesce(func.nullif(ArticleRow.outlet, ""), FeedRow.name)
    found: set[str] = set()
    with store.reading() as session:
        for start in range(0, len(names), CHUNK):
            chunk = names[start : start + CHUNK]
            found.update(
                session.scalars(
                    select(outlet)
                    .distinct()
                    .select_from(ArticleRow)
                    .join(FeedRow, FeedRow.id == ArticleRow.feed_id)
                    .where(ArticleRow.fetched_at < before, outlet.in_(chunk))
                    .where(func.coalesce(latest_label, latest_model).is_(True))
                )
            )
    return found


# --------------------------------------------------------------------------- feeds
def feed_problems(store: Store, *, since: datetime, now: datetime | None = None) -> list[FeedProblem]:
    """Enabled feeds the digest could not see through, failing first, then by name.

    failing: the latest polls fail and the last success is over FAILING_AFTER ago (or there
    never was one); silent: polls succeed but no new entry arrived since `since`;
    never_polled: configured but not fetched yet.
    """
    now = now or datetime.now(UTC)
    with store.reading() as session:
        rows = session.scalars(select(FeedRow).where(FeedRow.enabled.is_(True))).all()
    problems: list[FeedProblem] = []
    for row in rows:
        if row.status == "failing":
            if row.last_success_at is None or now - row.last_success_at >= FAILING_AFTER:
                problems.append(
                    FeedProblem(
                        row.name, "failing", row.last_success_at, row.consecutive_failures, row.last_error
                    )
                )
        elif row.status == "never_polled" or row.last_attempt_at is None:
            problems.append(FeedProblem(row.name, "never_polled", None, 0, None))
        elif row.last_new_entry_at is None or row.last_new_entry_at < since:
            problems.append(FeedProblem(row.name, "silent", row.last_new_entry_at, 0, None))
    order = {"failing": 0, "silent": 1, "never_polled": 2}
    return sorted(problems, key=lambda p: (order[p.kind], p.name.casefold()))


def count_enabled_feeds(store: Store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count(FeedRow.id)).where(FeedRow.enabled.is_(True))) or 0)


# --------------------------------------------------------------------------- analysts and model
def corrections_between(store: Store, start: datetime, end: datetime) -> tuple[int, int]:
    """(corrections, distinct articles corrected) made by analysts in [start, end)."""
    with store.reading() as session:
        count, articles = session.execute(
            select(func.count(LabelRow.id), func.count(func.distinct(LabelRow.article_id))).where(
                LabelRow.created_at >= start, LabelRow.created_at < end
            )
        ).one()
    return int(count or 0), int(articles or 0)


def model_version_in_use(store: Store) -> str | None:
    """The model version of the newest classification: what is labelling articles now."""
    with store.reading() as session:
        return session.scalar(
            select(ClassificationRow.model_version).order_by(ClassificationRow.id.desc()).limit(1)
        )


# --------------------------------------------------------------------------- sent digests
def claim_digest(
    store: Store, period_start: datetime, period_end: datetime, recipient: str, *, force: bool = False
) -> str:
    """Reserve the right to send one period's digest to one recipient.

    Returns "claimed" (go ahead: the row is now `sending`), "sent" (already delivered) or
    "sending" (another sender holds it, or a send died with unknown outcome). With `force`,
    a sent or stuck digest is claimed again. A `failed` row is always claimable: a refused
    connection or login must leave the digest re-sendable.
    """
    key = (DigestRow.period_start == period_start) & (DigestRow.recipient == recipient)
    try:
        with store.writing() as session:
            query = select(DigestRow).where(key)
            if store.dialect == "postgresql":
                query = query.with_for_update()
            row = session.scalar(query)
            if row is None:
                session.add(
                    DigestRow(
                        period_start=period_start,
                        period_end=period_end,
                        recipient=recipient,
                        status="sending",
                        error=None,
                        sent_at=None,
                    )
                )
                session.flush()
                return "claimed"
            if row.status in ("sent", "sending") and not force:
                return row.status
            row.status, row.error, row.period_end = "sending", None, period_end
            return "claimed"
    except IntegrityError:
        return "sending"  # another sender inserted the same key a moment ago


def finish_digest(
    store: Store,
    period_start: datetime,
    recipient: str,
    *,
    error: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record the outcome of a claimed send: `sent` when error is None, else `failed`."""
    with store.writing() as session:
        row = session.scalar(
            select(DigestRow).where(DigestRow.period_start == period_start, DigestRow.recipient == recipient)
        )
        if row is None:
            return
        if error is None:
            row.status, row.error, row.sent_at = "sent", None, now or datetime.now(UTC)
        else:
            row.status, row.error = "failed", error[:1000]


def digest_deliveries(store: Store, period_start: datetime | None = None) -> list[DigestDelivery]:
    """Digest rows, newest period first (for tests, the CLI and operators)."""
    query = select(DigestRow).order_by(DigestRow.period_start.desc(), DigestRow.recipient)
    if period_start is not None:
        query = query.where(DigestRow.period_start == period_start)
    with store.reading() as session:
        return [
            DigestDelivery(r.period_start, r.period_end, r.recipient, r.status, r.error, r.sent_at)
            for r in session.scalars(query)
        ]
