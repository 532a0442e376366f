"""A large export streams: peak memory stays far below the size of what is sent.

The archive is filled with 20,000 rows in bulk (the store's per-article path is for the
pipeline, not for building fixtures), then the CSV and JSONL exports are driven through the
ASGI app with a `send` that counts and discards bytes, the way a slow client on the other
end of a socket would consume them. tracemalloc measures every Python allocation in every
thread (the export generator runs in Starlette's thread pool).
"""

from __future__ import annotations

import asyncio
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from pipeline.store import Store
from pipeline.store.tables import ArticleRow, ClassificationRow
from tests.factories import add_feed
from tests.test_archive_support import client_for, login

ROWS = 20_000
EVIDENCE = (
    "The mayors of the largest cities asked the United Nations for a formal role in the review of the "
    "Global Compact for Migration, arguing that cities deliver most of the services it describes."
)


def bulk_archive(store: Store, rows: int = ROWS) -> None:
    feed = add_feed(store, "https://bulk.example/rss", name="Bulk feed")
    now = datetime.now(UTC)
    with store.writing() as session:
        session.execute(
            insert(ArticleRow),
            [
                {
                    "feed_id": feed,
                    "url": f"https://bulk.example/2026/story-{i}",
                    "canonical_url": f"https://bulk.example/2026/story-{i}",
                    "title": f"Mayors of {i % 90} cities press the UN for a seat at the migration compact review #{i}",
                    "summary": "",
                    "text": "Cities and the compact. " * 8,
                    "outlet": "Bulk Outlet",
                    "published_at": now - timedelta(minutes=i),
                    "fetched_at": now,
                    "language": "en",
                    "extraction_status": "ok",
                    "text_hash": f"{i:064x}",
                    "title_key": f"bulk {i}",
                    "simhash": i,
                }
                for i in range(rows)
            ],
        )
        ids = session.scalars(select(ArticleRow.id)).all()
        session.execute(
            insert(ClassificationRow),
            [
                {
                    "article_id": article_id,
                    "model_version": "bulk-model",
                    "status": "ok",
                    "relevant": True,
                    "relevance": 0.9,
                    "pro_city_inclusion": True,
                    "pro_city_inclusion_score": 0.8,
                    "sovereignty_framing": False,
                    "sovereignty_framing_score": 0.1,
                    "evidence": {"pro_city_inclusion": [EVIDENCE, EVIDENCE[::-1]]},
                    "created_at": now,
                }
                for article_id in ids
            ],
        )


async def _drive(app: Any, path: str, cookie: str) -> tuple[int, int]:
    """Run one GET through the ASGI app; return (status, body bytes) without keeping them."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    status, size = 0, 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


@pytest.mark.parametrize("path", ["/export.csv", "/export.jsonl"])
def test_exporting_a_large_archive_streams_in_bounded_memory(store: Store, path: str) -> None:
    bulk_archive(store)
    client = login(client_for(store))
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    app = client.app
    asyncio.run(_drive(app, "/feeds", cookie))  # warm up imports and template caches first
    tracemalloc.start()
    try:
        status, size = asyncio.run(_drive(app, path, cookie))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert status == 200
    assert size > 12_000_000, size  # ~20,000 rows of a few hundred bytes each were sent
    # Holding the rows (ORM objects, dicts) or the whole body would need several times the
    # body size; a streamed export holds one batch of rows and one chunk of text.
    assert peak < 12_000_000 and peak < size / 2, (peak, size)
