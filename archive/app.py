"""The analysts' archive: one Starlette app serving pages, corrections, exports and the API.

`create_app(settings, store)` builds it (tests drive it in-process); `pipeline.web` runs
it under uvicorn for `compactwatch serve`, `run --web` and `demo --serve`. Other features
(the Slack interactivity endpoint) join the same app through `extra_routes`; they bring
their own authentication (Slack signatures), so the session and CSRF checks here are per
handler, not global middleware.

Pages read through `ArchiveQueries` (pipeline/store/archive.py: all SQL stays in the
store) and write corrections only through `Store.add_label`, which never touches the
model's own output. Handlers that touch the database are plain functions: Starlette runs
them in its thread pool, so a slow query never blocks the event loop.

The handlers live in page groups, one module each (pages_login, pages_articles,
pages_insight, pages_data), mixed into `Archive`; the shared plumbing is in web_support.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from archive.auth import (
    AdaptiveSessionMiddleware,
    SessionRecords,
    trusted_proxies,
)
from archive.pages_articles import ArticlePages
from archive.pages_data import DataPages
from archive.pages_insight import InsightPages
from archive.pages_login import LoginPages
from archive.web_support import HERE, MAX_BODY_BYTES, SecurityHeaders, log
from pipeline.errors import StoreError
from pipeline.settings import Settings
from pipeline.store import Store


class Archive(LoginPages, ArticlePages, InsightPages, DataPages):
    """Every page of the archive, over the shared state of `ArchiveBase`."""


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
