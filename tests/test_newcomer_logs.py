"""Logs fit their destination: plain one-line records in files and pipes, JSON for log
shippers, Rich only on a terminal; one line per cycle, and a plain word when the machine
seems to be offline."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.logging import RichHandler

from pipeline.logs import configure, cycle_line, failure_category, offline_warning
from pipeline.records import CycleSummary

CLI = [sys.executable, "-m", "pipeline.cli"]
LONG_PATH = "/" + "/".join(f"section-{n}-with-a-rather-long-name" for n in range(6)) + "/feed.xml"
FEEDS = [f"https://newsroom-{n}.invalid{LONG_PATH}" for n in range(2)]
PLAIN = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


def once_offline(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`compactwatch once` with feeds whose hosts cannot exist (.invalid never resolves)."""
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        yaml.safe_dump({"feeds": [{"name": f"Outlet {n}", "url": u} for n, u in enumerate(FEEDS)]})
    )
    full = {k: v for k, v in os.environ.items() if not k.startswith(("COMPACTWATCH_", "SLACK_"))}
    full.update(
        {
            "COMPACTWATCH_FEEDS": str(feeds),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cw.db'}",
            "COMPACTWATCH_LOG_LEVEL": "INFO",
            "COLUMNS": "80",
            **env,
        }
    )
    return subprocess.run([*CLI, "once"], cwd=tmp_path, env=full, capture_output=True, text=True, timeout=180)


def test_piped_logs_are_plain_one_line_records_with_urls_whole_and_one_cycle_line(tmp_path: Path) -> None:
    result = once_offline(tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines and all(PLAIN.match(line) for line in lines), result.stderr
    for url in FEEDS:
        assert any(url in line for line in lines)  # never wrapped or cut
    cycle = [line for line in lines if " cycle: " in line]
    assert len(cycle) == 1
    assert cycle[0].endswith("cycle: 0/2 feeds ok, 2 failed (DNS 2); 0 new, 0 relevant, 0 alerts sent")
    assert any(line.endswith("WARNING 0/2 feeds reachable: is this machine offline?") for line in lines)


def test_json_log_format_gives_one_object_per_line(tmp_path: Path) -> None:
    result = once_offline(tmp_path, COMPACTWATCH_LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    messages = [r["message"] for r in records]
    assert "0/2 feeds reachable: is this machine offline?" in messages
    assert any(m.startswith("cycle: 0/2 feeds ok") for m in messages)


def test_terminal_gets_rich_and_anything_else_gets_plain(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    try:
        monkeypatch.setattr(sys, "stderr", Terminal())
        configure("info")
        assert isinstance(logging.getLogger().handlers[0], RichHandler)
        monkeypatch.setattr(sys, "stderr", io.StringIO())
        configure("info")
        handler = logging.getLogger().handlers[0]
        assert not isinstance(handler, RichHandler)
        record = logging.LogRecord("compactwatch", logging.ERROR, __file__, 1, "two\nlines", None, None)
        assert "\n" not in handler.format(record)
    finally:
        configure("warning")


def test_cycle_line_counts_failures_by_kind() -> None:
    failures = tuple(
        (f"f{n}", "could not fetch https://x.example/: DNS lookup of x.example failed") for n in range(6)
    )
    failures += (
        ("t1", "timed out fetching https://t.example/"),
        ("t2", "timed out fetching https://u.example/"),
    )
    summary = CycleSummary(
        feeds_ok=9, feeds_unchanged=3, feeds_failed=8, new_articles=14, relevant=3, failures=failures
    )
    assert (
        cycle_line(summary, 3)
        == "12/20 feeds ok, 8 failed (DNS 6, timeout 2); 14 new, 3 relevant, 3 alerts sent"
    )
    assert offline_warning(summary) is None


def test_offline_warning_only_when_no_feed_answered_at_all() -> None:
    unreachable = tuple(
        (f"f{n}", "could not fetch https://x.example/: DNS lookup of x.example failed") for n in range(20)
    )
    assert offline_warning(CycleSummary(feeds_failed=20, failures=unreachable)) == (
        "0/20 feeds reachable: is this machine offline?"
    )
    answered = (*unreachable[:19], ("f19", "HTTP 404"))
    assert offline_warning(CycleSummary(feeds_failed=20, failures=answered)) is None  # a server answered
    assert failure_category("HTTP 503") == "HTTP 503"
    assert failure_category("not a feed: the URL returned an HTML page") == "not a feed"
