"""Sending the digest to a real SMTP server (aiosmtpd on 127.0.0.1), and scheduling it."""

from __future__ import annotations

import email
import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from pydantic import SecretStr

from alerts.digest import Period
from alerts.digest_command import recipient_key, send_digest
from alerts.mailer import MailerError, SmtpConfig, send_messages
from alerts.schedule import JOB_ID, MISFIRE_GRACE, WeeklyDigestJob, add_scheduled_jobs, digest_trigger
from pipeline.errors import ConfigError
from pipeline.runtime import Runtime
from pipeline.settings import Settings, load_settings
from pipeline.store import Store
from pipeline.store.digest_queries import digest_deliveries
from tests.conftest import REPO
from tests.test_digest_data import NOW, SEED_STORIES, THIS_WEEK, TZ, WEEK, seed_realistic_week

PERIOD = Period.iso_week(WEEK)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class CaptureHandler:
    """Keeps every message the server accepted; refuses the addresses in `refuse`."""

    received: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    handler: CaptureHandler
    port: int

    def config(self, **extra: Any) -> SmtpConfig:
        return SmtpConfig(host="127.0.0.1", port=self.port, security="none", timeout=10, **extra)


def _serve(**controller_args: Any) -> Iterator[SmtpServer]:
    handler = CaptureHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **controller_args)
    controller.start()
    try:
        yield SmtpServer(handler, port)
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    yield from _serve()


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"digest",
        b"s3cret",
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_auth() -> Iterator[SmtpServer]:
    yield from _serve(authenticator=_authenticator, auth_require_tls=False, auth_required=True)


def settings_for(server: SmtpServer | None, tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'unused.db'}",
        "smtp_host": "127.0.0.1" if server else None,
        "smtp_port": server.port if server else 25,
        "smtp_security": "none",
        "digest_from": "compactwatch <digest@cw.example.org>",
        "digest_recipients": ["director@city.example", "Comms <comms@city.example>"],
        "timezone": "Europe/Brussels",
        "unsubscribe": "https://cw.example.org/unsubscribe",
        "archive_url": "https://archive.example.org/",
    }
    values.update(extra)
    return load_settings(**values)


# --------------------------------------------------------------------------- delivery
def test_send_delivers_one_parsable_digest_to_each_recipient(
    store: Store, smtp: SmtpServer, tmp_path: Path
) -> None:
    seed_realistic_week(store)
    settings = settings_for(smtp, tmp_path)
    results = send_digest(store, settings, PERIOD, settings.digest_recipients, smtp=smtp.config(), now=NOW)
    assert [(r.recipient, r.status) for r in results] == [
        ("director@city.example", "sent"),
        ("Comms <comms@city.example>", "sent"),
    ]
    assert sorted(r.rcpt_tos[0] for r in smtp.handler.received) == [
        "comms@city.example",
        "director@city.example",
    ]
    for received in smtp.handler.received:
        assert len(received.rcpt_tos) == 1  # nobody sees the other recipients
        message = received.message
        assert received.mail_from == "digest@cw.example.org"
        assert message["Subject"].startswith(f"compactwatch weekly: {SEED_STORIES} stories, ")
        assert message["List-Unsubscribe"] == "<https://cw.example.org/unsubscribe>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert [p.get_content_type() for p in message.walk()] == [
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png",
        ]
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        cid = next(p for p in message.walk() if p.get_content_maintype() == "image")["Content-ID"]
        assert f'src="cid:{cid.strip("<>")}"' in html
        assert THIS_WEEK[0].title in text and THIS_WEEK[0].title in html
    rows = digest_deliveries(store, PERIOD.bounds(TZ)[0])
    assert {(r.recipient, r.status) for r in rows} == {
        ("director@city.example", "sent"),
        ("comms@city.example", "sent"),
    }
    assert all(r.sent_at == NOW for r in rows)


def test_digest_already_sent_is_not_sent_twice_unless_forced(
    store: Store, smtp: SmtpServer, tmp_path: Path
) -> None:
    seed_realistic_week(store)
    settings = settings_for(smtp, tmp_path)
    send_digest(store, settings, PERIOD, ["director@city.example"], smtp=smtp.config())
    again = send_digest(store, settings, PERIOD, ["Director <DIRECTOR@city.example>"], smtp=smtp.config())
    assert [r.status for r in again] == ["already_sent"]
    assert len(smtp.handler.received) == 1
    forced = send_digest(store, settings, PERIOD, ["director@city.example"], force=True, smtp=smtp.config())
    assert [r.status for r in forced] == ["sent"]
    assert len(smtp.handler.received) == 2
    # another period is another digest
    other = send_digest(store, settings, PERIOD.previous(), ["director@city.example"], smtp=smtp.config())
    assert [r.status for r in other] == ["sent"]


def test_refused_connection_is_one_clear_error_and_leaves_the_digest_resendable(
    sqlite_store: Store, smtp: SmtpServer, tmp_path: Path
) -> None:
    seed_realistic_week(sqlite_store)
    settings = settings_for(smtp, tmp_path)
    down = SmtpConfig(host="127.0.0.1", port=free_port(), security="none", timeout=5)
    with pytest.raises(MailerError) as raised:
        send_digest(sqlite_store, settings, PERIOD, ["director@city.example"], smtp=down)
    message = str(raised.value)
    assert message == f"cannot reach SMTP server 127.0.0.1:{down.port}: connection refused"
    [row] = digest_deliveries(sqlite_store)
    assert (row.status, row.error) == ("failed", message)
    # the server is back: running again sends it, once
    results = send_digest(sqlite_store, settings, PERIOD, ["director@city.example"], smtp=smtp.config())
    assert [r.status for r in results] == ["sent"] and len(smtp.handler.received) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_bad_credentials_are_one_clear_error_and_good_ones_deliver(
    sqlite_store: Store, smtp_auth: SmtpServer, tmp_path: Path
) -> None:
    seed_realistic_week(sqlite_store)
    settings = settings_for(smtp_auth, tmp_path)
    wrong = smtp_auth.config(user="digest", password=SecretStr("wrong"))
    with pytest.raises(MailerError) as raised:
        send_digest(sqlite_store, settings, PERIOD, ["director@city.example"], smtp=wrong)
    assert str(raised.value).startswith(f"SMTP login to 127.0.0.1:{smtp_auth.port} as digest failed: 535")
    assert "\n" not in str(raised.value) and "wrong" not in str(raised.value)
    assert digest_deliveries(sqlite_store)[0].status == "failed"
    right = smtp_auth.config(user="digest", password=SecretStr("s3cret"))
    assert [
        r.status for r in send_digest(sqlite_store, settings, PERIOD, ["director@city.example"], smtp=right)
    ] == ["sent"]
    assert len(smtp_auth.handler.received) == 1


def test_a_refused_recipient_fails_alone_and_the_others_are_delivered(
    sqlite_store: Store, smtp: SmtpServer, tmp_path: Path
) -> None:
    seed_realistic_week(sqlite_store)
    smtp.handler.refuse.add("gone@city.example")
    settings = settings_for(smtp, tmp_path)
    results = send_digest(
        sqlite_store, settings, PERIOD, ["gone@city.example", "director@city.example"], smtp=smtp.config()
    )
    assert [(r.status, (r.error or "")[:26]) for r in results] == [
        ("failed", "recipient refused: 550 5.1"),
        ("sent", ""),
    ]
    assert [r.rcpt_tos for r in smtp.handler.received] == [["director@city.example"]]
    smtp.handler.refuse.clear()
    retry = send_digest(
        sqlite_store, settings, PERIOD, ["gone@city.example", "director@city.example"], smtp=smtp.config()
    )
    assert [r.status for r in retry] == ["sent", "already_sent"]


def test_password_is_never_sent_in_clear_to_a_remote_server() -> None:
    config = SmtpConfig(host="smtp.example.org", port=25, security="none", user="u", password=SecretStr("p"))
    with pytest.raises(MailerError, match="refusing to send the SMTP password unencrypted"):
        send_messages(config, [])


def test_starttls_required_but_not_offered_is_a_clear_error(smtp: SmtpServer) -> None:
    config = SmtpConfig(host="127.0.0.1", port=smtp.port, security="starttls", timeout=5)
    with pytest.raises(MailerError, match="does not offer STARTTLS"):
        send_messages(config, [])


def test_recipients_are_validated_before_anything_is_claimed(sqlite_store: Store, tmp_path: Path) -> None:
    settings = settings_for(None, tmp_path, smtp_host="127.0.0.1")
    with pytest.raises(ConfigError):
        send_digest(sqlite_store, settings, PERIOD, ["ok@city.example", "not an address"])
    assert digest_deliveries(sqlite_store) == []
    assert recipient_key("Jane Doe <Jane@City.example>") == "jane@city.example"


# --------------------------------------------------------------------------- the command
CLI_SCRIPT = (
    "from pipeline.cli import app, main\n"
    "from alerts.digest_command import digest\n"
    "if not any(c.name == 'digest' for c in app.registered_commands):\n"
    "    app.command('digest')(digest)\n"
    "main()\n"
)


def start_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """`compactwatch digest ...` through the real entry point, registered as the lead will."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "COMPACTWATCH_", "DATABASE_"))}
    full = {**clean, "COMPACTWATCH_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO), **env}
    return subprocess.Popen(
        [sys.executable, "-c", CLI_SCRIPT, "digest", *args],
        cwd=cwd,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
    stdout, stderr = process.communicate(timeout=120)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def run_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return finish(start_cli(*args, env=env, cwd=cwd))


@pytest.fixture
def seeded_db(tmp_path: Path) -> Iterator[str]:
    from pipeline.store import open_store

    url = f"sqlite:///{tmp_path / 'cw.db'}"
    store = open_store(url)
    seed_realistic_week(store)
    store.close()
    yield url


def test_command_previews_html_and_chart_and_sends_once(
    seeded_db: str, smtp: SmtpServer, tmp_path: Path
) -> None:
    env = {
        "DATABASE_URL": seeded_db,
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "COMPACTWATCH_SMTP_SECURITY": "none",
        "COMPACTWATCH_DIGEST_RECIPIENTS": '["director@city.example", "comms@city.example"]',
        "COMPACTWATCH_TIMEZONE": "Europe/Brussels",
    }
    preview = tmp_path / "out" / "digest.html"
    result = run_cli("--preview", str(preview), "--week", WEEK, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert preview.exists() and (tmp_path / "out" / "digest.png").read_bytes().startswith(b"\x89PNG")
    assert 'src="digest.png"' in preview.read_text()
    assert smtp.handler.received == []  # a preview sends nothing

    sent = run_cli("--send", "--week", WEEK, env=env, cwd=tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert "sent to director@city.example" in sent.stdout and len(smtp.handler.received) == 2

    again = run_cli("--send", "--week", WEEK, env=env, cwd=tmp_path)
    assert again.returncode == 0 and "already sent to director@city.example" in again.stdout
    assert len(smtp.handler.received) == 2

    one = run_cli("--to", "analyst@city.example", "--week", WEEK, env=env, cwd=tmp_path)
    assert one.returncode == 0 and len(smtp.handler.received) == 3
    assert smtp.handler.received[-1].rcpt_tos == ["analyst@city.example"]

    forced = run_cli("--to", "director@city.example", "--week", WEEK, "--force", env=env, cwd=tmp_path)
    assert forced.returncode == 0 and len(smtp.handler.received) == 4


def test_command_errors_are_one_line(seeded_db: str, tmp_path: Path) -> None:
    env = {"DATABASE_URL": seeded_db, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port()),
           "COMPACTWATCH_SMTP_SECURITY": "none"}  # fmt: skip
    cases = [
        ((), 2, "error: nothing to do: give --preview FILE.html, --send or --to ADDRESS"),
        (("--send",), 1, "error: COMPACTWATCH_DIGEST_RECIPIENTS is empty"),
        (("--to", "x@y.example", "--week", WEEK), 1, "error: cannot reach SMTP server 127.0.0.1:"),
    ]
    for args, code, start in cases:
        result = run_cli(*args, env=env, cwd=tmp_path)
        assert result.returncode == code, (args, result.stderr)
        assert result.stderr.startswith(start), (args, result.stderr)
        assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_bad_command_inputs_raise_one_line_user_errors(tmp_path: Path) -> None:
    """The errors `compactwatch` prints as `error: ...` (the entry point is tested above)."""
    from alerts.digest import address
    from alerts.digest_command import UsageError, resolve_period

    with pytest.raises(UsageError, match=r"^--week: week 'soon' is not an ISO week like 2026-W47$"):
        resolve_period("soon", "Europe/Brussels")
    with pytest.raises(
        ConfigError, match=r"^--to: 'a@b.example, c@d.example' is not a single email address$"
    ):
        address("a@b.example, c@d.example", what="--to")
    with pytest.raises(MailerError, match=r"^SMTP_HOST is not set"):
        SmtpConfig.from_settings(settings_for(None, tmp_path))
    with pytest.raises(
        ConfigError, match=r"^setting COMPACTWATCH_TIMEZONE: unknown time zone 'Mars/Olympus'$"
    ):
        resolve_period(None, "Mars/Olympus")


# --------------------------------------------------------------------------- the schedule
def runtime_for(store: Store, settings: Settings) -> Runtime:
    return Runtime(settings, store, [])


def test_weekly_job_uses_the_configured_day_time_zone_and_a_grace_of_hours(
    sqlite_store: Store, tmp_path: Path
) -> None:
    settings = settings_for(
        None, tmp_path, digest_day="tue", digest_time="07:30", timezone="America/New_York"
    )
    scheduler = BackgroundScheduler(timezone=UTC)
    add_scheduled_jobs(scheduler, runtime_for(sqlite_store, settings), web=False)
    job = scheduler.get_job(JOB_ID)
    assert isinstance(job.trigger, CronTrigger)
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["day_of_week"], fields["hour"], fields["minute"]) == ("tue", "7", "30")
    assert str(job.trigger.timezone) == "America/New_York"
    assert job.misfire_grace_time >= 3 * 3600 and job.coalesce is True and job.max_instances == 1
    for day, at in (("someday", "08:00"), ("mon", "8am"), ("mon", "25:00")):
        with pytest.raises(ConfigError):
            digest_trigger(day, at, "Europe/Brussels")


def test_scheduler_down_at_send_time_still_sends_once_at_start_up(
    sqlite_store: Store, smtp: SmtpServer, tmp_path: Path
) -> None:
    seed_realistic_week(sqlite_store)
    an_hour_ago = datetime.now(UTC).astimezone(TZ) - timedelta(hours=1)
    settings = settings_for(
        smtp,
        tmp_path,
        digest_day=an_hour_ago.strftime("%a").lower(),
        digest_time=an_hour_ago.strftime("%H:%M"),
        digest_recipients=["director@city.example"],
    )
    scheduler = BackgroundScheduler(timezone=UTC)
    add_scheduled_jobs(scheduler, runtime_for(sqlite_store, settings), web=False)
    job = scheduler.get_job(JOB_ID)
    assert job.next_run_time - datetime.now(UTC) < timedelta(minutes=1)  # catch-up run, not next week
    job.func()
    assert len(smtp.handler.received) == 1
    # a second start-up within the grace window runs the job again: nothing is sent twice
    scheduler2 = BackgroundScheduler(timezone=UTC)
    add_scheduled_jobs(scheduler2, runtime_for(sqlite_store, settings), web=False)
    scheduler2.get_job(JOB_ID).func()
    assert len(smtp.handler.received) == 1
    # the period is the seven days before the scheduled day
    [row] = digest_deliveries(sqlite_store)
    expected = Period.last_days(TZ, an_hour_ago)
    assert row.period_start == expected.bounds(TZ)[0]


def test_no_catch_up_when_the_last_send_time_is_beyond_the_grace(sqlite_store: Store, tmp_path: Path) -> None:
    long_ago = datetime.now(UTC).astimezone(TZ) - MISFIRE_GRACE - timedelta(hours=1)
    settings = settings_for(
        None,
        tmp_path,
        smtp_host="127.0.0.1",
        digest_day=long_ago.strftime("%a").lower(),
        digest_time=long_ago.strftime("%H:%M"),
    )
    scheduler = BackgroundScheduler(timezone=UTC)
    add_scheduled_jobs(scheduler, runtime_for(sqlite_store, settings), web=False)
    scheduler.start(paused=True)
    try:
        assert scheduler.get_job(JOB_ID).next_run_time - datetime.now(UTC) > timedelta(days=6)
    finally:
        scheduler.shutdown(wait=False)


def test_unconfigured_job_logs_once_and_sends_nothing(
    sqlite_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(None, tmp_path, digest_recipients=[])
    job = WeeklyDigestJob(
        runtime_for(sqlite_store, settings), digest_trigger("mon", "08:00", "UTC"), BackgroundScheduler()
    )
    with caplog.at_level(logging.INFO, logger="compactwatch"):
        job()
        job()
    warnings = [r for r in caplog.records if "weekly digest not sent" in r.getMessage()]
    assert len(warnings) == 1
    assert digest_deliveries(sqlite_store) == []


def test_job_with_smtp_down_keeps_the_digest_resendable_and_schedules_a_retry(
    sqlite_store: Store, tmp_path: Path
) -> None:
    seed_realistic_week(sqlite_store)
    scheduled = datetime.now(UTC).astimezone(TZ) - timedelta(minutes=5)
    settings = settings_for(
        None,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        digest_day=scheduled.strftime("%a").lower(),
        digest_time=scheduled.strftime("%H:%M"),
    )
    scheduler = BackgroundScheduler(timezone=UTC)
    job = WeeklyDigestJob(
        runtime_for(sqlite_store, settings),
        digest_trigger(settings.digest_day, settings.digest_time, settings.timezone),
        scheduler,
    )
    job()  # logs, never raises
    assert {r.status for r in digest_deliveries(sqlite_store)} == {"failed"}
    retry = scheduler.get_job("digest:retry")
    assert retry is not None and retry.func is job


def test_recipient_with_a_route_filter_gets_only_that_part_of_the_beat(
    store: Store, smtp: SmtpServer, tmp_path: Path
) -> None:
    seed_realistic_week(store)
    routes = tmp_path / "alerts.yaml"
    routes.write_text(
        "alerts:\n  routes:\n    - name: sovereignty-watch\n      digest_only: true\n"
        "      frames_all: [sovereignty_framing]\n"
    )
    recipients = ["director@city.example", "Legal <legal@city.example> | sovereignty-watch"]
    settings = settings_for(smtp, tmp_path, digest_recipients=recipients, routes=routes)
    results = send_digest(store, settings, PERIOD, recipients, smtp=smtp.config(), now=NOW)
    assert [r.status for r in results] == ["sent", "sent"]
    by_rcpt = {r.rcpt_tos[0]: r.message for r in smtp.handler.received}
    full, narrow = by_rcpt["director@city.example"], by_rcpt["legal@city.example"]
    assert narrow["To"] == "Legal <legal@city.example>"  # the route never reaches a header
    assert full["Subject"].startswith(f"compactwatch weekly: {SEED_STORIES} stories")
    narrow_stories = int(narrow["Subject"].split(": ", 1)[1].split(" ", 1)[0])
    assert 0 < narrow_stories < SEED_STORIES
    narrow_text = narrow.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Cities at the table" not in narrow_text or "0 this week" in narrow_text


def test_recipient_naming_an_unknown_route_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    seed_realistic_week(store)
    settings = settings_for(None, tmp_path, routes=tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match="digest recipient route 'nope' is not defined"):
        send_digest(store, settings, PERIOD, ["a@city.example | nope"], smtp=None, now=NOW)
