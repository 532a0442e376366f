"""The one ASGI app: the analysts' archive plus Slack's interactivity endpoint.

`compactwatch serve`, `compactwatch run --web` and `compactwatch demo --serve` all serve
this app, so Slack buttons and the archive share one process, one port and one store.
"""

from __future__ import annotations

import logging
import threading

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from alerts.interactivity import slack_actions_route
from alerts.slack import make_client
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger("compactwatch")


def build_web_app(settings: Settings, store: Store) -> Starlette:
    """The archive UI (when installed) with /slack/actions mounted into it."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    factory = (lambda: make_client(token, settings.slack_api_url)) if token else None
    extra: list[BaseRoute] = [slack_actions_route(store, secret, factory)]
    try:
        from archive.app import create_app
    except ImportError:
        return Starlette(routes=[*extra, Route("/", lambda _r: PlainTextResponse("compactwatch"))])
    return create_app(settings, store, extra_routes=extra)


def serve_web(settings: Settings, store: Store) -> None:
    """Serve until Ctrl-C."""
    if settings.slack_signing_secret is None:
        log.warning("SLACK_SIGNING_SECRET is not set: /slack/actions will refuse every request")
    uvicorn.run(
        build_web_app(settings, store), host=settings.web_host, port=settings.web_port, log_level="warning"
    )


def serve_web_in_background(settings: Settings, store: Store) -> uvicorn.Server:
    """Start the web app in a daemon thread (for `run --web`); returns the server to stop."""
    config = uvicorn.Config(
        build_web_app(settings, store), host=settings.web_host, port=settings.web_port, log_level="warning"
    )
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, name="web", daemon=True).start()
    return server
