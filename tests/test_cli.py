"""The command line as a user meets it: clear one-line errors, a working cycle, clean stops."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from pipeline.localserver import LocalServer
from tests.conftest import REPO
from tests.factories import CITY_STORY, news_page, rss

CLI = [sys.executable, "-m", "pipeline.cli"]


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = REPO, timeout: int = 180
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COMPACTWATCH_LOG_LEVEL": "WARNING", **(env or {})}
    return subprocess.run(
        [*CLI, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


def test_bad_argument_gives_one_clear_line_and_no_traceback() -> None:
    result = cli("articles", "--frame", "banana")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error:")


def test_unknown_option_gives_one_clear_line() -> None:
    result = cli("once", "--bogus")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: No such option: --bogus (see: compactwatch once --help)"


def test_unreachable_database_gives_one_clear_line(tmp_path: Path) -> None:
    result = cli(
        "articles",
        env={
            "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
            "COMPACTWATCH_FEEDS": str(REPO / "feeds.yaml"),
        },
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: database unavailable")
    assert result.stderr.strip().count("\n") == 0


def test_bad_feeds_file_names_file_and_line(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n  - name: One\n    url: https://a.example/rss\n  - name: Two\n    url: ftp://b.example/rss\n"
    )
    result = cli("once", env={"COMPACTWATCH_FEEDS": str(feeds), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {feeds}:")
    assert "Traceback" not in result.stderr


def test_once_runs_a_cycle_prints_a_summary_and_console_alerts(tmp_path: Path, site: LocalServer) -> None:
    title = "Cities ask the UN for a seat in the migration compact review"
    site.route("/story", body=news_page(title, CITY_STORY), content_type="text/html")
    site.route("/feed", body=rss(site.base_url, [(title, site.url("/story"), "summary")]))
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"name": "Local", "url": site.url("/feed")}]}))
    env = {
        "COMPACTWATCH_FEEDS": str(feeds),
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "COMPACTWATCH_ALLOW_PRIVATE_NETWORKS": "true",
        "SLACK_BOT_TOKEN": "",
        "COLUMNS": "200",
    }
    result = cli("once", env=env)
    assert result.returncode == 0, result.stderr
    assert "console (no SLACK_BOT_TOKEN set" in result.stdout
    assert "ALERT" in result.stdout and title in result.stdout
    assert "new articles" in result.stdout
    listed = cli("articles", "--relevant", env=env)
    assert title[:40] in listed.stdout
    health = cli("feeds", "list", env=env)
    assert "Local" in health.stdout and "ok" in health.stdout


def test_run_reports_unreachable_feeds_keeps_running_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        yaml.safe_dump({"feeds": [{"name": "Nowhere", "url": "https://feeds.invalid/rss", "interval": 5}]})
    )
    env = {
        **os.environ,
        "COMPACTWATCH_FEEDS": str(feeds),
        "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        "SLACK_BOT_TOKEN": "",
        "COMPACTWATCH_LOG_LEVEL": "INFO",
        "COLUMNS": "200",
    }
    process = subprocess.Popen(
        [*CLI, "run"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = ""
    deadline = time.monotonic() + 90
    try:
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        while time.monotonic() < deadline and "feed Nowhere:" not in output:
            with contextlib.suppress(TypeError):  # nothing written yet on a non-blocking stream
                output += process.stdout.read() or ""
            time.sleep(0.2)
        assert process.poll() is None, output  # still running after the failure
        process.send_signal(signal.SIGINT)
        process.wait(30)
        output += process.stdout.read() or ""
    finally:
        if process.poll() is None:
            process.kill()
    assert "feed Nowhere:" in output
    assert "stopped cleanly" in output
    assert process.returncode == 0
    assert "Traceback" not in output


def test_opml_import_adds_new_feeds_skips_duplicates_and_exports_them_again(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: UN News\n    url: https://news.un.org/feed/rss.xml\n    tags: [un]\n")
    opml = tmp_path / "reader.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head><title>My reader</title></head><body>'
        '<outline text="Migration"><outline text="UN News again" type="rss" xmlUrl="https://news.un.org/feed/rss.xml"/>'
        '<outline text="City Lab" type="rss" xmlUrl="https://citylab.example/feed"/>'
        '<outline text="Local file" type="rss" xmlUrl="file:///etc/passwd"/></outline></body></opml>'
    )
    env = {"COMPACTWATCH_FEEDS": str(feeds), "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    result = cli("feeds", "import", str(opml), env=env)
    assert result.returncode == 0, result.stderr
    assert "imported 1 feeds" in result.stdout and "1 duplicates" in result.stdout
    exported = cli("feeds", "export", env=env)
    assert exported.returncode == 0
    assert "https://citylab.example/feed" in exported.stdout and "news.un.org" in exported.stdout
    assert "file:///etc/passwd" not in exported.stdout
