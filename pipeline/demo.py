"""`compactwatch demo`: the whole product on one machine, with no Slack and no internet.

Serves the bundled sample outlets (pipeline/demo_data) and a local Slack Web API server on
127.0.0.1, runs one real cycle into a temporary database, relays the alerts through the
real slack-sdk client, and prints the messages exactly as the Slack server received them.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import yaml
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from alerts.local_slack import LocalSlack, SlackMessage
from pipeline.demo_data import demo_feeds, demo_site
from pipeline.demo_shifts import replay_shifts
from pipeline.localserver import LocalServer
from pipeline.runtime import Runtime, configure_logging, console
from pipeline.settings import load_settings
from pipeline.store import ArticleFilter

DEMO_CHANNEL = "#compact-alerts"


def serve_demo_site(server: LocalServer) -> list[dict[str, object]]:
    """Register every demo page and feed on `server`; return the feeds.yaml entries."""
    for path, (content_type, body) in demo_site(server.base_url).items():
        server.route(path, body=body, content_type=content_type)
    return demo_feeds(server.base_url)


ROUTES = """alerts:
  ops_channel: "#compactwatch-ops"
  burst: {{max_messages: {burst}, window_seconds: 600}}
  routes:
    - name: everything
      channel: "#compact-alerts"
      shift_alerts: true
    - name: cities-team
      channel: "#cities-team"
      frames_any: [pro_city_inclusion]
"""


def run_demo(*, serve: bool = False, workdir: Path | None = None, keep: bool = False) -> Runtime:
    """Run the showcase in `workdir`, or in a temporary folder removed on exit (unless `keep`)."""
    if workdir is not None:
        return _run_in(workdir, serve=serve)
    tmp = Path(tempfile.mkdtemp(prefix="compactwatch-demo-"))
    try:
        return _run_in(tmp, serve=serve)
    finally:
        if keep:
            console.print(f"kept the demo's folder (database, digest preview): {tmp}", markup=False)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            console.print("removed the demo's temporary folder (--keep keeps its database and digest)")


def _run_in(tmp: Path, *, serve: bool) -> Runtime:
    """Run the showcase; with `serve`, keep the archive UI running on the demo data.

    Two rounds: three outlets are polled first and their alerts posted one by one (the
    wire story republished by a second outlet edits its alert: "also in"); then two more
    outlets arrive at once, and with the burst limit lowered their alerts go out as one
    summary per channel.
    """
    with LocalServer() as site, LocalSlack() as slack:
        feeds = serve_demo_site(site)
        feeds_file, routes_file = tmp / "feeds.yaml", tmp / "alerts.yaml"
        settings = load_settings(
            database_url=f"sqlite:///{tmp / 'demo.db'}",
            feeds=feeds_file,
            routes=routes_file,
            allow_private_networks=True,
            per_host_delay=0.0,
            slack_bot_token="xoxb-demo-token",
            slack_api_url=slack.api_url,
            slack_channel="#compact-alerts",
            log_level="WARNING",
        )
        configure_logging(settings.log_level)
        console.rule("compactwatch demo")
        console.print(f"sample outlets served at {site.base_url}, Slack API at {slack.api_url}")
        console.print(f"temporary database: {tmp / 'demo.db'}")

        from pipeline.cycle_view import print_summary, run_cycle_with_progress

        runtime: Runtime | None = None
        rounds = ((feeds[:3], 50, "round 1: three outlets"), (feeds, 3, "round 2: two more outlets at once"))
        for round_feeds, burst, title in rounds:
            feeds_file.write_text(yaml.safe_dump({"feeds": round_feeds}, sort_keys=False))
            routes_file.write_text(ROUTES.format(burst=burst))
            runtime = Runtime.open(settings)
            console.rule(title)
            summary = run_cycle_with_progress(runtime, runtime.store.due_feeds())
            report = runtime.relay(runtime.sender(), channel_interval=0.0)
            counts = runtime.store.alert_counts()
            print_summary(summary, report.sent + report.summarised, counts.get("pending", 0))
        assert runtime is not None
        show_articles(runtime)
        show_digest(runtime, tmp)  # before the shift history is stored: it is this week's digest
        replay_shifts(runtime, site)  # shift alerts over the sample weeks (issue 14)
        show_slack(slack)
        if serve:
            _serve_archive(runtime)
    return runtime


def show_articles(runtime: Runtime) -> None:
    table = Table(title="What compactwatch stored and how it classified it")
    table.add_column("title", no_wrap=True, max_width=40, overflow="ellipsis")
    for column in ("relevant", "pro-city", "sovereignty"):
        table.add_column(column, no_wrap=True, min_width=7)
    table.add_column("page", no_wrap=True)
    for a in runtime.store.articles(ArticleFilter(limit=200)):
        table.add_row(
            a.title + (" (copy)" if a.duplicate_of else ""),
            _score(a.relevant, a.relevance),
            _score(a.pro_city_inclusion, a.pro_city_inclusion_score),
            _score(a.sovereignty_framing, a.sovereignty_framing_score),
            "ok" if a.extraction_status == "ok" else "summary",
            style=None if a.relevant else "dim",
        )
    console.print(table)


def _score(present: bool, score: float) -> str:
    return f"{'yes' if present else ' - '} {score:.2f}"


def render_blocks(message: SlackMessage) -> str:
    """The message as a person would read it in Slack (mrkdwn links shown as text + URL)."""
    lines = []
    for block in message.blocks:
        if block.get("type") == "actions":
            buttons = [e.get("text", {}).get("text", "") for e in block.get("elements", [])]
            lines.append("[" + "] [".join(buttons) + "]")
            continue
        texts = [block.get("text", {}).get("text", "")] if block.get("text") else []
        texts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
        texts = [t for t in texts if isinstance(t, str)]
        for text in texts:
            if text:
                text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
                lines.append(text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    return "\n".join(lines) or message.text


def show_slack(slack: LocalSlack) -> None:
    posts = slack.posts()
    console.rule(f"Slack received {len(posts)} messages")
    for message in posts:
        title = Text(f"{message.channel}  ts={message.ts}")
        console.print(Panel(Text(render_blocks(message)), title=title, expand=False))
        for update in message.updates:
            also = [
                e.get("text", "")
                for b in update.get("blocks", [])
                for e in b.get("elements", [])
                if isinstance(e, dict) and "also in" in str(e.get("text", ""))
            ]
            console.print(f"  edited in place → {also[0] if also else update.get('text')}", markup=False)
        for reply in slack.replies(message.ts):
            console.print(f"  thread reply: {reply.text}", markup=False)


def show_digest(runtime: Runtime, tmp: Path) -> None:
    """Write this week's digest preview for the demo data (the email directors receive)."""
    from zoneinfo import ZoneInfo

    from alerts.digest import build_digest, digest_subject
    from alerts.digest_command import resolve_period, write_preview

    settings = runtime.settings
    week = datetime.now(ZoneInfo(settings.timezone)).strftime("%G-W%V")
    period = resolve_period(week, settings.timezone, day=settings.digest_day, at=settings.digest_time)
    built = build_digest(runtime.store, period, settings.timezone, archive_url=settings.archive_url)
    html, chart = write_preview(built, tmp / "digest.html", unsubscribe=settings.unsubscribe)
    console.rule("weekly digest")
    console.print(f"subject: {digest_subject(built)}", markup=False)
    console.print(f"preview: {html}" + (f" (chart {chart})" if chart else ""), markup=False)


def _serve_archive(runtime: Runtime) -> None:
    """Keep the archive (and /slack/actions) running on the demo data until Ctrl-C."""
    from pipeline.web import serve_web

    settings = runtime.settings
    console.rule("archive")
    serve_web(settings, runtime.store)
