"""A cycle killed between storing and relaying loses nothing and sends nothing twice."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import yaml

from alerts.local_slack import LocalSlack
from alerts.relay import SlackSender, relay_alerts
from alerts.slack import make_client
from pipeline.localserver import LocalServer
from pipeline.store import open_store
from tests.conftest import REPO
from tests.factories import CITY_STORY, news_page, rss

SOVEREIGNTY_STORY = [
    "The government announced on Monday that it will not endorse the UN Global Compact for Migration, "
    "saying the agreement would erode the country's right to decide who may cross its borders.",
    "\u201cNo international text, binding or not, will dictate our immigration law,\u201d the interior "
    "minister told parliament, adding that the compact could be used by courts to reinterpret "
    "national rules through the back door.",
    "The decision follows similar refusals by several European governments ahead of the Marrakech "
    "conference, where the compact is due to be adopted next month.",
    "Supporters of the pact said it is explicitly non-binding and reaffirms national sovereignty, "
    "but the opposition accused ministers of sacrificing the country's autonomy.",
]


def test_cycle_killed_before_the_relay_loses_no_article_and_sends_each_alert_once(
    tmp_path: Path, site: LocalServer, slack: LocalSlack
) -> None:
    stories = {
        "/cities": ("Cities demand a role in the migration compact review", CITY_STORY),
        "/refusal": ("Government refuses to sign UN migration compact", SOVEREIGNTY_STORY),
        "/sport": (
            "Local side wins the cup final on penalties",
            ["The home team won the final after a goalless two hours, converting all five penalties."] * 4,
        ),
    }
    for path, (title, paragraphs) in stories.items():
        site.route(path, body=news_page(title, paragraphs), content_type="text/html")
    items = [(title, site.url(path), "summary") for path, (title, _) in stories.items()]
    site.route("/feed", body=rss(site.base_url, items), content_type="application/rss+xml")
    feeds_file = tmp_path / "feeds.yaml"
    feeds_file.write_text(yaml.safe_dump({"feeds": [{"name": "Local", "url": site.url("/feed")}]}))
    db_url = f"sqlite:///{tmp_path / 'crash.db'}"

    child = subprocess.run(
        [sys.executable, "-m", "tests.crash_cycle", db_url, str(feeds_file), str(REPO / "models")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert "stored 3" in child.stdout

    store = open_store(db_url)
    assert store.count_articles() == 3
    pending = store.alert_counts().get("pending", 0)
    assert pending >= 2  # the two compact stories are relevant; the football final is not
    sender = SlackSender(make_client("xoxb-test", slack.api_url))
    first = relay_alerts(store, sender, channel_interval=0.0)
    second = relay_alerts(store, sender, channel_interval=0.0)
    assert first.sent == pending
    assert second.sent == 0
    alert_ids = [m.metadata["event_payload"]["alert_id"] for m in slack.posts()]  # type: ignore[index]
    assert len(alert_ids) == pending == len(set(alert_ids))
