"""Archive sessions and logins under attack: replayed cookies, spoofed addresses, lockouts.

Attacks reproduced here: a session cookie copied before logout kept reading and writing
labels for 7 days; the login limiter keyed on X-Forwarded-For from any client (so each
guess could claim a new address); ten failures from one address locked every account
behind that address, including colleagues typing the right password.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from archive.app import ArchiveThread, create_app
from pipeline.store import Store
from tests.factories import add_feed
from tests.test_archive_support import (
    PASSWORD,
    analyst_hash,
    archive_settings,
    client_for,
    csrf_of,
    form_data,
    login,
    seed,
)


@pytest.fixture
def article(sqlite_store: Store) -> int:
    feed = add_feed(sqlite_store, "https://a.example/rss", name="Harbour Chronicle")
    return seed(sqlite_store, feed, title="Mayors ask for a formal role in the compact review", city=0.8)


def _copy_cookie(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"cw_session": client.cookies.get("cw_session")}


def test_cookie_replayed_after_logout_gets_the_login_page_and_cannot_write_labels(store: Store) -> None:
    sqlite_store = store  # runs on SQLite and on PostgreSQL
    feed = add_feed(store, "https://a.example/rss", name="Harbour Chronicle")
    article = seed(store, feed, title="Mayors ask for a formal role in the compact review", city=0.8)
    client = login(client_for(sqlite_store))
    page = client.get(f"/articles/{article}")
    form = form_data(page.text, f"/articles/{article}/labels")
    stolen = _copy_cookie(client)  # what an attacker copied while the analyst was logged in
    logout = form_data(page.text, "/logout")
    assert client.post("/logout", data=logout, follow_redirects=False).status_code == 303

    replay = client_for(sqlite_store, cookies=stolen)
    response = replay.get(f"/articles/{article}", follow_redirects=True)
    assert str(response.url).startswith("http://testserver/login") and 'name="password"' in response.text
    post = replay.post(
        f"/articles/{article}/labels", data={**form, "city": "no", "action": "save"}, follow_redirects=False
    )
    assert post.status_code in (303, 403)
    assert post.status_code == 403 or post.headers["location"].startswith("/login")
    assert sqlite_store.label_history(article) == []  # nothing written with the dead cookie
    assert replay.get("/api/feeds").status_code == 401


def test_a_changed_password_ends_the_sessions_opened_with_the_old_one(
    sqlite_store: Store, article: int
) -> None:
    client = login(client_for(sqlite_store))
    stolen = _copy_cookie(client)
    from archive.auth import hash_password

    changed = archive_settings(analysts={"ana": hash_password("a brand new passphrase")})
    replay = client_for(sqlite_store, changed, cookies=stolen)
    assert replay.get("/articles", follow_redirects=False).status_code == 303
    still = client_for(sqlite_store, archive_settings(), cookies=stolen)  # same hash: still valid
    assert still.get("/articles", follow_redirects=False).status_code == 200


def test_sessions_revoke_all_command_logs_everyone_out(sqlite_store: Store, tmp_path: Path) -> None:
    client = login(client_for(sqlite_store))
    assert client.get("/articles", follow_redirects=False).status_code == 200
    url = str(sqlite_store.engine.url)
    env = {**os.environ, "DATABASE_URL": url, "COMPACTWATCH_FEEDS": str(tmp_path / "none.yaml")}
    (tmp_path / "none.yaml").write_text("feeds: []\n")
    cli = [sys.executable, "-m", "pipeline.cli"]
    missing = subprocess.run(
        [*cli, "sessions", "revoke"], env=env, cwd=tmp_path, capture_output=True, text=True
    )
    assert missing.returncode == 1 and missing.stderr.strip().startswith("error:")
    assert "Traceback" not in missing.stderr
    done = subprocess.run(
        [*cli, "sessions", "revoke", "--all"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 session ended" in done.stdout
    assert client.get("/articles", follow_redirects=False).status_code == 303


def test_x_forwarded_for_from_an_untrusted_client_does_not_reset_the_login_limiter(
    sqlite_store: Store,
) -> None:
    app = create_app(archive_settings(), sqlite_store)
    with ArchiveThread(app) as server, httpx.Client(base_url=server.url) as client:
        token = csrf_of(client.get("/login").text)
        codes = []
        for i in range(11):  # each guess claims another address
            response = client.post(
                "/login",
                data={"csrf": token, "name": "ana", "password": f"guess {i}"},
                headers={"X-Forwarded-For": f"203.0.113.{i}"},
            )
            codes.append(response.status_code)
    assert codes[:10] == [401] * 10
    assert codes[10] == 429  # counted against the real peer address, not the claimed ones


def test_failures_for_one_account_do_not_lock_out_a_colleague_at_the_same_address(
    sqlite_store: Store,
) -> None:
    settings = archive_settings(analysts={"ana": analyst_hash(), "ben": analyst_hash()})
    client = client_for(sqlite_store, settings)
    token = csrf_of(client.get("/login").text)
    for _ in range(10):
        assert (
            client.post("/login", data={"csrf": token, "name": "ana", "password": "nope"}).status_code == 401
        )
    blocked = client.post("/login", data={"csrf": token, "name": "ana", "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Try again in 5 min" in blocked.text and "UTC" in blocked.text  # says when
    assert int(blocked.headers["retry-after"]) > 0
    colleague = client.post(
        "/login", data={"csrf": token, "name": "ben", "password": PASSWORD}, follow_redirects=False
    )
    assert colleague.status_code == 303  # same address, other account: let in
