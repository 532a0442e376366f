"""Logging in and out of the archive (accounts, the shared or one-time token, the limiter)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    RedirectResponse,
    Response,
)

from archive.auth import (
    client_key,
    csrf_ok,
    current_identity,
    end_session,
    safe_next,
    start_session,
)
from archive.web_support import ArchiveBase, form_text, log
from pipeline.sanitize import escape_terminal


class LoginPages(ArchiveBase):
    """The login form, login and logout."""

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
        name = form_text(form, "name")[:200]
        account = name if self.accounts.mode == "accounts" else "token"
        wait = self.limiter.retry_after(key, account)
        if wait:
            response = self.render(
                request,
                "login.html",
                {
                    "mode": self.accounts.mode,
                    "next": safe_next(form_text(form, "next")),
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
        secret = form_text(form, "password")[:1000]
        if self.accounts.mode == "accounts":
            identity = await run_in_threadpool(self.accounts.check_password, name, secret)
        else:
            identity = self.accounts.check_token(secret, name)
        if identity is None:
            self.limiter.failed(key, account)
            log.warning("archive: failed login from %s", escape_terminal(key))
            what = "name or password" if self.accounts.mode == "accounts" else "access token"
            request.scope["query_string"] = f"next={quote(form_text(form, 'next'), safe='')}".encode()
            return self._login_form(request, f"Wrong {what}.", 401, name)
        self.limiter.succeeded(key, account)
        await run_in_threadpool(start_session, request, identity)
        return RedirectResponse(safe_next(form_text(form, "next")), status_code=303)

    async def logout(self, request: Request) -> Response:
        form = await request.form(max_files=0, max_fields=5)
        if not csrf_ok(request, form):
            return self.forbidden(request)
        await run_in_threadpool(end_session, request)  # the cookie is dead server-side too
        return RedirectResponse("/login", status_code=303)
