"""`compactwatch digest`: preview the weekly digest, or email it exactly once per period.

`send_digest` is the one path that emails a digest; the command and the weekly scheduler
job both use it. For each recipient it claims the (period, recipient) row first, so a
digest already sent is skipped (unless `force`) and two senders never mail one person
twice; then it builds the message, sends everything over one SMTP connection, and
records each outcome. A refused connection or login marks every claimed recipient
`failed`, which keeps the digest re-sendable by simply running the command again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipeline.errors import CompactwatchError, ConfigError

try:  # typer ≥ 0.20 ships its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover - older typer uses click itself
    from click.exceptions import UsageError  # type: ignore[no-redef]

# The digest (Jinja2, its store queries: SQLAlchemy), the mailer, the settings and the store
# are imported by the functions that use them: registering `digest` loads none of them.
if TYPE_CHECKING:
    from datetime import datetime
    from email.message import EmailMessage

    from alerts.digest import Digest, Period
    from alerts.mailer import SmtpConfig
    from pipeline.records import StoredArticle
    from pipeline.settings import Settings
    from pipeline.store import Store

log = logging.getLogger("compactwatch")


class DigestSendError(CompactwatchError):
    """Some recipients did not get the digest; their rows are `failed` and re-sendable."""


@dataclass(frozen=True)
class RecipientResult:
    """status: sent | already_sent | in_progress (another send holds it, or died) | failed."""

    recipient: str
    status: str
    error: str | None = None


def split_recipient(recipient: str) -> tuple[str, tuple[str, ...]]:
    """`Jane <jane@x.org> | cities-team + sovereignty-watch` → the address and its routes.

    A recipient with routes gets a digest of only the articles those routes (from the
    routing file) select; one without gets the whole beat."""
    address_part, _, routes = recipient.partition("|")
    names = tuple(name.strip() for name in routes.split("+") if name.strip())
    return address_part.strip(), names


def recipient_key(recipient: str) -> str:
    """The address part, lower-cased: `Jane <JANE@x.org>` and `jane@x.org` are one person."""
    from alerts.digest import address

    return address(split_recipient(recipient)[0], what="recipient").addr_spec.lower()


def route_filter(
    store: Store, settings: Settings, names: Sequence[str]
) -> Callable[[StoredArticle], bool] | None:
    """The digest filter for a recipient's routes (None: everything relevant)."""
    if not names:
        return None
    from alerts.routing import AlertsConfig, RoutingInput, load_alerts_config, route_article

    config = load_alerts_config(settings.routes, settings.slack_channel)
    known = {route.name: route for route in config.routes}
    missing = [name for name in names if name not in known]
    if missing:
        raise ConfigError(f"digest recipient route {missing[0]!r} is not defined in {settings.routes}")
    selected = AlertsConfig(routes=tuple(known[name] for name in names))
    tags = {str(row["name"]): tuple(row["tags"]) for row in store.feed_rows()}  # type: ignore[arg-type]

    def include(article: StoredArticle) -> bool:
        item = RoutingInput.from_article(article, tags.get(article.feed_name, ()))
        return any(decision.matched for decision in route_article(selected, item))

    return include


def send_digest(
    store: Store,
    settings: Settings,
    period: Period,
    recipients: Sequence[str],
    *,
    force: bool = False,
    smtp: SmtpConfig | None = None,
    now: datetime | None = None,
) -> list[RecipientResult]:
    """Email the digest of `period` to each recipient that has not had it yet.

    Raises MailerError (one line) when the server cannot be reached or refuses the login;
    then nothing was sent and every claimed recipient is marked failed.
    """
    from alerts.digest import build_digest, build_message, zone
    from alerts.mailer import SmtpConfig, send_messages
    from pipeline.store.digest_queries import claim_digest, finish_digest

    tz = zone(settings.timezone)
    start, end = period.bounds(tz)
    unique = {recipient_key(r): r for r in recipients}  # validates every address first
    filters = {  # ... and every route named by a recipient
        routes: route_filter(store, settings, routes)
        for routes in {split_recipient(r)[1] for r in unique.values()}
    }
    config = smtp or SmtpConfig.from_settings(settings)
    results: dict[str, RecipientResult] = {}
    claimed: list[str] = []
    for key, recipient in unique.items():
        state = claim_digest(store, start, end, key, force=force)
        if state == "claimed":
            claimed.append(key)
        else:
            results[key] = RecipientResult(recipient, "already_sent" if state == "sent" else "in_progress")
    if not claimed:
        return [results[k] for k in unique]

    finished: set[str] = set()
    sending = False

    def fail(reason: str) -> None:
        for key in claimed:
            if key not in finished:
                finish_digest(store, start, key, error=reason)
                results[key] = RecipientResult(unique[key], "failed", reason)
                finished.add(key)

    try:
        digests: dict[tuple[str, ...], Digest] = {}
        messages: list[EmailMessage] = []
        for key in claimed:
            who, routes = split_recipient(unique[key])
            if routes not in digests:
                digests[routes] = build_digest(
                    store, period, tz, archive_url=settings.archive_url, now=now, include=filters[routes]
                )
            messages.append(
                build_message(
                    digests[routes],
                    sender=settings.digest_from,
                    recipient=who,
                    unsubscribe=settings.unsubscribe,
                )
            )
        sending = True
        deliveries = send_messages(config, messages)
    except CompactwatchError as error:
        fail(str(error))
        raise
    except Exception as error:  # a bug: still leave the digest re-sendable, then surface it
        fail(f"{type(error).__name__}: {error}")
        raise
    except BaseException:  # Ctrl-C: unknown outcome once SMTP began, so keep `sending`
        if not sending:
            fail("interrupted before sending")
        raise
    for key, delivery in zip(claimed, deliveries, strict=True):
        finish_digest(store, start, key, error=None if delivery.ok else delivery.error, now=now)
        results[key] = RecipientResult(unique[key], "sent" if delivery.ok else "failed", delivery.error)
        finished.add(key)
    return [results[k] for k in unique]


def write_preview(digest: Digest, path: Path, *, unsubscribe: str | None = None) -> tuple[Path, Path | None]:
    """Write FILE.html and, when there is a chart, FILE.png beside it (linked relatively)."""
    from alerts.digest import render_chart, render_html

    path = path.expanduser()
    if path.suffix.lower() == ".png":
        raise UsageError("--preview wants an .html file name; the chart is written beside it as .png")
    chart = path.with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    if digest.is_empty:
        path.write_text(render_html(digest, unsubscribe=unsubscribe), encoding="utf-8")
        return path, None
    chart.write_bytes(render_chart(digest))
    path.write_text(render_html(digest, chart_src=chart.name, unsubscribe=unsubscribe), encoding="utf-8")
    return path, chart


def resolve_period(
    week: str | None,
    tz_name: str,
    now: datetime | None = None,
    *,
    day: str = "mon",
    at: str = "08:00",
) -> Period:
    """--week 2026-W47, or by default the period of the latest scheduled send (the 7 full
    local days before it), the same definition the weekly job uses."""
    from alerts.digest import Period, zone
    from alerts.digest_period import scheduled_period

    if week is None:
        zone(tz_name)  # an unknown time zone is a one-line error before anything else
        return scheduled_period(day, at, tz_name, now)
    try:
        return Period.iso_week(week)
    except ValueError as error:
        raise UsageError(f"--week: {error}") from None


def digest(
    preview: Annotated[
        Path | None,
        typer.Option("--preview", metavar="FILE.html", help="Write the digest as HTML (and FILE.png)."),
    ] = None,
    send: Annotated[bool, typer.Option("--send", help="Email it to COMPACTWATCH_DIGEST_RECIPIENTS.")] = False,
    to: Annotated[
        str | None, typer.Option("--to", metavar="ADDRESS", help="Email it to one address.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Send again to recipients who already got this period.")
    ] = False,
    week: Annotated[
        str | None,
        typer.Option(
            "--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47 (default: the last 7 days)."
        ),
    ] = None,
) -> None:
    """Build the weekly digest email: preview it as HTML, or send it (once per period)."""
    if preview is None and not send and not to:
        raise UsageError("nothing to do: give --preview FILE.html, --send or --to ADDRESS")
    from alerts.digest import address, build_digest, digest_subject
    from alerts.mailer import SmtpConfig
    from pipeline.runtime import configure_logging, console
    from pipeline.settings import load_settings
    from pipeline.store import open_store

    settings = load_settings()
    configure_logging(settings.log_level)
    period = resolve_period(week, settings.timezone, day=settings.digest_day, at=settings.digest_time)
    recipients: list[str] = list(settings.digest_recipients) if send else []
    if to:
        address(to, what="--to")
        recipients.append(to)
    if send and not settings.digest_recipients:
        raise DigestSendError("COMPACTWATCH_DIGEST_RECIPIENTS is empty: nobody to send the digest to")
    smtp = SmtpConfig.from_settings(settings) if recipients else None

    store = open_store(settings.database_url)
    try:
        if preview is not None:
            built = build_digest(store, period, settings.timezone, archive_url=settings.archive_url)
            html, chart = write_preview(built, preview, unsubscribe=settings.unsubscribe)
            console.print(f"digest {period.label()}: {digest_subject(built)}", markup=False, highlight=False)
            console.print(
                f"wrote {html}" + (f" and {chart}" if chart else " (no chart: nothing to plot)"),
                markup=False,
                highlight=False,
            )
        if recipients:
            results = send_digest(store, settings, period, recipients, force=force, smtp=smtp)
            _report(results, period, console)
    finally:
        store.close()


def _report(results: Sequence[RecipientResult], period: Period, console: object) -> None:
    lines = {
        "sent": "sent to {r}",
        "already_sent": "already sent to {r} for {p}; --force sends it again",
        "in_progress": "not sent to {r}: another send for {p} is running or was interrupted "
        "(outcome unknown); --force sends it again",
        "failed": "failed for {r}: {e}",
    }
    for result in results:
        text = lines[result.status].format(r=result.recipient, p=period.label(), e=result.error)
        console.print(text, markup=False, highlight=False)  # type: ignore[attr-defined]
    failed = [r for r in results if r.status == "failed"]
    if failed:
        raise DigestSendError(
            f"digest not delivered to {len(failed)} of {len(results)} recipients "
            f"({failed[0].recipient}: {failed[0].error}); run the command again to retry them"
        )


def scheduled_send(store: Store, settings: Settings, period: Period) -> list[RecipientResult]:
    """The weekly job's body: send to the configured recipients; log, never raise."""
    from alerts.mailer import MailerError

    try:
        results = send_digest(store, settings, period, settings.digest_recipients)
    except MailerError as error:
        log.warning(
            "weekly digest %s not sent: %s (will retry at the next start-up or run)", period.label(), error
        )
        return []
    except CompactwatchError as error:
        log.warning("weekly digest %s not sent: %s", period.label(), error)
        return []
    sent = sum(r.status == "sent" for r in results)
    for result in results:
        if result.status == "failed":
            log.warning("weekly digest to %s failed: %s", result.recipient, result.error)
    log.info("weekly digest %s: sent to %d of %d recipient(s)", period.label(), sent, len(results))
    return results
