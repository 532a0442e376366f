"""Who may use the archive, and proof that a form post came from our own pages.

* Accounts come from `settings.analysts` ({name: argon2 hash}); `hash_password()` makes a
  hash for the CLI's `hash-password`. With no accounts, the shared `api_token` logs in; with
  neither, a one-time token is generated at start and printed, so the archive is never open.
* Sessions are signed cookies (itsdangerous via Starlette): HttpOnly, SameSite=Lax, and
  Secure whenever the request arrived over https (behind a proxy too, with uvicorn's
  proxy headers). The session is replaced at login so a planted cookie is worthless.
* Every POST carries a CSRF token bound to the session, and a cross-origin `Origin` header
  is refused outright: SameSite=Lax alone still lets same-site subdomains post.
* Failed logins are rate-limited per client address: argon2 makes each guess slow, the
  limiter makes guessing pointless.
"""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send

_HASHER = PasswordHasher()
# Verified when the user name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_COOKIE = "cw_session"
SESSION_MAX_AGE = 7 * 24 * 3600


def hash_password(password: str) -> str:
    """An argon2id hash for `settings.analysts` (what `compactwatch hash-password` prints)."""
    if not password:
        raise ValueError("an empty password cannot be hashed")
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when `password` matches; a malformed stored hash is a refusal, not a crash."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class Identity:
    """A logged-in person: `name` is what label history records as `who`."""

    name: str
    via: str  # account | token


class Accounts:
    """Checks credentials against the configured accounts or the shared token."""

    def __init__(self, analysts: dict[str, str], token: str | None):
        self.analysts = dict(analysts)
        self.token = token

    @property
    def mode(self) -> str:
        return "accounts" if self.analysts else "token"

    def check_password(self, name: str, password: str) -> Identity | None:
        stored = self.analysts.get(name)
        if stored is None:
            verify_password(_DUMMY_HASH, password)
            return None
        return Identity(name, "account") if verify_password(stored, password) else None

    def check_token(self, token: str, name: str) -> Identity | None:
        if not self.token or not token:
            return None
        if not hmac.compare_digest(token.encode(), self.token.encode()):
            return None
        return Identity(clean_name(name) or "analyst", "token")

    def check_bearer(self, header: str | None) -> bool:
        """`Authorization: Bearer <api_token>` for the JSON API."""
        if not self.token or not header:
            return False
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(value.strip().encode(), self.token.encode())


def clean_name(name: str) -> str:
    """A display name typed at token login: printable, short, no markup characters."""
    name = re.sub(r"[^\w .@'-]", "", name or "", flags=re.UNICODE).strip()
    return name[:60]


class LoginLimiter:
    """At most `max_failures` failed logins per client in a sliding `window` of seconds."""

    def __init__(self, max_failures: int = 10, window: float = 300.0):
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(key, now)
            if len(times) < self.max_failures:
                return 0
            return max(1, int(self.window - (now - times[0])) + 1)

    def failed(self, key: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(key, now).append(now)
            if len(self._failures) > 10000:  # forget the quietest clients, bound memory
                for stale in [k for k, v in self._failures.items() if not v][:5000]:
                    del self._failures[stale]

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


# --------------------------------------------------------------------------- sessions
class AdaptiveSessionMiddleware:
    """Starlette's signed-cookie session, with `Secure` set per request when it came over
    https (Starlette's own flag is fixed at start-up, but the same app may be reached on
    http://127.0.0.1 locally and through an https proxy)."""

    def __init__(self, app: ASGIApp, secret_key: str):
        options = {
            "secret_key": secret_key,
            "session_cookie": SESSION_COOKIE,
            "max_age": SESSION_MAX_AGE,
            "same_site": "lax",
        }
        self.plain = SessionMiddleware(app, https_only=False, **options)  # type: ignore[arg-type]
        self.secure = SessionMiddleware(app, https_only=True, **options)  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("scheme") in ("https", "wss"):
            await self.secure(scope, receive, send)
        else:
            await self.plain(scope, receive, send)


def current_identity(conn: HTTPConnection) -> Identity | None:
    data = conn.session.get("user")
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    return Identity(data["name"], str(data.get("via", "account")))


def start_session(request: Request, identity: Identity) -> None:
    """Replace whatever session the browser had (fixation) with a fresh, logged-in one."""
    request.session.clear()
    request.session["user"] = {"name": identity.name, "via": identity.via}
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.session["since"] = int(time.time())


def csrf_token(conn: HTTPConnection) -> str:
    """The session's CSRF token, created on first use (the login form needs one too)."""
    token = conn.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        conn.session["csrf"] = token
    return token


def csrf_ok(request: Request, form: FormData | None) -> bool:
    """True when the post carries this session's token and, if the browser sent an
    Origin header, it is our own origin."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        host = request.headers.get("host", "")
        if parts.netloc.lower() != host.lower():
            return False
    expected = request.session.get("csrf")
    if not isinstance(expected, str) or not expected:
        return False
    sent = request.headers.get(CSRF_HEADER) or (form.get(CSRF_FIELD) if form is not None else None)
    if not isinstance(sent, str) or not sent:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None) -> str:
    """Only same-site paths after login: never `//evil.example` or `https://...`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/articles?relevant=yes"
    if any(ord(ch) < 32 for ch in target):
        return "/articles?relevant=yes"
    return target
