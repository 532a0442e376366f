"""The one ASGI app: the analysts' archive plus Slack's interactivity endpoint.

`compactwatch serve`, `compactwatch run --web` and `compactwatch demo --serve` all serve
this app, so Slack buttons and the archive share one process, one port and one store.
All three bind the port first (a busy port is a one-line error, not a uvicorn traceback)
and then print one announcement: the URL, how to log in, and how to make that permanent.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys
import threading
from collections.abc import Callable
from typing import TextIO

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import BaseRoute, Route

from alerts.interactivity import slack_actions_route
from alerts.routing import alert_styles, default_config, load_alerts_config
from alerts.slack import AlertStyle, make_client
from pipeline.errors import ConfigError
from pipeline.settings import Settings
from pipeline.store import Store

log = logging.getLogger("compactwatch")


def _alert_styles(settings: Settings) -> Callable[[str], AlertStyle]:
    """How each channel's alerts look, from the routing file (checked at start-up by the
    commands that post; here a broken file only costs refreshed alerts their scores)."""
    try:
        config = load_alerts_config(settings.routes, settings.slack_channel)
    except ConfigError:
        config = default_config(settings.slack_channel)
    return alert_styles(config, settings.archive_url)


def build_web_app(settings: Settings, store: Store) -> Starlette:
    """The archive UI (when installed) with /slack/actions mounted into it."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else None
    factory = (lambda: make_client(token, settings.slack_api_url)) if token else None
    extra: list[BaseRoute] = [slack_actions_route(store, secret, factory, _alert_styles(settings))]
    try:
        from archive.app import create_app
    except ImportError:
        return Starlette(routes=[*extra, Route("/", lambda _r: PlainTextResponse("compactwatch"))])
    return create_app(settings, store, extra_routes=extra)


def bind_port(host: str, port: int) -> socket.socket:
    """Listen on host:port now, so a busy port is reported before anything else starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use: stop the other program or choose "
                "another port (--port or COMPACTWATCH_WEB_PORT)"
            ) from None
        if error.errno == errno.EACCES:
            raise ConfigError(f"not allowed to listen on {host}:{port}: choose a port above 1023") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    sock.setblocking(False)
    return sock


def public_url(host: str, port: int) -> str:
    """The URL a person on this machine types (a wildcard address is reached via loopback)."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def announcement(settings: Settings, url: str, login_token: str | None) -> str:
    """The block printed at start: where the archive is, how to log in, how to keep a login."""
    lines = [f"archive:   {url}"]
    if login_token:
        lines += [
            f"log in:    one-time token {login_token}",
            "           (no COMPACTWATCH_ANALYSTS or COMPACTWATCH_API_TOKEN set; it changes on every start)",
            "permanent: run `compactwatch hash-password`, then set",
            '           COMPACTWATCH_ANALYSTS=\'{"your-name": "<the hash>"}\' and restart',
        ]
    elif settings.analysts:
        names = ", ".join(sorted(settings.analysts))
        lines.append(f"log in:    with an analyst account from COMPACTWATCH_ANALYSTS ({names})")
        lines.append("accounts:  `compactwatch hash-password` makes the hash for a new one")
    else:
        lines += [
            "log in:    with the token in COMPACTWATCH_API_TOKEN",
            "permanent: for personal accounts run `compactwatch hash-password` and set COMPACTWATCH_ANALYSTS",
        ]
    if settings.web_host in ("0.0.0.0", "::"):
        lines.append(f"listening: on every network interface, port {url.rsplit(':', 1)[-1].rstrip('/')}")
    lines.append("stop:      Ctrl-C")
    return "\n".join(lines)


def announce(settings: Settings, app: Starlette, url: str, out: TextIO | None = None) -> None:
    """Print the announcement in plain text (never wrapped: the token must stay copyable)."""
    token = getattr(app.state, "login_token", None)
    stream = out or sys.stdout
    stream.write(announcement(settings, url, token) + "\n")
    stream.flush()


def _warn_unsigned_buttons(settings: Settings) -> None:
    """Slack buttons only work with the signing secret; say so when Slack is in use."""
    if settings.slack_bot_token is not None and settings.slack_signing_secret is None:
        log.warning("SLACK_SIGNING_SECRET is not set: Slack buttons (/slack/actions) will be refused")


def _server(app: Starlette, settings: Settings | None = None) -> uvicorn.Server:
    """uvicorn believes X-Forwarded-For/-Proto only from `trusted_proxies` (default: nobody),
    so a client cannot pick its own address for the login limiter or fake https."""
    trusted = [p.strip() for p in (settings.trusted_proxies if settings else "").split(",") if p.strip()]
    config = uvicorn.Config(
        app,
        log_level="warning",
        log_config=None,  # uvicorn's warnings go through our handlers (plain, JSON or Rich)
        access_log=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted or [],
        server_header=False,
    )
    return uvicorn.Server(config)


def _bounded_store(settings: Settings, store: Store) -> Store:
    """The web app's own connection pool to the same database, where every query is bounded
    by `web_statement_timeout` (the scheduler's pool, when shared, stays unbounded)."""
    from pipeline.store import open_store

    return open_store(
        store.engine.url.render_as_string(hide_password=False),
        migrate=False,
        connect_timeout=settings.database_connect_timeout,
        statement_timeout=settings.web_statement_timeout,
    )


def serve_web(settings: Settings, store: Store) -> None:
    """Serve until Ctrl-C."""
    sock = bind_port(settings.web_host, settings.web_port)
    _warn_unsigned_buttons(settings)
    store = _bounded_store(settings, store)
    app = build_web_app(settings, store)
    announce(settings, app, public_url(settings.web_host, sock.getsockname()[1]))
    try:
        _server(app, settings).run(sockets=[sock])
    finally:
        sock.close()
        store.close()


def serve_web_in_background(settings: Settings, store: Store) -> uvicorn.Server:
    """Start the web app in a daemon thread (for `run --web`); returns the server to stop."""
    sock = bind_port(settings.web_host, settings.web_port)
    _warn_unsigned_buttons(settings)
    app = build_web_app(settings, _bounded_store(settings, store))
    server = _server(app, settings)
    announce(settings, app, public_url(settings.web_host, sock.getsockname()[1]))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="web", daemon=True).start()
    return server
