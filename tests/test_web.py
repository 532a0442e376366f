"""One ASGI app serves the archive and Slack's interactivity endpoint."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from pipeline.settings import load_settings
from pipeline.store import Store
from pipeline.web import build_web_app


@pytest.mark.anyio
def test_archive_and_slack_endpoint_share_one_app(sqlite_store: Store, tmp_path: Path) -> None:
    import asyncio

    settings = load_settings(database_url=f"sqlite:///{tmp_path / 'x.db'}", slack_signing_secret="s3cret")
    app = build_web_app(settings, sqlite_store)

    async def go() -> tuple[int, int, str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            home = await client.get("/")
            slack = await client.post("/slack/actions", content=b"payload=%7B%7D")
            return home.status_code, slack.status_code, home.headers.get("location", "")

    home, slack, location = asyncio.run(go())
    assert home in (302, 303) and location.startswith("/login")
    assert slack == 401  # unsigned: refused before anything is read
    assert app.state.login_token  # no accounts configured: a one-time token, never an open archive
