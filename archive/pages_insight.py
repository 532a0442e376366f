"""The pages that look across the archive: review queue, trends, feeds and models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import (
    Response,
)

from archive import modelcard, trends
from archive.filters import (
    page_size,
    parse_filter,
    query_string,
)
from archive.web_support import ALERT_REVIEW_DAYS, ArchiveBase, login_required
from pipeline.store.archive import (
    SearchError,
)
from pipeline.store.shift_queries import findings_between


class InsightPages(ArchiveBase):
    """Review queue, trends, feed health and the model card."""

    # ------------------------------------------------------------------ review, trends, feeds, models
    @login_required
    def review(self, request: Request) -> Response:
        card = self.card()
        thresholds = modelcard.thresholds(card)
        limit = page_size(request.query_params, default=25)
        since = datetime.now(UTC) - timedelta(days=ALERT_REVIEW_DAYS)
        return self.render(
            request,
            "review.html",
            {
                "nav": "review",
                "card": card,
                "thresholds": thresholds,
                "uncertain": self.queries.uncertain(thresholds, limit=limit),
                "alerts": self.queries.unconfirmed_alerts(since=since, limit=limit),
                "alert_days": ALERT_REVIEW_DAYS,
                "limit": limit,
            },
        )

    @login_required
    def trends(self, request: Request) -> Response:
        params = request.query_params
        period = params.get("period", "90")
        days = {"30": 30, "90": 90, "365": 365}.get(period)
        if period not in ("30", "90", "365", "all"):
            period = "90"
        parsed = parse_filter(params, default_since_days=days if "from" not in params else None)
        bucket = params.get("bucket", "week")
        bucket = bucket if bucket in ("day", "week") else "week"
        by = params.get("by", "outlet")
        by = by if by in ("outlet", "language") else "outlet"
        f = parsed.filter
        last = ((f.until - timedelta(days=1)) if f.until else datetime.now(UTC)).date()
        first = f.since.date() if f.since else None
        search_error = ""
        try:
            by_outlet = self.queries.daily_counts(f, "outlet")
            by_language = self.queries.daily_counts(f, "language")
        except SearchError:
            search_error = "That search could not be run. Try plain words or a quoted phrase."
            by_outlet, by_language = [], []
        grouped = by_outlet if by == "outlet" else by_language
        shifts = findings_between(self.store, f.since, f.until)  # markers: where a shift alert fired
        marks = [(x.started_at, x.finding.headline) for x in shifts]
        main = trends.build(grouped, bucket=bucket, first=first, last=last, findings=marks)
        languages = trends.group_rows(by_language)
        outlets = main.groups if by == "outlet" else trends.group_rows(by_outlet)
        view_params = dict(parsed.params)
        for key, value in (("period", period), ("bucket", bucket), ("by", by)):
            view_params[key] = value
        return self.render(
            request,
            "trends.html",
            {
                "nav": "trends",
                "p": view_params,
                "parsed": parsed,
                "view": main,
                "outlets": outlets[:15],
                "languages": languages[:12],
                "max_outlet": max((g.relevant for g in outlets), default=0),
                "max_language": max((g.relevant for g in languages), default=0),
                "first": first,
                "last": last,
                "period": period,
                "bucket": main.bucket,
                "by": by,
                "feeds": dict(self.queries.feed_choices()),
                "languages_all": self.queries.languages(),
                "search_error": search_error,
                "list_query": query_string(parsed.params),
                "shifts": shifts,
            },
        )

    @login_required
    def feeds(self, request: Request) -> Response:
        rows = self.store.feed_rows()
        counts: dict[str, int] = {}
        for row in rows:
            counts[str(row["status"])] = counts.get(str(row["status"]), 0) + 1
        return self.render(
            request,
            "feeds.html",
            {"nav": "feeds", "feeds": rows, "counts": counts, "polling": polling_recently(rows)},
        )

    @login_required
    def models(self, request: Request) -> Response:
        card = self.card()
        return self.render(
            request,
            "models.html",
            {
                "nav": "models",
                "card": card,
                "card_path": Path(self.settings.model_dir) / modelcard.CARD_FILE,
                "thresholds": modelcard.thresholds(card),
                "test_rows": modelcard.metric_rows(card, "test") if card else [],
                "cv_rows": modelcard.metric_rows(card, "cv") if card else [],
                "history": modelcard.history(card) if card else [],
                "heldout": modelcard.heldout(card),
                "pretty": modelcard.pretty,
                "versions": self.queries.model_versions(),
                "corrections": self.queries.correction_counts(),
            },
        )


def polling_recently(rows: Sequence[dict[str, Any]], now: datetime | None = None) -> bool:
    """Whether something is polling these feeds on schedule. The archive may run alone
    (`compactwatch serve`) while no scheduler does; then a "next poll" time would be a
    promise nobody keeps. A scheduler is taken to be running when some enabled feed was
    attempted within twice its interval plus a quarter of an hour."""
    now = now or datetime.now(UTC)
    for row in rows:
        attempted = row.get("last_attempt_at")
        if not row.get("enabled", True) or not isinstance(attempted, datetime):
            continue
        attempted = attempted if attempted.tzinfo else attempted.replace(tzinfo=UTC)
        interval = int(row.get("interval") or row.get("interval_minutes") or 30)
        if now - attempted <= timedelta(minutes=2 * interval + 15):
            return True
    return False
