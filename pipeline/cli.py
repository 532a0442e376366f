"""The `compactwatch` command line.

Every command reports problems as one line (`error: ...`) and exits non-zero; tracebacks
are for bugs only. Commands only wire things together: the work happens in the stages.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.errors import CompactwatchError

try:  # typer ≥ 0.20 ships its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer uses click itself
    import click.exceptions as click_errors  # type: ignore[no-redef]

if TYPE_CHECKING:
    from pipeline.runtime import Runtime
    from pipeline.settings import Settings

# Start-up stays light: `--version`, `--help` and every command import the runtime (store,
# fetcher, orchestrator), rich, the settings and the classifier only in the function bodies
# that use them.

app = typer.Typer(
    help="compactwatch: press monitoring of the UN migration compacts and cities' place in them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
feeds_app = typer.Typer(help="List feeds with their health; import and export OPML.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
alerts_app = typer.Typer(help="Inspect the Slack alert outbox.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
app.add_typer(db_app, name="db")
app.add_typer(alerts_app, name="alerts")
sessions_app = typer.Typer(help="Archive login sessions: list them, revoke them.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"compactwatch {version('compactwatch')}")
        except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
            print("compactwatch (not installed)")
        raise typer.Exit()


@app.callback()
def _main_options(
    _version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """compactwatch: press monitoring of the UN migration compacts and cities' place in them."""


def _settings() -> Settings:
    from pipeline.runtime import configure_logging
    from pipeline.settings import load_settings

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


def _when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


# ---------------------------------------------------------------------------- run / once
@app.command()
def run(
    web: Annotated[bool, typer.Option("--web", help="Also serve the analyst archive.")] = False,
) -> None:
    """Poll every feed on its schedule and relay alerts until Ctrl-C."""
    from pipeline.runtime import Runtime, console
    from pipeline.scheduler import build_scheduler, run_until_stopped

    settings = _settings()
    if settings.engine == "celery":  # scale-out: `run` is the scheduler; workers run elsewhere
        from pipeline.celery_runner.processes import run_scheduler

        console.print("COMPACTWATCH_ENGINE=celery: this is the scheduler; workers: `compactwatch worker`")
        run_scheduler(settings)
        return
    runtime = Runtime.open(settings)
    enabled = [f for f in runtime.feeds if f.enabled]
    console.print(
        f"compactwatch: {len(enabled)} feeds from {settings.feeds}, store {_safe_url(settings.database_url)}"
    )
    console.print(f"alerts: {runtime.slack_mode()}")
    sender = runtime.sender()
    web_server = None
    if web:
        from pipeline.web import serve_web_in_background

        web_server = serve_web_in_background(settings, runtime.store)
    # The relay runs on its own thread: on its timer, and woken whenever a feed commits alerts.
    relay_loop = runtime.relay_loop(sender).start()
    with runtime.orchestrator(on_commit=relay_loop.wake) as orchestrator:
        scheduler = build_scheduler(
            orchestrator,
            runtime.store,
            enabled,
            relay_loop.wake,
            relay_interval=settings.relay_interval,
            workers=settings.workers,
            extra_jobs=_extra_jobs(runtime, web),
            status_minutes=settings.status_minutes,
        )
        console.print("running; press Ctrl-C to stop")
        try:
            run_until_stopped(scheduler)
        finally:
            relay_loop.stop()
    if web_server is not None:
        web_server.should_exit = True
    console.print("stopped cleanly")


def _extra_jobs(runtime: Runtime, web: bool):  # type: ignore[no-untyped-def]
    try:
        from alerts.schedule import add_scheduled_jobs
    except ImportError:
        return None
    return lambda scheduler: add_scheduled_jobs(scheduler, runtime, web=web)


@app.command()
def once(
    force: Annotated[bool, typer.Option("--force", help="Poll every feed, even those backing off.")] = False,
) -> None:
    """Run one full cycle (poll, fetch, classify, store, alert), print a summary, exit."""
    from pipeline.cycle_view import print_summary, run_cycle_with_progress
    from pipeline.runtime import Runtime, console

    settings = _settings()
    runtime = Runtime.open(settings)
    due = runtime.store.due_feeds(datetime.now(UTC) + timedelta(days=3650) if force else None)
    console.print(f"alerts: {runtime.slack_mode()}")
    summary = run_cycle_with_progress(runtime, due)
    from alerts.shift_cycle import check_shifts

    check_shifts(runtime.store, runtime.alerts_config(), archive_url=settings.archive_url)  # shift alerts
    # Every due alert goes out (batch after batch), waiting up to a minute for rate limits.
    report = runtime.relay(runtime.sender(), linger=60.0)
    counts = runtime.store.alert_counts()
    print_summary(summary, report.delivered, counts.get("pending", 0) + counts.get("sending", 0))
    from pipeline.logs import log_cycle

    log_cycle(logging.getLogger("compactwatch"), summary, report.delivered)


# ---------------------------------------------------------------------------- feeds
@feeds_app.command("list")
def feeds_list() -> None:
    """Every feed with its health, failing ones first."""
    from rich.table import Table
    from rich.text import Text

    from pipeline.runtime import Runtime, console

    runtime = Runtime.open(_settings())
    table = Table(show_lines=False)  # fits 80 columns: long names and errors wrap, nothing is cut
    table.add_column("feed", ratio=1, min_width=8, overflow="fold")
    table.add_column("status", no_wrap=True)
    for column in ("last ok", "fails", "next poll", "found"):
        table.add_column(column, max_width=10, overflow="fold")
    table.add_column("last error", ratio=2, min_width=12, overflow="fold")
    for row in runtime.store.feed_rows():
        status = str(row["status"])
        colour = {"failing": "red", "ok": "green"}.get(status, "yellow")
        table.add_row(
            Text(str(row["name"])),
            f"[{colour}]{status}[/]",
            _when(row["last_success_at"]),  # type: ignore[arg-type]
            str(row["consecutive_failures"]),
            _when(row["next_due_at"]),  # type: ignore[arg-type]
            str(row["articles_found"]),
            Text(str(row["last_error"] or "")),
        )
    console.print(table)


@feeds_app.command("import")
def feeds_import(
    opml: Annotated[Path, typer.Argument(help="OPML file to import.", exists=True, dir_okay=False)],
) -> None:
    """Add the feeds of an OPML file to feeds.yaml, skipping ones already there."""
    from pipeline.feeds_config import dump_feeds, load_feeds
    from pipeline.opml import merge_feeds, parse_opml
    from pipeline.runtime import console

    settings = _settings()
    existing = load_feeds(settings.feeds) if settings.feeds.exists() else []
    result = merge_feeds(existing, parse_opml(opml.read_bytes()))
    dump_feeds(result.feeds, settings.feeds)
    console.print(
        f"imported {result.added} feeds into {settings.feeds}; "
        f"skipped {result.skipped_duplicates} duplicates and {result.skipped_invalid} invalid entries"
    )


@feeds_app.command("export")
def feeds_export(
    out: Annotated[Path | None, typer.Argument(help="Write OPML here (default: stdout).")] = None,
) -> None:
    """Write feeds.yaml as OPML 2.0 for any feed reader."""
    from pipeline.feeds_config import load_feeds
    from pipeline.opml import export_opml
    from pipeline.runtime import console

    settings = _settings()
    text = export_opml(load_feeds(settings.feeds))
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


# ---------------------------------------------------------------------------- articles
@app.command()
def articles(
    relevant: Annotated[
        bool | None, typer.Option("--relevant/--irrelevant", help="Only relevant (or irrelevant) articles.")
    ] = None,
    frame: Annotated[
        str | None,
        typer.Option(help="Only articles with this frame: pro_city_inclusion or sovereignty_framing."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only articles fetched since: 2026-11-01, or 7d, 24h.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many to show.")] = 30,
) -> None:
    """Recent articles with their labels (analyst corrections marked *)."""
    if frame not in (None, "pro_city_inclusion", "sovereignty_framing"):
        raise typer.BadParameter("use pro_city_inclusion or sovereignty_framing", param_hint="--frame")
    from rich.table import Table

    from pipeline.runtime import Runtime, console
    from pipeline.store import ArticleFilter

    runtime = Runtime.open(_settings())
    rows = runtime.store.articles(
        ArticleFilter(relevant=relevant, frame=frame, since=parse_since(since), limit=limit)
    )
    table = Table()
    for column in ("id", "fetched", "outlet", "title", "rel", "city", "sov", "extraction"):
        table.add_column(column)
    for a in rows:

        def mark(label: str, a=a) -> str:  # type: ignore[no-untyped-def]
            value = "yes" if a.label(label) else "-"
            return value + ("*" if a.is_corrected(label) else "")

        table.add_row(
            str(a.id),
            _when(a.fetched_at),
            (a.outlet or "")[:20],
            a.title[:70],
            f"{mark('relevant')} {a.relevance:.2f}",
            mark("pro_city_inclusion"),
            mark("sovereignty_framing"),
            a.extraction_status,
            style=None if a.label("relevant") else "dim",
        )
    console.print(table)
    if not rows:
        console.print("no articles match")


def parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    value = value.strip()
    units = {"d": "days", "h": "hours", "m": "minutes", "w": "weeks"}
    if value[:-1].isdigit() and value[-1] in units:
        return datetime.now(UTC) - timedelta(**{units[value[-1]]: int(value[:-1])})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date (2026-11-01) or age (7d)", param_hint="--since"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---------------------------------------------------------------------------- alerts
@alerts_app.command("list")
def alerts_list(
    failed: Annotated[
        bool, typer.Option("--failed", help="Only alerts that failed or whose outcome is unknown.")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
) -> None:
    """Alerts in the outbox with their delivery status."""
    from rich.table import Table
    from rich.text import Text

    from pipeline.runtime import Runtime, console

    runtime = Runtime.open(_settings())
    rows = runtime.store.alerts(status=("failed", "unknown") if failed else None, limit=limit)
    table = Table()
    for column in ("id", "channel", "status", "tries"):
        table.add_column(column, no_wrap=True)
    table.add_column("title", ratio=1, min_width=12, overflow="fold")
    table.add_column("error", ratio=1, min_width=12, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]), str(r["channel"]), str(r["status"]), str(r["attempts"]),
            Text(str(r["title"] or "")), Text(str(r["last_error"] or "")),
        )  # fmt: skip
    console.print(table)
    console.print(
        ", ".join(f"{k}: {v}" for k, v in sorted(runtime.store.alert_counts().items())) or "no alerts"
    )


@alerts_app.command("test")
def alerts_test(
    article_id: Annotated[int, typer.Argument(help="Article id (see `compactwatch articles`).")],
) -> None:
    """Show which routes an article matches, and why (routing file or the default route)."""
    from alerts.routing import RoutingInput, route_article
    from pipeline.runtime import Runtime, console

    runtime = Runtime.open(_settings())
    article = runtime.store.article(article_id)
    if article is None:
        raise CompactwatchError(f"no article with id {article_id}")
    feed = next((f for f in runtime.feeds if f.name == article.feed_name), None)
    item = RoutingInput.from_article(article, feed.tags if feed else ())
    console.print(f"article {article.id}: ", end="")
    console.print(article.title, markup=False)
    for decision in route_article(runtime.alerts_config(), item):
        verdict = "[green]matches[/]" if decision.matched else "[red]no match[/]"
        where = "digest only" if decision.route.digest_only else decision.route.channel
        console.print(f"route {decision.route.name} ({where}): {verdict}")
        for reason in decision.reasons:
            console.print(f"    {reason}", markup=False)


@app.command()
def stories(limit: Annotated[int, typer.Option(min=1, max=500)] = 20) -> None:
    """Stories carried by more than one outlet (syndicated copies, near-duplicates)."""
    from rich.table import Table

    from pipeline.runtime import Runtime, console

    runtime = Runtime.open(_settings())
    table = Table()
    for column in ("story", "articles", "title", "outlets"):
        table.add_column(column)
    for story in runtime.store.stories(limit):
        outlets = ", ".join(story["outlets"])  # type: ignore[arg-type]
        table.add_row(str(story["id"]), str(story["members"]), str(story["title"])[:60], outlets[:80])
    console.print(table)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default COMPACTWATCH_WEB_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default COMPACTWATCH_WEB_PORT).")] = None,
) -> None:
    """Serve the analyst archive and Slack's interactivity endpoint (/slack/actions)."""
    from pipeline.runtime import Runtime
    from pipeline.web import serve_web

    settings = _settings()
    updates = {k: v for k, v in (("web_host", host), ("web_port", port)) if v is not None}
    serve_web(settings.model_copy(update=updates), Runtime.open(settings).store)


# ---------------------------------------------------------------------------- sessions
@sessions_app.command("revoke")
def sessions_revoke(
    all_: Annotated[bool, typer.Option("--all", help="End every archive session.")] = False,
    user: Annotated[str | None, typer.Option("--user", help="End this analyst's sessions.")] = None,
) -> None:
    """Log people out of the archive now (a copied session cookie stops working at once)."""
    from pipeline.runtime import Runtime, console
    from pipeline.store.sessions import revoke_sessions

    if all_ == (user is not None):
        raise CompactwatchError("say whose sessions to end: --all, or --user NAME")
    ended = revoke_sessions(Runtime.open(_settings()).store, None if all_ else user)
    console.print(f"{ended} session{'' if ended == 1 else 's'} ended" + (f" for {user}" if user else ""))


@sessions_app.command("list")
def sessions_list() -> None:
    """Archive sessions that are open now: who, how they logged in, since when."""
    from rich.table import Table
    from rich.text import Text

    from pipeline.runtime import Runtime, console
    from pipeline.store.sessions import standing_sessions

    rows = standing_sessions(Runtime.open(_settings()).store)
    table = Table()
    for column in ("user", "via", "since", "expires"):
        table.add_column(column, no_wrap=True)
    for row in rows:
        since, expires = f"{row['since']:%Y-%m-%d %H:%M}", f"{row['expires']:%Y-%m-%d %H:%M}"
        table.add_row(Text(str(row["user"])), str(row["via"]), since, expires)
    console.print(table if rows else "no open sessions")


# ---------------------------------------------------------------------------- db / settings
@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (also done automatically on start)."""
    from pipeline.runtime import console
    from pipeline.store import open_store

    settings = _settings()
    open_store(settings.database_url)
    console.print(f"database at {_safe_url(settings.database_url)} is up to date")


@app.command("settings")
def show_settings() -> None:
    """Print every setting, its environment variable and its effective value (secrets hidden)."""
    from rich.table import Table

    from pipeline.runtime import console
    from pipeline.settings import Settings, env_name

    settings = _settings()
    table = Table()
    for column in ("environment variable", "value", "meaning"):
        table.add_column(column)
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        shown = "********" if value is not None and "Secret" in type(value).__name__ else str(value)
        table.add_row(env_name(name), shown, field.description or "")
    console.print(table)


@app.command("hash-password")
def hash_password_command() -> None:
    """Print an argon2 hash for COMPACTWATCH_ANALYSTS (the password is asked, not echoed)."""
    from archive.auth import hash_password

    password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    print(hash_password(password))


@app.command()
def demo(
    serve: Annotated[
        bool, typer.Option("--serve", help="Leave the archive UI running on the demo data.")
    ] = False,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the temporary folder (database, digest preview) on exit.")
    ] = False,
) -> None:
    """Run one cycle against bundled sample feeds and a local Slack server; show what Slack got."""
    from pipeline.demo import run_demo

    run_demo(serve=serve, keep=keep)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def _register_optional_commands() -> None:
    """Commands from other packages; missing ones are simply absent."""
    try:
        from classifiers import commands as classifier_commands

        app.command("classify")(classifier_commands.classify)
        app.command("train")(classifier_commands.train)
        app.command("eval")(classifier_commands.eval)
    except ImportError:
        pass
    try:
        from alerts.digest_command import digest

        app.command("digest")(digest)
    except ImportError:
        pass
    from pipeline.celery_runner import commands as scale_out

    app.command("scheduler")(scale_out.scheduler)
    app.command("worker")(scale_out.worker)
    app.command("relay")(scale_out.relay)


_register_optional_commands()


def main() -> None:
    """Entry point: one clear line for user errors, exit codes 1 (error) and 2 (usage)."""
    try:
        app(standalone_mode=False, prog_name="compactwatch")
    except (typer.Exit, SystemExit) as done:
        sys.exit(getattr(done, "exit_code", getattr(done, "code", 0)))
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except click_errors.UsageError as error:
        if type(error).__name__ == "NoArgsIsHelpError" and error.ctx is not None:
            print(error.ctx.get_help())
            sys.exit(0)
        path = error.ctx.command_path if error.ctx else "compactwatch"
        print(f"error: {error.format_message()} (see: {path} --help)", file=sys.stderr)
        sys.exit(2)
    except click_errors.ClickException as error:
        print(f"error: {error.format_message()}", file=sys.stderr)
        sys.exit(error.exit_code)
    except CompactwatchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
