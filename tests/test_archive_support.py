"""Helpers shared by the archive tests (no tests here): an app on a real store, a logged-in
client, CSRF tokens scraped from the pages exactly as a browser would submit them."""

from __future__ import annotations

import itertools
import random
import re
import warnings
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from archive.app import create_app
from archive.auth import hash_password
from pipeline.dedupe import fingerprint_article
from pipeline.records import Classification, Extraction, FeedEntry, FrameResult, NewArticle
from pipeline.settings import Settings, load_settings
from pipeline.store import Store

with warnings.catch_warnings():  # Starlette nudges towards httpx2; httpx is what we have
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PASSWORD = "correct horse battery staple"
_HASH: dict[str, str] = {}


def analyst_hash() -> str:
    """One argon2 hash per test session: hashing is deliberately slow."""
    if "h" not in _HASH:
        _HASH["h"] = hash_password(PASSWORD)
    return _HASH["h"]


def archive_settings(tmp_path: Path | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "analysts": {"ana": analyst_hash()},
        "secret_key": "test-secret-key-of-some-length",
        "api_token": "api-token-123",
        "model_dir": (tmp_path or Path("/nonexistent")) / "models",
    }
    values.update(overrides)
    return load_settings(**values)


def client_for(store: Store, settings: Settings | None = None, **kwargs: Any) -> TestClient:
    app = create_app(settings or archive_settings(), store)
    return TestClient(app, **kwargs)


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class _Forms(HTMLParser):
    """Collects each form's action and its hidden/checked/text inputs, like a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = {}
            self.forms.append((a.get("action", ""), self._current))
        elif tag in ("input", "textarea") and self._current is not None and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("radio", "checkbox") and "checked" not in a:
                return
            self._current.setdefault(a["name"], a.get("value", ""))


def form_data(html: str, action: str) -> dict[str, str]:
    """The fields the page's form posting to `action` would submit (hidden ones included)."""
    parser = _Forms()
    parser.feed(html)
    for form_action, fields in parser.forms:
        if form_action == action:
            return dict(fields)
    raise AssertionError(f"no form posting to {action}")


def login(client: TestClient, name: str = "ana", password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    data = {**form_data(page.text, "/login"), "name": name, "password": password, "next": "/articles"}
    response = client.post("/login", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return client


def logged_in(store: Store, settings: Settings | None = None) -> TestClient:
    return login(client_for(store, settings))


_VOCABULARY = [
    "harbour",
    "tram",
    "budget",
    "council",
    "festival",
    "railway",
    "museum",
    "tariff",
    "drought",
    "election",
    "vaccine",
    "bridge",
    "orchestra",
    "pension",
    "satellite",
    "wildfire",
    "library",
    "stadium",
    "refinery",
    "glacier",
    "ferry",
    "senate",
    "clinic",
    "vineyard",
    "airport",
    "census",
    "lottery",
    "parliament",
    "reservoir",
    "bakery",
    "cycling",
    "theatre",
    "chess",
    "marathon",
    "volcano",
    "lighthouse",
]
_texts = itertools.count(1)


def _distinct_text() -> str:
    """Random filler unlike any other, so the store does not cluster test articles."""
    n = next(_texts)
    rng = random.Random(n * 7919)
    return " ".join(rng.choice(_VOCABULARY) for _ in range(80)) + f" item{n}."


def seed(
    store: Store,
    feed_id: int,
    *,
    title: str,
    text: str = "",
    language: str = "en",
    relevant: float = 0.9,
    city: float = 0.1,
    sovereignty: float = 0.1,
    published: datetime | None = None,
    url: str | None = None,
    evidence: dict[str, tuple[str, ...]] | None = None,
    outlet: str = "Example News",
    channels: tuple[str, ...] = (),
) -> int:
    """An article with chosen scores, language and date (the factories' articles are all
    English, published now, with fixed scores; archive filters need more control)."""
    evidence = evidence or {}
    text = text or f"{title}. {_distinct_text()}"
    url = url or f"https://news.example.org/{abs(hash((title, text))) % 10**12}"
    published = published or datetime.now(UTC) - timedelta(hours=1)
    is_relevant = relevant >= 0.5
    cls = Classification(
        relevant=is_relevant,
        relevance=relevant,
        pro_city_inclusion=FrameResult(
            is_relevant and city >= 0.5, city, evidence.get("pro_city_inclusion", ())
        ),
        sovereignty_framing=FrameResult(
            is_relevant and sovereignty >= 0.5, sovereignty, evidence.get("sovereignty_framing", ())
        ),
        model_version="test-model",
        language=language,
    )
    article = NewArticle(
        feed_id=feed_id,
        url=url,
        canonical_url=url,
        entry=FeedEntry(link=url, title=title, summary="", published=published),
        extraction=Extraction(status="ok", title=title, text=text, site_name=outlet, published=published),
        fingerprint=fingerprint_article(title, text),
        classification=cls,
    )
    return store.save_article(article, alert_channels=channels).article_id
