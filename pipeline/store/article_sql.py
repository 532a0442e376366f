"""SQL pieces every reader of articles shares: the article's date, its newest
classification, and analysts' latest corrections read in batches.

One definition each, so the archive, the digest and the shift detectors agree on what an
article's date is and which label wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, ScalarSelect, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session, aliased

from pipeline.store.tables import ArticleRow, ClassificationRow, LabelRow, UTCDateTime

CHUNK = 500  # ids per IN (...) list: well inside SQLite's and PostgreSQL's parameter limits


def article_date() -> ColumnElement[datetime]:
    """Published time when plausible, else fetch time (no date, or one in the future)."""
    expr = case(
        (
            or_(ArticleRow.published_at.is_(None), ArticleRow.published_at > ArticleRow.fetched_at),
            ArticleRow.fetched_at,
        ),
        else_=ArticleRow.published_at,
    )
    return type_coerce(expr, UTCDateTime())


def latest_classification_id() -> ScalarSelect[int]:
    """The newest classification row id of the outer article (a re-run model wins).

    Correlated on articles.id so it reads one article's rows through the article_id index;
    built on an alias so it never correlates with the outer ClassificationRow instead.
    """
    newer = aliased(ClassificationRow)
    return select(func.max(newer.id)).where(newer.article_id == ArticleRow.id).scalar_subquery()


def latest_corrections(session: Session, ids: Sequence[int]) -> dict[int, dict[str, bool]]:
    """Latest analyst value per (article, label); later rows overwrite earlier ones."""
    out: dict[int, dict[str, bool]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        labels = session.scalars(select(LabelRow).where(LabelRow.article_id.in_(chunk)).order_by(LabelRow.id))
        for label in labels:
            out.setdefault(label.article_id, {})[label.label] = bool(label.value)
    return out
