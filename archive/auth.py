"""Who may use the archive, and proof that a form post came from our own pages.

* Accounts come from `settings.analysts` ({name: argon2 hash}); `hash_password()` makes a
  hash for the CLI's `hash-password`. With no accounts, the shared `api_token` logs in; with
  neither, a one-time token is generated at start and printed, so the archive is never open.
* Sessions are signed cookies (itsdangerous via Starlette): HttpOnly, SameSite=Lax, and
  Secure whenever the request arrived over https (behind a proxy only when that proxy is in
  `trusted_proxies`). The session is replaced at login so a planted cookie is worthless.
* A signed cookie alone cannot be taken back, so each session also has a server-side record
  (pipeline/store/sessions.py) checked on every request: logout, a changed password or
  token, and `compactwatch sessions revoke` end it at once; a copied cookie is then useless.
* Every POST carries a CSRF token bound to the session, and a cross-origin `Origin` header
  is refused outright: SameSite=Lax alone still lets same-site subdomains post.
* Failed logins are rate-limited per address *and* account (one person's typos at a shared
  office address do not lock out colleagues), per account across addresses, and per address
  across accounts; the login page says when to try again.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from starlette.datastructures import FormData
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from pipeline.settings import Settings
from pipeline.store import Store
from pipeline.store.sessions import open_session, revoke_session, session_stands

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

    def credential(self, identity: Identity) -> str | None:
        """A fingerprint of the credential `identity` logged in with, as configured *now*:
        it changes when the password hash or the shared token changes (ending sessions)."""
        stored = self.analysts.get(identity.name) if identity.via == "account" else self.token
        return hashlib.sha256(stored.encode()).hexdigest() if stored else None

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


class LoginGuard:
    """Failed logins counted three ways: per address+account (10 in 5 min: one person's
    guesses), per account from any address (50: a distributed guess at one account) and per
    address for any account (50: one address spraying many accounts). Keying on the pair
    first means one person's typos behind a shared office address lock out only that
    account from that address, not every colleague."""

    def __init__(self, pair: int = 10, account: int = 50, address: int = 50, window: float = 300.0):
        self.limits = {
            "pair": LoginLimiter(pair, window),
            "account": LoginLimiter(account, window),
            "address": LoginLimiter(address, window),
        }
        self.max_failures = pair

    @staticmethod
    def _keys(address: str, account: str) -> dict[str, str]:
        account = account.strip().lower()[:200]
        return {"pair": f"{address}|{account}", "account": account, "address": address}

    def retry_after(self, address: str, account: str) -> int:
        """Seconds until this address may try this account again (0: now)."""
        keys = self._keys(address, account)
        return max(limiter.retry_after(keys[kind]) for kind, limiter in self.limits.items())

    def failed(self, address: str, account: str) -> None:
        keys = self._keys(address, account)
        for kind, limiter in self.limits.items():
            limiter.failed(keys[kind])

    def succeeded(self, address: str, account: str) -> None:
        self.limits["pair"].succeeded(self._keys(address, account)["pair"])


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


class SessionRecords:
    """The server-side half of a session: opened at login, checked on every request, ended
    at logout. Lives on `app.state.sessions` (create_app puts it there)."""

    def __init__(self, store: Store, accounts: Accounts):
        self.store = store
        self.accounts = accounts

    def opened(self, identity: Identity) -> str:
        credential = self.accounts.credential(identity) or ""
        return open_session(
            self.store, identity.name, identity.via, credential, timedelta(seconds=SESSION_MAX_AGE)
        )

    def stands(self, session_id: str, identity: Identity) -> bool:
        credential = self.accounts.credential(identity)
        return credential is not None and session_stands(self.store, session_id, identity.name, credential)

    def end(self, session_id: str) -> None:
        if session_id:
            revoke_session(self.store, session_id)


def _records(conn: HTTPConnection) -> SessionRecords | None:
    app = conn.scope.get("app")
    records = getattr(getattr(app, "state", None), "sessions", None)
    return records if isinstance(records, SessionRecords) else None


def current_identity(conn: HTTPConnection) -> Identity | None:
    """The logged-in person, only while the session's server-side record stands (checked
    on every request; the answer is kept for the rest of this request)."""
    cached = conn.scope.get("cw_identity", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    identity = _identity(conn)
    conn.scope["cw_identity"] = identity
    return identity


def _identity(conn: HTTPConnection) -> Identity | None:
    data = conn.session.get("user")
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        return None
    identity = Identity(data["name"], str(data.get("via", "account")))
    records, session_id = _records(conn), conn.session.get("sid")
    if records is None or not isinstance(session_id, str) or not records.stands(session_id, identity):
        conn.session.clear()  # revoked, expired, or from before server-side sessions
        return None
    return identity


def start_session(request: Request, identity: Identity) -> None:
    """Replace whatever session the browser had (fixation) with a fresh, logged-in one."""
    records = _records(request)
    if records is None:
        raise RuntimeError("the archive app has no session records (app.state.sessions)")
    end_session(request)
    request.session.clear()
    request.session["user"] = {"name": identity.name, "via": identity.via}
    request.session["sid"] = records.opened(identity)
    request.session["csrf"] = secrets.token_urlsafe(32)
    request.session["since"] = int(time.time())
    request.scope["cw_identity"] = identity


def end_session(request: Request) -> None:
    """Logout: revoke the server-side record, then forget the cookie's contents."""
    records, session_id = _records(request), request.session.get("sid")
    if records is not None and isinstance(session_id, str):
        records.end(session_id)
    request.session.clear()
    request.scope["cw_identity"] = None


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
    """The client's address as the server saw it. Forwarded headers are applied (by uvicorn)
    only for proxies in `trusted_proxies`, so a client cannot choose its own key."""
    return request.client.host if request.client else "unknown"


def trusted_proxies(settings: Settings) -> list[str]:
    """The proxy addresses whose X-Forwarded-* headers are believed (default: none)."""
    return [part.strip() for part in settings.trusted_proxies.split(",") if part.strip()]


def safe_next(target: str | None) -> str:
    """Only same-site paths after login: never `//evil.example` or `https://...`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/articles?relevant=yes"
    if any(ord(ch) < 32 for ch in target):
        return "/articles?relevant=yes"
    return target
