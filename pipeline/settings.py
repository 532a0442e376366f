"""Every setting of compactwatch, declared once: name, default, help, environment variable.

Conventional names are used where they exist (DATABASE_URL, SLACK_*, SMTP_*); everything else
is prefixed COMPACTWATCH_. A `.env` file in the working directory is read when present.
Only the CLI and the orchestrator read Settings; stages receive plain values.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from pipeline.errors import ConfigError

DEFAULT_USER_AGENT = "compactwatch/0.1 (media monitoring; +https://example.org/compactwatch)"
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def shipped_model_dir() -> Path:
    """The model shipped with compactwatch, found from the code's own location.

    In a checkout or an editable install it is `models/` beside the packages; a regular
    (wheel) install puts the same files in `<prefix>/share/compactwatch/models`. Neither
    depends on the working folder, so cron, systemd and deployment folders find it.
    """
    beside_packages = Path(__file__).resolve().parent.parent / "models"
    installed = Path(sys.prefix) / "share" / "compactwatch" / "models"
    for candidate in (beside_packages, installed):
        if (candidate / "model_card.json").exists():
            return candidate
    return beside_packages


def _env(name: str) -> AliasChoices:
    """Bind a field to one exact environment variable name (no prefix)."""
    return AliasChoices(name)


class Settings(BaseSettings):
    """compactwatch configuration. `compactwatch settings` prints the effective values."""

    model_config = SettingsConfigDict(
        env_prefix="COMPACTWATCH_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # --- storage and inputs -------------------------------------------------------------
    database_url: str = Field(
        "sqlite:///data/compactwatch.db",
        validation_alias=_env("DATABASE_URL"),
        description="SQLAlchemy URL of the store: SQLite by default, or postgresql+psycopg://...",
    )
    database_connect_timeout: float = Field(
        10.0,
        gt=0,
        description="Seconds to wait for the database to answer a new connection before a one-line error.",
    )
    web_statement_timeout: float = Field(
        15.0, gt=0, description="Longest time one query of the archive web app may run, seconds."
    )
    feeds: Path = Field(
        Path("feeds.yaml"),
        description="Path of the feeds file; a relative path is read from the working folder.",
    )
    routes: Path = Field(
        Path("alerts.yaml"),
        description="Path of the Slack routing file; a relative path is read from the working folder.",
    )
    model_dir: Path = Field(
        default_factory=shipped_model_dir,
        description="Directory of the trained model and its card (default: the one shipped with the package)",
    )

    # --- the guarded fetcher ------------------------------------------------------------
    allow_private_networks: bool = Field(
        False,
        description="Allow fetching from loopback/private addresses (tests and the demo only).",
    )
    fetch_timeout: float = Field(20.0, gt=0, description="Wall-clock deadline for one HTTP fetch, seconds.")
    connect_timeout: float = Field(10.0, gt=0, description="TCP/TLS connect timeout, seconds.")
    max_body_bytes: int = Field(
        15 * 1024 * 1024, gt=1024, description="Cap on decompressed response bytes for feeds and pages."
    )
    max_redirects: int = Field(5, ge=0, le=20, description="Redirects followed per fetch.")
    user_agent: str = Field(DEFAULT_USER_AGENT, description="User-Agent sent with every request.")

    # --- polling --------------------------------------------------------------------------
    max_entries_per_feed: int = Field(50, gt=0, description="Newest entries taken from one feed fetch.")
    per_host_delay: float = Field(
        1.0, ge=0, description="Politeness: minimum seconds between two requests to one host."
    )
    retry_after_cap: int = Field(
        86400, gt=0, description="Longest Retry-After honoured, seconds (longer values are capped)."
    )
    max_backoff_minutes: int = Field(
        1440, gt=0, description="Longest wait between polls of a failing feed, minutes."
    )
    workers: int = Field(4, ge=1, le=64, description="Threads fetching feeds and articles in parallel.")
    extraction_timeout: float = Field(
        15.0, gt=0, description="Time limit for extracting one article's text, seconds."
    )
    fetch_articles: bool = Field(
        True, description="Fetch each article page; when off, classify the feed's title and summary."
    )
    feed_budget_seconds: float = Field(
        180.0,
        gt=0,
        validation_alias=_env("COMPACTWATCH_FEED_BUDGET"),
        description="Seconds a feed has from its poll; pages not fetched by then use the feed's summary.",
    )
    cycle_budget_seconds: float = Field(
        600.0,
        gt=0,
        validation_alias=_env("COMPACTWATCH_CYCLE_BUDGET"),
        description="Time budget of one cycle: feeds not polled by then stay due for the next cycle.",
    )

    # --- classification and alerts ------------------------------------------------------
    alert_min_relevance: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Relevance probability needed to alert; empty = the model card's threshold.",
    )
    retrain_tolerance: float = Field(
        0.02,
        ge=0,
        le=1,
        description="Retraining gate: largest test F1 drop on any label a new model may have.",
    )
    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=_env("SLACK_BOT_TOKEN"), description="Slack bot token (xoxb-...)."
    )
    slack_channel: str = Field(
        "#compactwatch",
        validation_alias=_env("SLACK_CHANNEL"),
        description="Default Slack channel for alerts.",
    )
    slack_api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=_env("SLACK_API_URL"),
        description="Slack Web API base URL (GovSlack or a local test server).",
    )
    slack_signing_secret: SecretStr | None = Field(
        None,
        validation_alias=_env("SLACK_SIGNING_SECRET"),
        description="Signing secret used to verify Slack button clicks.",
    )
    ops_channel: str | None = Field(
        None, description="Slack channel for broken/silent feed warnings (empty = the alert channel)."
    )
    relay_interval: int = Field(15, gt=0, description="Seconds between two runs of the alert relay.")
    status_minutes: int = Field(
        10, ge=0, le=1440, description="Minutes between two status lines of `run` in its log (0 = none)."
    )
    alert_max_attempts: int = Field(
        8, gt=0, description="Transient Slack failures tolerated before an alert is marked failed."
    )

    # --- digest email ---------------------------------------------------------------------
    smtp_host: str | None = Field(
        None, validation_alias=_env("SMTP_HOST"), description="SMTP server for the weekly digest."
    )
    smtp_port: int = Field(587, validation_alias=_env("SMTP_PORT"), description="SMTP port.")
    smtp_user: str | None = Field(None, validation_alias=_env("SMTP_USER"), description="SMTP user.")
    smtp_password: SecretStr | None = Field(
        None, validation_alias=_env("SMTP_PASSWORD"), description="SMTP password."
    )
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls, tls (implicit TLS) or none (local relays and tests)."
    )
    digest_from: str = Field(
        "compactwatch <compactwatch@localhost>", description="From address of the digest."
    )
    digest_recipients: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Digest recipients, comma-separated or a JSON list (route filters: see README).",
    )
    digest_day: str = Field("mon", description="Weekday the digest is sent (mon..sun).")
    digest_time: str = Field("08:00", description="Local time the digest is sent (HH:MM).")
    timezone: str = Field("Europe/Brussels", description="Time zone for the digest and quiet hours.")
    unsubscribe: str | None = Field(None, description="List-Unsubscribe target: a mailto: or https: URL.")
    archive_url: str | None = Field(
        None, description="Public URL of the analyst archive, linked from digests and alerts."
    )

    # --- analyst archive --------------------------------------------------------------------
    web_host: str = Field("127.0.0.1", description="Address the archive UI listens on.")
    web_port: int = Field(8000, description="Port the archive UI listens on.")
    secret_key: SecretStr | None = Field(
        None, description="Key signing session cookies; random per start when empty."
    )
    analysts: dict[str, str] = Field(
        default_factory=dict,
        description="Analyst accounts as JSON {name: argon2 hash}; `compactwatch hash-password` makes one.",
    )
    api_token: SecretStr | None = Field(
        None, description="Shared token for the JSON API and, when no accounts exist, for login."
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated proxy addresses whose X-Forwarded-For/-Proto are trusted (empty: none).",
    )

    # --- scale-out (Celery runner) ---------------------------------------------------------
    engine: Literal["local", "celery"] = Field(
        "local",
        description="local: one process (APScheduler + pools); celery: scheduler and workers (PostgreSQL).",
    )
    celery_broker_url: str = Field(
        "amqp://guest:guest@127.0.0.1:5672//",
        validation_alias=_env("CELERY_BROKER_URL"),
        description="Celery broker: RabbitMQ (amqp://...) or Redis (redis://...).",
    )
    celery_queue_prefix: str = Field(
        "compactwatch",
        pattern=r"^[A-Za-z0-9_.-]{1,60}$",
        description="Prefix of the Celery queue names (<prefix>.feeds, .cpu, .relay).",
    )

    log_level: str = Field("INFO", description="Logging level: debug, info, warning, error or critical.")
    log_format: Literal["auto", "rich", "plain", "json"] = Field(
        "auto",
        description="auto (Rich on a terminal, plain one-line records otherwise), rich, plain or json.",
    )

    @field_validator("digest_recipients", mode="before")
    @classmethod
    def _split_recipients(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().startswith("["):
                try:
                    return json.loads(value)
                except ValueError:
                    raise ValueError("not a JSON list of addresses") from None
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.strip().lower() not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level: use one of {', '.join(LOG_LEVELS)}")
        return value.strip().upper()

    @field_validator("digest_day")
    @classmethod
    def _weekday(cls, value: str) -> str:
        day = value.strip().lower()[:3]
        if day not in WEEKDAYS or not value.strip().lower().startswith(day):
            raise ValueError(f"{value!r} is not a weekday: use one of {', '.join(WEEKDAYS)}")
        return day

    @field_validator("digest_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise ValueError(f"{value!r} is not a time of day: use HH:MM between 00:00 and 23:59")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value.strip())
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use a name like Europe/Brussels)") from None
        return value.strip()

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


def normalise_database_url(value: str) -> str:
    """Accept the spellings people paste (postgres://, postgresql://) and refuse the ones
    that would silently lose data (sqlite:/// with no file is an in-memory database)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    value = value.strip()
    for plain in ("postgres://", "postgresql://"):
        if value.startswith(plain):
            value = "postgresql+psycopg://" + value.removeprefix(plain)
    if not value.startswith(("sqlite", "postgresql")):
        raise ValueError("must be a sqlite:///path/to/file.db or postgresql://user@host/db URL")
    try:
        url = make_url(value)
    except ArgumentError:
        raise ValueError("is not a database URL (sqlite:///path/to/file.db or postgresql://...)") from None
    if url.get_backend_name() == "sqlite" and (url.database or ":memory:") == ":memory:":
        raise ValueError(
            f"{value} names no file, which means a throw-away in-memory database: "
            "use sqlite:///data/compactwatch.db (relative) or sqlite:////abs/path.db"
        )
    return value


def env_name(field_name: str) -> str:
    """The environment variable that sets a field, for docs and error messages."""
    info = Settings.model_fields[field_name]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return "COMPACTWATCH_" + field_name.upper()


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment and .env; a bad value is a one-line ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        where = str(first["loc"][0]) if first["loc"] else "settings"
        name = env_name(where) if where in Settings.model_fields else where
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"setting {name}: {message}") from None
