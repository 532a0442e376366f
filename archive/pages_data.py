"""Data out of the archive: CSV/JSONL exports of a view, the token-protected JSON API and
the health check.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)

from archive import export
from archive.auth import (
    current_identity,
)
from archive.filters import (
    parse_filter,
)
from archive.web_support import ArchiveBase, int_param, jsonable, login_required
from pipeline.errors import StoreError
from pipeline.store.archive import (
    Cursor,
    SearchError,
)


class DataPages(ArchiveBase):
    """Exports, the JSON API and /healthz."""

    # ------------------------------------------------------------------ export
    def _export(self, request: Request, kind: str) -> Response:
        parsed = parse_filter(request.query_params)
        rows = self.queries.iter_rows(parsed.filter)
        link = self.article_url(request)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
        if kind == "csv":
            body: Iterator[str] = export.csv_chunks(rows, link)
            media, ext = "text/csv; charset=utf-8", "csv"
        else:
            body = export.jsonl_chunks(rows, link)
            media, ext = "application/x-ndjson; charset=utf-8", "jsonl"
        return StreamingResponse(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="compactwatch-articles-{stamp}.{ext}"'},
        )

    @login_required
    def export_csv(self, request: Request) -> Response:
        return self._export(request, "csv")

    @login_required
    def export_jsonl(self, request: Request) -> Response:
        return self._export(request, "jsonl")

    # ------------------------------------------------------------------ JSON API
    def _api_allowed(self, request: Request) -> bool:
        """Bearer api_token (scripts) or a logged-in session (the browser)."""
        return self.accounts.check_bearer(request.headers.get("authorization")) or (
            current_identity(request) is not None
        )

    def _unauthorized(self) -> Response:
        return JSONResponse(
            {"error": "unauthorized", "detail": "send Authorization: Bearer <api token>"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="compactwatch"'},
        )

    def api_articles(self, request: Request) -> Response:
        if not self._api_allowed(request):
            return self._unauthorized()
        parsed = parse_filter(request.query_params)
        limit = int_param(request.query_params.get("limit"), 50, 1, 500)
        cursor = None
        if request.query_params.get("cursor"):
            try:
                cursor = Cursor.decode(request.query_params["cursor"])
            except ValueError:
                return JSONResponse({"error": "bad cursor"}, status_code=400)
        try:
            page = self.queries.page(parsed.filter, limit=limit, cursor=cursor)
            total = self.queries.count(parsed.filter)
        except SearchError:
            return JSONResponse({"error": "invalid search query"}, status_code=400)
        link = self.article_url(request)
        return JSONResponse(
            {
                "count": total,
                "start": page.start,
                "items": [export.record(r, link(r.id)) for r in page.rows],
                "next_cursor": page.next_cursor,
                "prev_cursor": page.prev_cursor,
                "warnings": parsed.errors,
            }
        )

    def api_article(self, request: Request) -> Response:
        if not self._api_allowed(request):
            return self._unauthorized()
        article_id = int(request.path_params["article_id"])
        rows = self.queries.rows_by_id([article_id])
        article = self.store.article(article_id)
        if not rows or article is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        item = export.record(rows[0], self.article_url(request)(article_id))
        item["text"] = article.text
        item["extraction_detail"] = article.extraction_detail
        item["label_history"] = jsonable(self.store.label_history(article_id))
        return JSONResponse(item)

    def api_stories(self, request: Request) -> Response:
        if not self._api_allowed(request):
            return self._unauthorized()
        parsed = parse_filter(request.query_params)
        limit = int_param(request.query_params.get("limit"), 50, 1, 500)
        offset = int_param(request.query_params.get("offset"), 0, 0, 10**7)
        try:
            stories = self.queries.stories(parsed.filter, limit=limit, offset=offset)
        except SearchError:
            return JSONResponse({"error": "invalid search query"}, status_code=400)
        return JSONResponse({"items": jsonable(stories), "offset": offset, "warnings": parsed.errors})

    def api_feeds(self, request: Request) -> Response:
        if not self._api_allowed(request):
            return self._unauthorized()
        return JSONResponse({"items": jsonable(self.store.feed_rows())})

    def healthz(self, request: Request) -> Response:
        try:
            self.store.check()
        except StoreError as error:
            return PlainTextResponse(f"database unavailable: {error}", status_code=503)
        return PlainTextResponse("ok")
