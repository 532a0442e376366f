"""The analysts' archive: one Starlette app serving pages, corrections, exports and the API.

`create_app(settings, store)` builds it (tests drive it in-process); `serve_archive()` runs
it under uvicorn for `compactwatch serve` and `compactwatch demo --serve`. Other features
(the Slack interactivity endpoint) join the same app through `extra_routes`; they bring
their own authentication (Slack signatures), so the session and CSRF checks here are per
handler, not global middleware.

Pages read through `ArchiveQueries` (pipeline/store/archive.py: all SQL stays in the
store) and write corrections only through `Store.add_label`, which never touches the
model's own output. Handlers that touch the database are plain functions: Starlette runs
them in its thread pool, so a slow query never blocks the event loop.
"""

from __future__ import annotations

import functools
import logging
import math
import secrets
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive import charts, export, modelcard, text, trends
from archive.auth import (
    CSRF_FIELD,
    Accounts,
    AdaptiveSessionMiddleware,
    Identity,
    LoginGuard,
    SessionRecords,
    client_key,
    csrf_ok,
    csrf_token,
    current_identity,
    end_session,
    safe_next,
    start_session,
    trusted_proxies,
)
from archive.filters import (
    LABEL_NAMES,
    LABEL_PARAMS,
    PAGE_SIZES,
    PARAM_LABELS,
    SHORT_NAMES,
    SORT_NAMES,
    chips,
    page_size,
    parse_filter,
    query_string,
    url,
)
from pipeline.errors import StoreError
from pipeline.sanitize import escape_terminal
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.archive import (
    FRAMES,
    LABELS,
    ArchiveQueries,
    Cursor,
    SearchError,
)
from pipeline.store.shift_queries import findings_between

log = logging.getLogger("compactwatch.archive")
HERE = Path(__file__).resolve().parent
MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_BULK = 500
ALERT_REVIEW_DAYS = 14

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class SecurityHeaders:
    """Headers every response gets: a strict CSP (no inline script or style anywhere, so
    even a templating mistake could not run scraped markup), no framing, no sniffing, and
    no caching of pages that show archive data."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                }
                if not static:
                    extra[b"cache-control"] = b"no-store"
                headers += [(k, v) for k, v in extra.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


# ----------------------------------------------------------------------------- helpers
def _zone(name: str | None) -> tzinfo:
    """The configured display time zone (settings.timezone); UTC if unknown."""
    try:
        return ZoneInfo(name) if name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _when(value: datetime | None, zone: tzinfo = UTC) -> str:
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _day(value: datetime | None, zone: tzinfo = UTC) -> str:
    if value is None:
        return "—"
    return value.astimezone(zone).strftime("%d %b %Y").lstrip("0")


def _ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = (datetime.now(UTC) - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            amount = f"{int(seconds // size)} {unit}"
            return f"in {amount}" if future else f"{amount} ago"
    return "in a moment" if future else "just now"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _templates(zone: tzinfo) -> Jinja2Templates:
    """Jinja with autoescape on for every template, and dates shown in the team's zone."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    env = templates.env
    env.autoescape = True  # every template, whatever its extension: feed text is hostile
    env.filters.update(
        when=functools.partial(_when, zone=zone),
        day=functools.partial(_day, zone=zone),
        ago=_ago,
        pct=_pct,
        safe_url=text.safe_url,
    )
    env.globals["TIMEZONE"] = str(zone)
    env.globals.update(
        LABELS=LABELS,
        FRAMES=FRAMES,
        LABEL_NAMES=LABEL_NAMES,
        SHORT_NAMES=SHORT_NAMES,
        LABEL_PARAMS=LABEL_PARAMS,
        SORT_NAMES=SORT_NAMES,
        PAGE_SIZES=PAGE_SIZES,
        COLORS=charts.COLORS,
        score_bar=charts.score_bar,
        hbar=charts.hbar,
        swatch=charts.swatch,
        snippet_segments=text.snippet_segments,
        url=url,
        CSRF_FIELD=CSRF_FIELD,
    )
    return templates


def _login_required(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Pages need a session: anonymous visitors go to /login and come back afterwards."""

    def redirect(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    if _is_async(handler):

        @functools.wraps(handler)
        async def async_wrapper(self: Archive, request: Request) -> Response:
            identity = await run_in_threadpool(current_identity, request)  # a store read
            if identity is None:
                return redirect(request)
            request.state.identity = identity
            return await handler(self, request)  # type: ignore[no-any-return]

        return async_wrapper

    @functools.wraps(handler)
    def wrapper(self: Archive, request: Request) -> Response:
        identity = current_identity(request)
        if identity is None:
            return redirect(request)
        request.state.identity = identity
        return handler(self, request)  # type: ignore[no-any-return]

    return wrapper


def _is_async(handler: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(handler)


class Archive:
    """Handlers and the state they share (settings, store, queries, templates, limiter)."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store
        self.queries = ArchiveQueries(store)
        self.templates = _templates(_zone(settings.timezone))
        token = settings.api_token.get_secret_value() if settings.api_token else None
        self.generated_token: str | None = None
        if not settings.analysts and not token:
            # Never an open archive: with no accounts and no token, make a one-time token
            # and print it at start (serve_archive), like Jupyter does.
            token = self.generated_token = secrets.token_urlsafe(18)
        self.accounts = Accounts(settings.analysts, token)
        self.limiter = LoginGuard()

    def _record_label(
        self, article_id: int, label: str, value: bool, who: str, note: str | None, form_id: str
    ) -> bool:
        """One analyst correction from a form; the form id makes a double submit a no-op."""
        return self.store.add_label(
            article_id,
            label,
            value,
            source="ui",
            who=who,
            note=note,
            idempotency_key=f"ui:{form_id}:{article_id}:{label}",
        )

    # ------------------------------------------------------------------ rendering
    def render(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        identity: Identity | None = getattr(request.state, "identity", None) or current_identity(request)
        flash = request.session.pop("flash", None) if "flash" in request.session else None
        base = {
            "identity": identity,
            "csrf": csrf_token(request),
            "flash": flash,
            "nav": context.pop("nav", ""),
            "form_id": secrets.token_urlsafe(12),
        }
        base.update(context)
        return self.templates.TemplateResponse(request, name, base, status_code=status)

    def error_page(self, request: Request, status: int, title: str, detail: str = "") -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": title, "detail": detail}, status_code=status)
        return self.render(
            request, "error.html", {"status": status, "title": title, "detail": detail}, status
        )

    def forbidden(self, request: Request) -> Response:
        return self.error_page(
            request,
            403,
            "This form has expired",
            "The security token was missing or did not match (the page may be old, or the "
            "request came from another site). Go back, reload the page and try again.",
        )

    @staticmethod
    def flash(request: Request, message: str, kind: str = "ok") -> None:
        request.session["flash"] = {"message": message[:500], "kind": kind}

    def article_url(self, request: Request) -> Callable[[int], str]:
        base = (self.settings.archive_url or str(request.base_url)).rstrip("/")
        return lambda article_id: f"{base}/articles/{article_id}"

    def card(self) -> dict[str, Any] | None:
        return modelcard.read_card(self.settings.model_dir)

    # ------------------------------------------------------------------ login
    def login_page(self, request: Request) -> Response:
        if current_identity(request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
        return self._login_form(request)

    def _login_form(self, request: Request, error: str = "", status: int = 200, name: str = "") -> Response:
        return self.render(
            request,
            "login.html",
            {
                "mode": self.accounts.mode,
                "next": safe_next(request.query_params.get("next")),
                "error": error,
                "name": name,
            },
            status,
        )

    async def login(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=20)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        key = client_key(request)
        name = _text(form, "name")[:200]
        account = name if self.accounts.mode == "accounts" else "token"
        wait = self.limiter.retry_after(key, account)
        if wait:
            response = self.render(
                request,
                "login.html",
                {
                    "mode": self.accounts.mode,
                    "next": safe_next(_text(form, "next")),
                    "error": (
                        f"Too many failed attempts. Try again in {math.ceil(wait / 60)} min "
                        f"(after {(datetime.now(UTC) + timedelta(seconds=wait)):%H:%M} UTC)."
                    ),
                    "name": "",
                },
                429,
            )
            response.headers["Retry-After"] = str(wait)
            return response
        secret = _text(form, "password")[:1000]
        if self.accounts.mode == "accounts":
            identity = await run_in_threadpool(self.accounts.check_password, name, secret)
        else:
            identity = self.accounts.check_token(secret, name)
        if identity is None:
            self.limiter.failed(key, account)
            log.warning("archive: failed login from %s", escape_terminal(key))
            what = "name or password" if self.accounts.mode == "accounts" else "access token"
            request.scope["query_string"] = f"next={quote(_text(form, 'next'), safe='')}".encode()
            return self._login_form(request, f"Wrong {what}.", 401, name)
        self.limiter.succeeded(key, account)
        await run_in_threadpool(start_session, request, identity)
        return RedirectResponse(safe_next(_text(form, "next")), status_code=303)

    async def logout(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        await run_in_threadpool(end_session, request)  # the cookie is dead server-side too
        return RedirectResponse("/login", status_code=303)

    # ------------------------------------------------------------------ articles
    @_login_required
    def index(self, request: Request) -> Response:
        return RedirectResponse("/articles?relevant=yes", status_code=303)

    @_login_required
    def articles(self, request: Request) -> Response:
        params = request.query_params
        parsed = parse_filter(params)
        limit = page_size(params)
        cursor = None
        if params.get("cursor"):
            try:
                cursor = Cursor.decode(params["cursor"])
            except ValueError:
                parsed.errors.append("The page link was damaged; showing the first page.")
        feeds = dict(self.queries.feed_choices())
        search_error = ""
        try:
            total = self.queries.count(parsed.filter)
            page = self.queries.page(parsed.filter, limit=limit, cursor=cursor)
        except SearchError:
            search_error = "That search could not be run. Try plain words or a quoted phrase."
            total, page = 0, None
        view_params = dict(parsed.params)
        if limit != 50:
            view_params["limit"] = str(limit)
        return self.render(
            request,
            "articles.html",
            {
                "nav": "articles",
                "parsed": parsed,
                "p": view_params,
                "filter": parsed.filter,
                "page": page,
                "rows": page.rows if page else [],
                "total": total,
                "limit": limit,
                "feeds": feeds,
                "languages": self.queries.languages(),
                "chips": chips(parsed, "/articles", feeds),
                "search_error": search_error,
                "export_query": query_string(parsed.params),
                "thresholds": modelcard.thresholds(self.card()),
                "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
            },
            400 if search_error else 200,
        )

    @_login_required
    def article(self, request: Request) -> Response:
        article_id = int(request.path_params["article_id"])
        article = self.store.article(article_id)
        rows = self.queries.rows_by_id([article_id])
        if article is None or not rows:
            return self.error_page(request, 404, "No such article", f"There is no article #{article_id}.")
        row = rows[0]
        paragraphs, evidence = text.highlight(article.text, article.evidence)
        story = self.queries.story(article.story_id) if article.story_id else None
        feed = next((f for f in self.store.feed_rows() if f["id"] == article.feed_id), None)
        history = list(reversed(self.store.label_history(article_id)))
        return self.render(
            request,
            "article.html",
            {
                "nav": "articles",
                "a": article,
                "row": row,
                "paragraphs": paragraphs,
                "evidence": evidence,
                "story": story,
                "feed": feed,
                "history": history,
                "thresholds": modelcard.thresholds(self.card()),
                "back": safe_next(request.query_params.get("back") or "/articles?relevant=yes"),
            },
        )

    @_login_required
    async def label_article(self, request: Request) -> Response:
        """Corrections on one article. "Save" records the labels that changed; "Confirm"
        also records the unchanged ones, marking the article as reviewed by an analyst."""
        form = await request.form(max_files=0, max_fields=30)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        article_id = int(request.path_params["article_id"])
        identity: Identity = request.state.identity
        note = _text(form, "note")[:1000] or None
        confirm = _text(form, "action") == "confirm"
        form_id = _text(form, "form_id")[:40] or secrets.token_urlsafe(12)
        wanted: dict[str, bool] = {}
        for label in LABELS:
            raw = _text(form, LABEL_PARAMS[label])
            if raw in ("yes", "no"):
                wanted[label] = raw == "yes"

        def apply() -> tuple[list[str], bool]:
            current = self.store.article(article_id)
            if current is None:
                return [], False
            changed = []
            for label, value in wanted.items():
                if value == current.label(label) and not confirm:
                    continue
                if self._record_label(article_id, label, value, identity.name, note, form_id):
                    changed.append(label)
            return changed, True

        changed, found = await run_in_threadpool(apply)
        if not found:
            return self.error_page(request, 404, "No such article", f"There is no article #{article_id}.")
        if changed:
            verb = "Confirmed" if confirm else "Saved"
            self.flash(request, f"{verb}: " + ", ".join(SHORT_NAMES[label] for label in changed) + ".")
        else:
            self.flash(request, "Nothing to change: the labels already had these values.", "info")
        back = _text(form, "back")
        target = f"/articles/{article_id}" + (f"?back={quote(safe_next(back), safe='')}" if back else "")
        return RedirectResponse(target, status_code=303)

    @_login_required
    async def bulk_labels(self, request: Request) -> Response:
        """One label set to yes or no on every selected article (the list's bulk bar)."""
        form = await request.form(max_files=0, max_fields=MAX_BULK + 20)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        identity: Identity = request.state.identity
        back = safe_next(_text(form, "back") or "/articles?relevant=yes")
        label = PARAM_LABELS.get(_text(form, "label"), "")
        value_raw = _text(form, "value")
        ids = sorted({int(v) for v in form.getlist("ids") if isinstance(v, str) and v.isdigit()})[:MAX_BULK]
        if label not in LABELS or value_raw not in ("yes", "no"):
            self.flash(request, "Choose a label and a value to apply.", "error")
            return RedirectResponse(back, status_code=303)
        if not ids:
            self.flash(request, "Select at least one article first.", "error")
            return RedirectResponse(back, status_code=303)
        value = value_raw == "yes"
        note = _text(form, "note")[:1000] or None
        form_id = _text(form, "form_id")[:40] or secrets.token_urlsafe(12)

        def apply() -> int:
            done = 0
            for article_id in ids:
                try:
                    if self._record_label(article_id, label, value, identity.name, note, form_id):
                        done += 1
                except ValueError:
                    continue  # deleted meanwhile
            return done

        done = await run_in_threadpool(apply)
        unchanged = len(ids) - done
        message = f"{SHORT_NAMES[label]} set to {value_raw} on {done} article{'s' if done != 1 else ''}"
        if unchanged:
            message += f" ({unchanged} already had it)"
        self.flash(request, message + ".")
        if done:
            request.session["flash"].update({"undo": form_id, "back": back})
        return RedirectResponse(back, status_code=303)

    @_login_required
    async def undo_bulk_labels(self, request: Request) -> Response:
        """Take back one bulk edit (the Undo button in its confirmation): the corrections
        that form recorded are removed unless someone changed those labels since."""
        form = await request.form(max_files=0, max_fields=10)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        identity: Identity = request.state.identity
        back = safe_next(_text(form, "back") or "/articles")
        form_id = _text(form, "undo")[:40]
        if not form_id:
            self.flash(request, "Nothing to undo.", "error")
            return RedirectResponse(back, status_code=303)
        undone = await run_in_threadpool(self.store.undo_labels, f"ui:{form_id}:", identity.name)
        self.flash(request, f"Undone: {undone} correction{'s' if undone != 1 else ''} taken back.")
        return RedirectResponse(back, status_code=303)

    @_login_required
    async def confirm_article(self, request: Request) -> Response:
        """Review queue shortcut: the model was right, record its labels as confirmed."""
        form = await request.form(max_files=0, max_fields=10)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        article_id = int(request.path_params["article_id"])
        identity: Identity = request.state.identity
        form_id = _text(form, "form_id")[:40] or secrets.token_urlsafe(12)

        def apply() -> bool:
            current = self.store.article(article_id)
            if current is None:
                return False
            for label in LABELS:
                self._record_label(
                    article_id, label, current.label(label), identity.name, "confirmed in review", form_id
                )
            return True

        if not await run_in_threadpool(apply):
            return self.error_page(request, 404, "No such article", f"There is no article #{article_id}.")
        self.flash(request, f"Confirmed the labels of article #{article_id}.")
        return RedirectResponse(safe_next(_text(form, "back") or "/review"), status_code=303)

    # ------------------------------------------------------------------ review, trends, feeds, models
    @_login_required
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

    @_login_required
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

    @_login_required
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

    @_login_required
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

    @_login_required
    def export_csv(self, request: Request) -> Response:
        return self._export(request, "csv")

    @_login_required
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
        limit = _int(request.query_params.get("limit"), 50, 1, 500)
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
        item["label_history"] = _jsonable(self.store.label_history(article_id))
        return JSONResponse(item)

    def api_stories(self, request: Request) -> Response:
        if not self._api_allowed(request):
            return self._unauthorized()
        parsed = parse_filter(request.query_params)
        limit = _int(request.query_params.get("limit"), 50, 1, 500)
        offset = _int(request.query_params.get("offset"), 0, 0, 10**7)
        try:
            stories = self.queries.stories(parsed.filter, limit=limit, offset=offset)
        except SearchError:
            return JSONResponse({"error": "invalid search query"}, status_code=400)
        return JSONResponse({"items": _jsonable(stories), "offset": offset, "warnings": parsed.errors})

    def api_feeds(self, request: Request) -> Response:
        if not self._api_allowed(request):
            return self._unauthorized()
        return JSONResponse({"items": _jsonable(self.store.feed_rows())})

    def healthz(self, request: Request) -> Response:
        try:
            self.store.check()
        except StoreError as error:
            return PlainTextResponse(f"database unavailable: {error}", status_code=503)
        return PlainTextResponse("ok")


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


def _text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _int(raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or not raw.strip().lstrip("-").isdigit():
        return default
    return max(low, min(int(raw), high))


def create_app(settings: Settings, store: Store, extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The archive as an ASGI app. `extra_routes` (e.g. `/slack/actions`) are served by the
    same app and handle their own authentication."""
    archive = Archive(settings, store)
    secret = settings.secret_key.get_secret_value() if settings.secret_key else secrets.token_urlsafe(32)
    routes: list[BaseRoute] = [
        Route("/", archive.index),
        Route("/login", archive.login_page, methods=["GET"]),
        Route("/login", archive.login, methods=["POST"]),
        Route("/logout", archive.logout, methods=["POST"]),
        Route("/articles", archive.articles, methods=["GET"]),
        Route("/articles/labels", archive.bulk_labels, methods=["POST"]),
        Route("/articles/labels/undo", archive.undo_bulk_labels, methods=["POST"]),
        Route("/articles/{article_id:int}", archive.article, methods=["GET"]),
        Route("/articles/{article_id:int}/labels", archive.label_article, methods=["POST"]),
        Route("/articles/{article_id:int}/confirm", archive.confirm_article, methods=["POST"]),
        Route("/review", archive.review),
        Route("/trends", archive.trends),
        Route("/feeds", archive.feeds),
        Route("/models", archive.models),
        Route("/export.csv", archive.export_csv),
        Route("/export.jsonl", archive.export_jsonl),
        Route("/api/articles", archive.api_articles),
        Route("/api/articles/{article_id:int}", archive.api_article),
        Route("/api/stories", archive.api_stories),
        Route("/api/feeds", archive.api_feeds),
        Route("/healthz", archive.healthz),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
        *extra_routes,
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        titles = {404: "Page not found", 405: "Method not allowed", 413: "Request too large"}
        return await run_in_threadpool(archive.error_page, request, status, titles.get(status, "Error"))

    async def store_error(request: Request, exc: Exception) -> Response:
        log.error("archive: %s", exc)
        return await run_in_threadpool(
            archive.error_page, request, 503, "Database unavailable", "Try again in a moment."
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("archive: unexpected error on %s", request.url.path, exc_info=exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "internal error"}, status_code=500)
        return PlainTextResponse("Internal error: the archive logged it.", status_code=500)

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(AdaptiveSessionMiddleware, secret_key=secret),
        ],
        exception_handlers={HTTPException: http_error, StoreError: store_error, 500: server_error},
        max_body_size=MAX_BODY_BYTES,
    )
    app.state.archive = archive
    app.state.sessions = SessionRecords(store, archive.accounts)
    app.state.login_token = archive.generated_token
    return app


def serve_archive(settings: Settings, store: Store | None = None) -> None:
    """Run the archive under uvicorn on settings.web_host:web_port until Ctrl-C."""
    import uvicorn

    from pipeline.store import open_store

    own_store = store is None
    store = store or open_store(
        settings.database_url,
        connect_timeout=settings.database_connect_timeout,
        statement_timeout=settings.web_statement_timeout,
    )
    app = create_app(settings, store)
    where = f"http://{settings.web_host}:{settings.web_port}"
    print(f"compactwatch archive on {where}  (Ctrl-C stops)")
    if app.state.login_token:
        print(
            "no analyst accounts or API token are configured: log in with this one-time token\n"
            f"  {app.state.login_token}\n"
            "(set COMPACTWATCH_ANALYSTS or COMPACTWATCH_API_TOKEN to choose your own)"
        )
    try:
        uvicorn.run(
            app,
            host=settings.web_host,
            port=settings.web_port,
            log_level=settings.log_level.lower() if settings.log_level else "info",
            proxy_headers=bool(trusted_proxies(settings)),
            forwarded_allow_ips=trusted_proxies(settings),
            server_header=False,
        )
    finally:
        if own_store:
            store.close()


class ArchiveThread:
    """The archive served by uvicorn in a background thread: for `compactwatch run --web`
    (beside the scheduler), the browser tests and the screenshot tool.

    Port 0 picks a free port; `url` is known once `start()` returns.
    """

    def __init__(self, app: Starlette, host: str = "127.0.0.1", port: int = 0):
        import socket
        import threading

        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.host, self.port = self._socket.getsockname()[:2]
        trusted = trusted_proxies(app.state.archive.settings)
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            server_header=False,
            proxy_headers=bool(trusted),
            forwarded_allow_ips=trusted,
        )
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self._socket]}, name="archive", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ArchiveThread:
        import time

        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the archive server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def __enter__(self) -> ArchiveThread:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
