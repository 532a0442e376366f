"""The archive in a real browser: Playwright driving Debian's Chromium (no browser download).

Skips on a machine without /usr/bin/chromium, but fails under CI=true: CI must never pass
by silently testing less (.ci/run installs the package).
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from archive.app import ArchiveThread, create_app
from archive.browser import CHROMIUM, CHROMIUM_ARGS
from pipeline.store import Store
from tests.factories import add_feed
from tests.test_archive_support import PASSWORD, archive_settings, seed

pytestmark = pytest.mark.browser


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{CHROMIUM} is required under CI (apt-get install chromium)")
    pytest.skip(f"{CHROMIUM} is not installed")


def test_analyst_logs_in_searches_corrects_a_frame_sees_it_listed_and_downloads_csv(
    sqlite_store: Store, tmp_path: Path
) -> None:
    require_chromium()
    from playwright.sync_api import expect, sync_playwright

    feed = add_feed(sqlite_store, "https://a.example/rss", name="Harbour Chronicle")
    target = seed(
        sqlite_store,
        feed,
        title="Mayors demand a seat at the compact review",
        text="Forty mayors wrote to the United Nations.\n\nThey want a formal role in the review.",
        city=0.3,  # the model missed the pro-city frame
    )
    seed(sqlite_store, feed, title="Tram fares rise again", relevant=0.1)
    seed(sqlite_store, feed, title="Minister rejects the compact", sovereignty=0.9)
    app = create_app(archive_settings(tmp_path), sqlite_store)

    with ArchiveThread(app) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
            page = context.new_page()

            page.goto(f"{server.url}/articles")
            expect(page).to_have_url(f"{server.url}/login?next=%2Farticles")
            page.fill("input[name=name]", "ana")
            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text("Articles")

            page.fill("input[name=q]", "mayors seat")
            page.click("button:has-text('Search')")
            rows = page.locator("tr[data-article]")
            expect(rows).to_have_count(1)
            expect(rows.first.locator("mark.match").first).to_be_visible()

            page.click("text=Mayors demand a seat at the compact review")
            expect(page.locator("h1")).to_have_text("Mayors demand a seat at the compact review")
            page.click("label[for=city-yes]")
            page.fill("textarea[name=note]", "the petition is the lead story")
            page.click("button:has-text('Save changes')")
            expect(page.locator(".notice.ok")).to_have_text("Saved: Pro-city.")
            expect(page.locator("ol.history")).to_contain_text("the petition is the lead story")

            page.goto(f"{server.url}/articles?city=yes")
            row = page.locator(f'tr[data-article="{target}"]')
            expect(row).to_have_count(1)
            expect(row.locator(".badge.corrected .marker")).to_have_text("analyst")

            with page.expect_download() as download_info:
                page.click("a.btn:has-text('CSV')")
            download = download_info.value
            assert download.suggested_filename.endswith(".csv")
            content = Path(download.path()).read_text(encoding="utf-8-sig")
            exported = list(csv.DictReader(io.StringIO(content)))
            assert [int(r["id"]) for r in exported] == [target]
            assert exported[0]["pro_city_inclusion"] == "yes"
            assert exported[0]["pro_city_inclusion_source"] == "analyst"
            assert exported[0]["pro_city_inclusion_model"] == "no"
        finally:
            browser.close()
    history = sqlite_store.label_history(target)
    assert [(h["label"], h["value"], h["who"], h["source"]) for h in history] == [
        ("pro_city_inclusion", True, "ana", "ui")
    ]
