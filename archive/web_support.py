"""Plumbing shared by the archive's pages: security headers, template set-up and filters,
the login-required decorator, form helpers and `ArchiveBase` (the state every page shares,
rendering, flash messages).
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from archive import charts, modelcard, text
from archive.auth import (
    CSRF_FIELD,
    Accounts,
    Identity,
    LoginGuard,
    csrf_token,
    current_identity,
)
from archive.filters import (
    LABEL_NAMES,
    LABEL_PARAMS,
    PAGE_SIZES,
    SHORT_NAMES,
    SORT_NAMES,
    url,
)
from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.archive import (
    FRAMES,
    LABELS,
    ArchiveQueries,
)

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


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
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


def login_required(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Pages need a session: anonymous visitors go to /login and come back afterwards."""

    def redirect(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    if _is_async(handler):

        @functools.wraps(handler)
        async def async_wrapper(self: ArchiveBase, request: Request) -> Response:
            identity = await run_in_threadpool(current_identity, request)  # a store read
            if identity is None:
                return redirect(request)
            request.state.identity = identity
            return await handler(self, request)  # type: ignore[no-any-return]

        return async_wrapper

    @functools.wraps(handler)
    def wrapper(self: ArchiveBase, request: Request) -> Response:
        identity = current_identity(request)
        if identity is None:
            return redirect(request)
        request.state.identity = identity
        return handler(self, request)  # type: ignore[no-any-return]

    return wrapper


def _is_async(handler: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(handler)


class ArchiveBase:
    """The state every page shares (settings, store, queries, templates, accounts, limiter)
    and the rendering helpers; the page groups are mixins over it (archive/app.py)."""

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


def form_text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def int_param(raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None or not raw.strip().lstrip("-").isdigit():
        return default
    return max(low, min(int(raw), high))
