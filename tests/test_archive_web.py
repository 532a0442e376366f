"""The archive through HTTP: access rules, every page, filters, corrections, exports, API."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from archive.auth import LoginLimiter
from pipeline.store import Store
from tests.factories import add_feed
from tests.test_archive_support import (
    PASSWORD,
    archive_settings,
    client_for,
    csrf_of,
    form_data,
    logged_in,
    login,
    seed,
)

PAGES = ["/articles", "/articles?relevant=yes", "/review", "/trends", "/feeds", "/models", "/export.csv",
         "/export.jsonl", "/"]  # fmt: skip


@pytest.fixture
def feed(sqlite_store: Store) -> int:
    return add_feed(sqlite_store, "https://a.example/rss", name="Harbour Chronicle")


@pytest.fixture
def article(sqlite_store: Store, feed: int) -> int:
    return seed(
        sqlite_store,
        feed,
        title="Mayors ask for a formal role in the compact review",
        text="Intro.\n\nThe mayors asked the UN for a formal role in the review.\n\nThe minister disagreed.",
        city=0.8,
        evidence={"pro_city_inclusion": ("The mayors asked the UN for a formal role in the review.",)},
        channels=("#alerts",),
    )


# ------------------------------------------------------------------------------ access
@pytest.mark.parametrize("path", [*PAGES, "/articles/1"])
def test_pages_without_a_session_redirect_to_login_and_come_back(sqlite_store: Store, path: str) -> None:
    client = client_for(sqlite_store)
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    page = client.get(response.headers["location"])
    assert 'name="next"' in page.text


@pytest.mark.parametrize("path", ["/api/articles", "/api/stories", "/api/feeds", "/api/articles/1"])
def test_api_needs_the_bearer_token(sqlite_store: Store, article: int, path: str) -> None:
    client = client_for(sqlite_store)
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(path, headers={"Authorization": "Basic api-token-123"}).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer api-token-123"}).status_code == 200


def test_login_sets_a_hardened_cookie_and_replaces_the_session(sqlite_store: Store) -> None:
    client = client_for(sqlite_store)
    page = client.get("/login")
    before = client.cookies.get("cw_session")
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": "ana", "password": PASSWORD, "next": "/feeds"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/feeds"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    assert client.cookies.get("cw_session") != before
    assert csrf_of(client.get("/feeds").text) != csrf_of(page.text)  # new CSRF token after login


def test_cookie_is_secure_when_served_over_https(sqlite_store: Store) -> None:
    client = client_for(sqlite_store, base_url="https://archive.example")
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": "ana", "password": PASSWORD},
        follow_redirects=False,
    )
    assert "secure" in response.headers["set-cookie"].lower()


def test_wrong_password_is_refused_and_repeated_failures_are_rate_limited(sqlite_store: Store) -> None:
    client = client_for(sqlite_store)
    token = csrf_of(client.get("/login").text)
    for _ in range(LoginLimiter().max_failures):
        wrong = client.post("/login", data={"csrf": token, "name": "ana", "password": "nope"})
        assert wrong.status_code == 401 and "Wrong name or password" in wrong.text
    blocked = client.post("/login", data={"csrf": token, "name": "ana", "password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    unknown = client_for(sqlite_store)
    response = unknown.post(
        "/login", data={"csrf": csrf_of(unknown.get("/login").text), "name": "nobody", "password": PASSWORD}
    )
    assert response.status_code in (401, 429)


def test_without_accounts_the_shared_token_logs_in_under_the_given_name(
    sqlite_store: Store, feed: int
) -> None:
    settings = archive_settings(analysts={}, api_token="shared-token-xyz")
    client = client_for(sqlite_store, settings)
    page = client.get("/login")
    assert "Access token" in page.text
    bad = client.post("/login", data={"csrf": csrf_of(page.text), "password": "guess", "name": "x"})
    assert bad.status_code == 401
    ok = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "password": "shared-token-xyz", "name": "Lena <b>"},
        follow_redirects=True,
    )
    assert ok.status_code == 200 and "Lena b" in ok.text


def test_with_neither_accounts_nor_token_a_one_time_token_is_generated(sqlite_store: Store) -> None:
    settings = archive_settings(analysts={}, api_token=None)
    client = client_for(sqlite_store, settings)
    token = client.app.state.login_token  # type: ignore[attr-defined]
    assert token and len(token) >= 20
    page = client.get("/login")
    response = client.post(
        "/login", data={"csrf": csrf_of(page.text), "password": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert client.get("/api/feeds", headers={"Authorization": f"Bearer {token}"}).status_code == 200


@pytest.mark.parametrize("path", ["/logout", "/articles/labels", "/articles/1/labels", "/articles/1/confirm"])
def test_posts_without_or_with_a_wrong_csrf_token_are_forbidden(
    sqlite_store: Store, article: int, path: str
) -> None:
    client = logged_in(sqlite_store)
    good = csrf_of(client.get("/articles").text)
    data = {"ids": str(article), "label": "city", "value": "yes", "city": "yes"}
    assert client.post(path, data=data).status_code == 403
    assert client.post(path, data={**data, "csrf": "x" * 43}).status_code == 403
    cross_site = client.post(path, data={**data, "csrf": good}, headers={"Origin": "https://evil.example"})
    assert cross_site.status_code == 403
    assert sqlite_store.label_history(article) == []


def test_login_form_needs_its_csrf_token_too(sqlite_store: Store) -> None:
    client = client_for(sqlite_store)
    client.get("/login")
    assert client.post("/login", data={"name": "ana", "password": PASSWORD}).status_code == 403


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_never_redirects_off_site(sqlite_store: Store, target: str) -> None:
    client = client_for(sqlite_store)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"csrf": csrf_of(page.text), "name": "ana", "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/articles?relevant=yes"


def test_logout_ends_the_session(sqlite_store: Store) -> None:
    client = logged_in(sqlite_store)
    form = form_data(client.get("/feeds").text, "/logout")
    assert client.post("/logout", data=form, follow_redirects=False).status_code == 303
    assert client.get("/feeds", follow_redirects=False).status_code == 303


def test_every_response_carries_security_headers(sqlite_store: Store) -> None:
    response = client_for(sqlite_store).get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"


# ------------------------------------------------------------------------------ pages
def test_every_page_renders_with_data(sqlite_store: Store, article: int, tmp_path: Path) -> None:
    client = logged_in(sqlite_store)
    for path in [*PAGES, f"/articles/{article}", "/trends?bucket=day&by=language&period=30",
                 "/trends?period=all&q=mayors", "/review?limit=50", "/articles?sort=oldest&limit=25"]:  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
    assert client.get("/articles/999999").status_code == 404
    assert client.get("/no-such-page").status_code == 404


def test_article_page_shows_text_evidence_scores_story_feed_and_history(
    sqlite_store: Store, article: int
) -> None:
    client = logged_in(sqlite_store)
    html = client.get(f"/articles/{article}").text
    assert (
        '<mark class="ev-city" id="ev-1">The mayors asked the UN for a formal role in the review.</mark>'
        in html
    )
    assert "threshold 0.50" in html and "test-model" in html
    assert "Harbour Chronicle" in html and "Story cluster" in html
    assert "No analyst has labelled this article yet" in html


def test_feed_text_is_escaped_and_only_http_links_are_rendered(sqlite_store: Store, feed: int) -> None:
    hostile = seed(
        sqlite_store,
        feed,
        title='<img src=x onerror="alert(1)"> Mayors',
        text='<script>alert("x")</script> <div hx-post="/logout">click</div>',
        url="javascript:alert(document.cookie)",
    )
    client = logged_in(sqlite_store)
    for path in (f"/articles/{hostile}", "/articles"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<div hx-post" not in html
        assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html or "&lt;img src=x" in html
        assert 'href="javascript:' not in html


def test_filters_live_in_the_url_and_bad_values_are_explained_not_fatal(
    sqlite_store: Store, feed: int
) -> None:
    now = datetime.now(UTC)
    fr = seed(sqlite_store, feed, title="Les maires et le pacte", language="fr", city=0.9)
    old = seed(sqlite_store, feed, title="An old compact story", published=now - timedelta(days=60))
    irrelevant = seed(sqlite_store, feed, title="Tram fares rise", relevant=0.1)
    client = logged_in(sqlite_store)

    def ids(query: str) -> set[int]:
        response = client.get(f"/articles?{query}")
        assert response.status_code == 200, query
        return {int(m) for m in re.findall(r'data-article="(\d+)"', response.text)}

    assert ids("lang=fr") == {fr}
    assert ids("city=yes") == {fr}
    assert ids("relevant=no") == {irrelevant}
    assert ids(f"to={(now - timedelta(days=30)).date()}") == {old}
    assert ids(f"from={(now - timedelta(days=2)).date()}&relevant=yes") == {fr}
    assert ids("smin=0.5&score=relevant&relevant=any") == {fr, old}
    assert ids("source=analyst") == set()
    assert ids(f"feed={feed}&story=999999") == set()
    warned = client.get("/articles?from=yesterday&relevant=maybe&smin=7&sort=sideways&feed=abc")
    assert warned.status_code == 200
    for message in (
        "Ignored the &#39;from&#39; date",
        "use yes, no or any",
        "a score is a number",
        "Ignored sort",
    ):
        assert message in warned.text


def test_pagination_follows_cursors(sqlite_store: Store, feed: int) -> None:
    for n in range(30):
        seed(sqlite_store, feed, title=f"Compact story number {n}")
    client = logged_in(sqlite_store)
    first = client.get("/articles?limit=25")
    assert "Showing 1–25 of 30" in first.text
    next_link = re.search(r'href="([^"]+)" rel="next"', first.text)
    assert next_link
    second = client.get(next_link.group(1).replace("&amp;", "&"))
    assert "Showing 26–30 of 30" in second.text
    assert client.get("/articles?cursor=garbage").status_code == 200


def test_models_page_reads_the_card_and_review_uses_its_thresholds(
    sqlite_store: Store, feed: int, tmp_path: Path
) -> None:
    card = {
        "model_version": "cw-test-1",
        "thresholds": {"relevant": {"threshold": 0.7}, "pro_city_inclusion": {"threshold": 0.4}},
        "metrics": {"test": {"relevant": {"precision": 0.9, "recall": 0.8, "f1": 0.85}}},
        "history": [
            {"model_version": "cw-old", "decision": "promoted", "test_f1": {"relevant": 0.8}},
            {"model_version": "cw-cand", "promoted": False, "reason": "F1 dropped", "current": {"f1": 0.9}},
        ],
    }
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model_card.json").write_text(json.dumps(card))
    seed(sqlite_store, feed, title="Right at the threshold", relevant=0.69)
    client = logged_in(sqlite_store, archive_settings(tmp_path))
    models = client.get("/models").text
    assert "cw-test-1" in models and "cw-old" in models and "rejected" in models and "F1 dropped" in models
    assert "0.850" in models
    review = client.get("/review").text
    assert "Relevant 0.70" in review and "Pro-city 0.40" in review and "Right at the threshold" in review


# ------------------------------------------------------------------------------ corrections
def test_a_correction_is_an_analyst_label_shown_everywhere_and_the_model_output_is_kept(
    sqlite_store: Store, article: int
) -> None:
    client = logged_in(sqlite_store)
    page = client.get(f"/articles/{article}")
    form = form_data(page.text, f"/articles/{article}/labels")
    assert form["city"] == "yes" and form["sov"] == "no" and form["csrf"]  # the shown values
    response = client.post(
        f"/articles/{article}/labels",
        data={**form, "city": "no", "sov": "yes", "note": "frame only in passing", "action": "save"},
        follow_redirects=True,
    )
    assert response.status_code == 200 and "Saved: Pro-city, Sovereignty." in response.text
    history = sqlite_store.label_history(article)
    assert {(h["label"], h["value"], h["source"], h["who"], h["note"]) for h in history} == {
        ("pro_city_inclusion", False, "ui", "ana", "frame only in passing"),
        ("sovereignty_framing", True, "ui", "ana", "frame only in passing"),
    }
    assert all(h["previous_value"] is not None and h["model_version"] == "test-model" for h in history)
    stored = sqlite_store.article(article)
    assert stored is not None and stored.pro_city_inclusion is True  # the model's own output
    listing = client.get("/articles?source=analyst").text
    row = listing[listing.index(f'data-article="{article}"') :]
    assert '<span class="marker">analyst</span>' in row[: row.index("</tr>")]
    api = client.get(f"/api/articles/{article}", headers={"Authorization": "Bearer api-token-123"}).json()
    assert api["labels"]["pro_city_inclusion"] == {
        **api["labels"]["pro_city_inclusion"], "value": False, "source": "analyst", "model_value": True,
        "corrected_by": "ana", "corrected_via": "ui"}  # fmt: skip
    assert len(api["label_history"]) == 2
    exported = list(csv.DictReader(io.StringIO(client.get("/export.csv").text.lstrip("\ufeff"))))
    assert exported[0]["pro_city_inclusion"] == "no" and exported[0]["pro_city_inclusion_source"] == "analyst"


def test_resubmitting_the_same_form_records_nothing_twice(sqlite_store: Store, article: int) -> None:
    client = logged_in(sqlite_store)
    page = client.get(f"/articles/{article}")
    data = {**form_data(page.text, f"/articles/{article}/labels"), "city": "no", "action": "save"}
    client.post(f"/articles/{article}/labels", data=data)
    client.post(f"/articles/{article}/labels", data=data)
    assert len(sqlite_store.label_history(article)) == 1


def test_confirming_records_the_shown_labels_as_reviewed(sqlite_store: Store, article: int) -> None:
    client = logged_in(sqlite_store)
    page = client.get("/review").text
    response = client.post(
        f"/articles/{article}/confirm",
        data=form_data(page, f"/articles/{article}/confirm"),
        follow_redirects=False,
    )
    token = csrf_of(page)
    assert response.status_code == 303 and response.headers["location"] == "/review"
    values = {h["label"]: h["value"] for h in sqlite_store.label_history(article)}
    assert values == {"relevant": True, "pro_city_inclusion": True, "sovereignty_framing": False}
    assert client.post("/articles/424242/confirm", data={"csrf": token}).status_code == 404


def test_bulk_correction_sets_one_label_on_every_selected_article(sqlite_store: Store, feed: int) -> None:
    ids = [seed(sqlite_store, feed, title=f"Sovereignty story {n}", sovereignty=0.9) for n in range(3)]
    untouched = seed(sqlite_store, feed, title="Not selected", sovereignty=0.9)
    client = logged_in(sqlite_store)
    page = client.get("/articles")
    bulk = form_data(page.text, "/articles/labels")
    assert bulk["csrf"] and bulk["form_id"] and bulk["back"] == "/articles"
    response = client.post(
        "/articles/labels",
        data={**bulk, "ids": [str(i) for i in ids], "label": "sov", "value": "no", "note": "quoted only to rebut",
              "back": "/articles?sov=no"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Sovereignty set to no on 3 articles." in response.text
    listed = {int(m) for m in re.findall(r'data-article="(\d+)"', response.text)}
    assert set(ids) <= listed and untouched not in listed
    for article_id in ids:
        [label] = sqlite_store.label_history(article_id)
        assert (label["label"], label["value"], label["note"]) == (
            "sovereignty_framing",
            False,
            "quoted only to rebut",
        )
    again = client.post(
        "/articles/labels",
        data={"csrf": csrf_of(page.text), "ids": [str(i) for i in ids], "label": "sov", "value": "no"},
        follow_redirects=True,
    )
    assert "on 0 articles (3 already had it)" in again.text
    nothing = client.post("/articles/labels", data={"csrf": csrf_of(page.text), "label": "sov", "value": "no"},
                          follow_redirects=True)  # fmt: skip
    assert "Select at least one article" in nothing.text


# ------------------------------------------------------------------------------ exports
def test_csv_export_neutralises_formulas_and_follows_the_filter(sqlite_store: Store, feed: int) -> None:
    for title in ('=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "\tTabbed", "Plain title"):
        seed(sqlite_store, feed, title=title)
    seed(sqlite_store, feed, title="=Not relevant", relevant=0.1)
    client = logged_in(sqlite_store)
    response = client.get("/export.csv?relevant=yes")
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    titles = {r["title"] for r in rows}
    assert titles == {
        '\'=HYPERLINK("http://evil","x")',
        "'+1+1",
        "'-2+3",
        "'@SUM(A1)",
        "'\tTabbed",
        "Plain title",
    }
    for row in rows:
        assert all(not value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())
        assert (
            row["relevant"] == "yes"
            and row["relevant_source"] == "model"
            and float(row["relevant_score"]) > 0.5
        )
        assert row["archive_url"].startswith("http://testserver/articles/")


def test_jsonl_export_carries_every_label_source_score_and_evidence(
    sqlite_store: Store, article: int
) -> None:
    client = logged_in(sqlite_store)
    response = client.get("/export.jsonl?q=mayors")
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert [item["id"] for item in lines] == [article]
    item = lines[0]
    assert set(item["labels"]) == {"relevant", "pro_city_inclusion", "sovereignty_framing"}
    assert (
        item["labels"]["pro_city_inclusion"]["score"] == 0.8
        and item["labels"]["relevant"]["source"] == "model"
    )
    assert item["evidence"]["pro_city_inclusion"] == [
        "The mayors asked the UN for a formal role in the review."
    ]
    assert item["outlet"] == "Example News" and item["url"].startswith("https://") and item["published_at"]


# ------------------------------------------------------------------------------ API
def test_api_returns_the_same_filters_with_cursors(sqlite_store: Store, feed: int) -> None:
    for n in range(7):
        seed(sqlite_store, feed, title=f"Compact item {n}", language="fr" if n % 2 else "en")
    client = client_for(sqlite_store)
    auth = {"Authorization": "Bearer api-token-123"}
    first = client.get("/api/articles?lang=fr&limit=2", headers=auth).json()
    assert first["count"] == 3 and len(first["items"]) == 2
    rest = client.get(f"/api/articles?lang=fr&limit=2&cursor={first['next_cursor']}", headers=auth).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {i["language"] for i in first["items"] + rest["items"]} == {"fr"}
    assert client.get("/api/articles?cursor=%%%", headers=auth).status_code == 400
    stories = client.get("/api/stories?lang=en", headers=auth).json()["items"]
    assert len(stories) == 4 and all(s["matching_articles"] == 1 for s in stories)
    feeds = client.get("/api/feeds", headers=auth).json()["items"]
    assert feeds[0]["name"] == "Harbour Chronicle" and feeds[0]["status"] == "never_polled"
    warned = client.get("/api/articles?relevant=maybe", headers=auth).json()
    assert warned["warnings"] and warned["count"] == 7
    assert client.get("/api/articles/999", headers=auth).status_code == 404


def test_logged_in_browser_may_read_the_api_without_a_token(sqlite_store: Store, article: int) -> None:
    client = logged_in(sqlite_store)
    assert client.get("/api/articles").json()["count"] == 1


# ------------------------------------------------------------------------------ both databases
@pytest.mark.parametrize(
    "query", ['"', "AND", "NEAR(", 'rates" AND (( -bank', "title:*", "-mayors", "-", "é" * 3000]
)
def test_hostile_searches_through_the_web_never_fail_on_either_database(store: Store, query: str) -> None:
    feed = add_feed(store, "https://a.example/rss")
    seed(store, feed, title="Mayors and the compact")
    client = login(client_for(store))
    for path in ("/articles", "/trends", "/export.csv", "/export.jsonl"):
        assert client.get(path, params={"q": query}).status_code == 200, path
    api = client.get("/api/articles", params={"q": query}, headers={"Authorization": "Bearer api-token-123"})
    assert api.status_code == 200


def test_corrections_and_filters_work_the_same_on_postgres(store: Store) -> None:
    feed = add_feed(store, "https://a.example/rss")
    article_id = seed(store, feed, title="Café des maires: the compact", city=0.2)
    client = login(client_for(store))
    page = client.get(f"/articles/{article_id}")
    form = form_data(page.text, f"/articles/{article_id}/labels")
    client.post(f"/articles/{article_id}/labels", data={**form, "city": "yes", "action": "save"})
    listing = client.get("/articles", params={"q": "cafe", "city": "yes", "source": "analyst"}).text
    assert f'data-article="{article_id}"' in listing and '<span class="marker">analyst</span>' in listing
