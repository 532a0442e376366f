"""The demo's shift alerts: the sample weeks replayed as compactwatch would have lived them.

The bundled pages alone are too few stories for a shift to be measurable, so the demo adds
the outlets' earlier coverage (`pipeline/demo_data/history.py`, labelled by its author and
stored as model version `demo-history`), serves a small page for each of those stories, and
then runs the shift detectors once an hour from 3 to 23 November 2026, relaying whatever
they post, exactly as `compactwatch run` does after its cycles.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

from alerts.shift_cycle import check_shifts
from pipeline.dedupe import fingerprint_article
from pipeline.demo_data import OUTLETS
from pipeline.demo_data.history import history_entries
from pipeline.localserver import LocalServer
from pipeline.records import Classification, Extraction, FeedEntry, FrameResult, NewArticle
from pipeline.runtime import Runtime, console
from pipeline.shifts import Timeline, group_stories
from pipeline.store.shift_queries import article_points

REPLAY_FROM = datetime(2026, 11, 3, tzinfo=UTC)
REPLAY_UNTIL = datetime(2026, 11, 23, 12, tzinfo=UTC)
MODEL = "demo-history"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:80]


def store_history(runtime: Runtime, site: LocalServer) -> int:
    """Serve a page for every history story and store it with its author's labels."""
    stored = 0
    for when, key, labels, title, summary in history_entries():
        outlet = OUTLETS[key]
        found = runtime.store.feed(str(outlet["name"]))
        if found is None:
            continue
        path = f"/{key}/{when:%Y/%m}/{_slug(title)}.html"
        url = f"{site.base_url}{path}"
        heading, body = html.escape(title), html.escape(summary)
        page = f"<!doctype html><title>{heading}</title><h1>{heading}</h1><p>{body}</p>"
        site.route(path, body=page, content_type="text/html; charset=utf-8")
        text = f"{title}. {summary}"
        cls = Classification(
            relevant=True,
            relevance=0.9,
            pro_city_inclusion=FrameResult(
                "pro_city_inclusion" in labels, 0.9 if "pro_city_inclusion" in labels else 0.1
            ),
            sovereignty_framing=FrameResult(
                "sovereignty_framing" in labels, 0.9 if "sovereignty_framing" in labels else 0.1
            ),
            model_version=MODEL,
            language="en",
        )
        saved = runtime.store.save_article(
            NewArticle(
                feed_id=found[1].feed_id,
                url=url,
                canonical_url=url,
                entry=FeedEntry(link=url, title=title, summary=summary, published=when),
                extraction=Extraction(
                    status="ok", title=title, text=text, published=when, site_name=str(outlet["name"])
                ),
                fingerprint=fingerprint_article(title, text),
                classification=cls,
            )
        )
        stored += int(saved.created)
    return stored


def replay_shifts(runtime: Runtime, site: LocalServer) -> list[str]:
    """Store the history, then run the detectors hourly over the sample weeks, relaying
    after every round that opened or ended a finding. Returns the headlines posted."""
    console.rule("shift alerts: the sample weeks replayed hour by hour")
    count = store_history(runtime, site)
    console.print(
        f"stored {count} earlier stories (pipeline/demo_data/history.py) as the detectors' baseline"
    )
    config = runtime.alerts_config()
    settings = runtime.settings
    archive_url = settings.archive_url or f"http://{settings.web_host}:{settings.web_port}"
    lookback = config.shifts.thresholds.lookback
    timeline = Timeline(group_stories(article_points(runtime.store, REPLAY_FROM - lookback, REPLAY_UNTIL)))
    sender = runtime.sender()
    headlines: list[str] = []
    now = REPLAY_FROM
    while now <= REPLAY_UNTIL:
        report = check_shifts(runtime.store, config, now=now, archive_url=archive_url, timeline=timeline)
        for headline in report.opened:
            console.print(f"  {now:%a %d %b %H:%M} UTC  finding: {headline}", markup=False, highlight=False)
        if report.ended:
            console.print(f"  {now:%a %d %b %H:%M} UTC  {report.ended} finding(s) ended", markup=False)
        if report.opened or report.ended:
            runtime.relay(sender, channel_interval=0.0)
        headlines += report.opened
        now += timedelta(hours=1)
    if not headlines:
        console.print("no shift finding in the sample weeks")
    return headlines
