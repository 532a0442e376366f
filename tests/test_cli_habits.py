"""The habits people bring from other command-line tools: --version, -h, one-line errors for
bad settings (found when the settings are shown, not at 08:00 on Monday), database URLs as
people paste them, and tables that stay readable in an 80-column terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from pipeline.errors import ConfigError
from pipeline.settings import load_settings
from pipeline.store import open_store
from tests.factories import add_feed, stored_article

CLI = [sys.executable, "-m", "pipeline.cli"]


def cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith(("COMPACTWATCH_", "SLACK_"))}
    full.pop("DATABASE_URL", None)
    full.update({"COMPACTWATCH_LOG_LEVEL": "WARNING", **env})
    return subprocess.run([*CLI, *args], cwd=cwd, env=full, capture_output=True, text=True, timeout=120)


def test_version_and_short_help_work_like_other_tools(tmp_path: Path) -> None:
    version = cli("--version", cwd=tmp_path)
    assert (
        version.returncode == 0
        and version.stdout.strip() == f"compactwatch {metadata.version('compactwatch')}"
    )
    short = cli("-h", cwd=tmp_path)
    assert short.returncode == 0 and short.stdout.startswith("Usage: compactwatch")
    sub = cli("alerts", "list", "-h", cwd=tmp_path)
    assert sub.returncode == 0 and "--failed" in sub.stdout


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("COMPACTWATCH_DIGEST_TIME", "25:99", "'25:99' is not a time of day: use HH:MM between 00:00 and 23:59"),
        ("COMPACTWATCH_DIGEST_DAY", "funday", "'funday' is not a weekday: use one of mon, tue, wed, thu, fri, sat, sun"),
        ("COMPACTWATCH_TIMEZONE", "Europe/Atlantis", "unknown time zone 'Europe/Atlantis' (use a name like Europe/Brussels)"),
        ("COMPACTWATCH_LOG_LEVEL", "verbose", "'verbose' is not a log level: use one of debug, info, warning, error, critical"),
        ("DATABASE_URL", "sqlite:///", "sqlite:/// names no file, which means a throw-away in-memory database: "
         "use sqlite:///data/compactwatch.db (relative) or sqlite:////abs/path.db"),
    ],
)  # fmt: skip
def test_bad_setting_is_one_line_at_settings_time_without_pydantic_wording(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    result = cli("settings", cwd=tmp_path, **{variable: value})
    assert result.returncode == 1
    assert result.stderr == f"error: setting {variable}: {expected}\n"
    assert "Value error" not in result.stderr


def test_postgres_urls_are_accepted_as_pasted_and_use_the_installed_driver(tmp_path: Path) -> None:
    for pasted in ("postgres://u:pw@db.example/cw", "postgresql://u:pw@db.example/cw"):
        assert load_settings(database_url=pasted).database_url == "postgresql+psycopg://u:pw@db.example/cw"
    shown = cli("settings", cwd=tmp_path, DATABASE_URL="postgres://u@db.example/cw", COLUMNS="250")
    assert shown.returncode == 0, shown.stderr
    assert "postgresql+psycopg://u@db.example/cw" in shown.stdout


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///", "sqlite:///:memory:"])
def test_sqlite_url_without_a_file_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="names no file"):
        load_settings(database_url=url)


def test_failed_alerts_are_found_even_behind_newer_ones_and_reasons_wrap_at_80_columns(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cw.db'}"
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"name": "Test feed", "url": "https://feed.example/rss"}]}))
    reason = (
        "channel_not_found: #city-desk-archive does not exist or the bot was removed; see "
        "https://api.slack.example/methods/chat.postMessage?team=T0123456789&channel=C0ABCDEFGHIJ"
    )
    store = open_store(url)
    try:
        feed_id = add_feed(store, "https://feed.example/rss")
        stored_article(store, feed_id)
        [failed] = store.alerts()
        store.mark_alert_failed(int(failed["id"]), reason)  # type: ignore[call-overload]
        for _ in range(4):  # newer alerts, still pending, in front of the failed one
            stored_article(store, feed_id)
    finally:
        store.close()
    result = cli("alerts", "list", "--failed", "--limit", "2", cwd=tmp_path,
                 DATABASE_URL=url, COMPACTWATCH_FEEDS=str(feeds), COLUMNS="80")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    rows = [
        line
        for line in lines[lines.index(next(x for x in lines if x.startswith("┡"))) + 1 :]
        if line.startswith("│")
    ]
    error_cells = "".join(line.rstrip(" │").rsplit("│", 1)[1].strip() for line in rows)
    assert error_cells.replace(" ", "") == reason.replace(" ", "")  # whole, wrapped, not cut
    assert "pending" not in "".join(rows)
