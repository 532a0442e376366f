"""A newcomer starts the archive and gets in with only what the command printed.

Each way of starting the web app (`serve`, `demo --serve`, `run --web`) runs as a real
subprocess; the test reads the URL and the one-time token from its output and logs in over
HTTP against the real server, exactly as a person copying them into a browser would.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

CLI = [sys.executable, "-m", "pipeline.cli"]
URL = re.compile(r"^archive:\s+(http://\S+)$", re.M)
TOKEN = re.compile(r"^log in:\s+one-time token (\S+)$", re.M)
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def newcomer_env(tmp_path: Path, port: int) -> dict[str, str]:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"name": "Closed port", "url": "http://127.0.0.1:9/rss"}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPACTWATCH_", "SLACK_"))}
    env.update(
        {
            "COMPACTWATCH_FEEDS": str(feeds),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cw.db'}",
            "COMPACTWATCH_WEB_PORT": str(port),
            "COMPACTWATCH_LOG_LEVEL": "WARNING",
            "TMPDIR": str(tmp_path / "tmp"),
        }
    )
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return env


@contextmanager
def started(
    args: list[str], env: dict[str, str], cwd: Path
) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    """The command running, its merged output arriving line by line on a queue."""
    process = subprocess.Popen(
        [*CLI, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def read_announcement(process: subprocess.Popen[str], lines: queue.Queue[str], limit: float) -> str:
    """Output up to and including the announcement's last line ("stop: Ctrl-C")."""
    seen = ""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            seen += lines.get(timeout=0.5)
        except queue.Empty:
            if process.poll() is not None:
                break
            continue
        if re.search(r"^stop:\s+Ctrl-C$", seen, re.M):
            return seen
    raise AssertionError(f"no announcement printed (exit code {process.poll()}):\n{seen}")


def log_in(url: str, token: str) -> httpx.Response:
    """Sign in on the login form with the printed token; return the page it lands on."""
    with httpx.Client(base_url=url, timeout=20, follow_redirects=False) as client:
        deadline = time.monotonic() + 20
        while True:  # the port is bound before uvicorn starts accepting: retry briefly
            try:
                form = client.get("/login")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        csrf = CSRF.search(form.text)
        assert csrf, form.text[:500]
        done = client.post(
            "/login",
            data={"csrf": csrf.group(1), "next": "/articles", "password": token, "name": "newcomer"},
        )
        assert done.status_code == 303, done.text[:500]
        assert done.headers["location"] == "/articles"
        page = client.get("/articles")
        assert page.status_code == 200
        wrong = httpx.post(
            f"{url.rstrip('/')}/login", data={"csrf": csrf.group(1), "password": "guess"}, timeout=20
        )
        assert wrong.status_code in (401, 403)
        return page


@pytest.mark.parametrize(
    ("args", "limit"),
    [(["serve"], 60), (["run", "--web"], 90), (["demo", "--serve"], 240)],
    ids=["serve", "run-web", "demo-serve"],
)
def test_each_way_of_starting_the_archive_prints_a_url_and_token_that_log_in(
    tmp_path: Path, args: list[str], limit: float
) -> None:
    port = free_port()
    with started(args, newcomer_env(tmp_path, port), tmp_path) as (process, lines):
        printed = read_announcement(process, lines, limit)
        url, token = URL.search(printed), TOKEN.search(printed)
        assert url and token, printed
        assert url.group(1) == f"http://127.0.0.1:{port}/"
        assert "compactwatch hash-password" in printed
        page = log_in(url.group(1), token.group(1))
        assert "newcomer" in page.text
    assert process.returncode == 0, printed
    assert not list((tmp_path / "tmp").glob("compactwatch-demo-*"))  # the demo cleans up after itself


def test_archive_with_accounts_says_how_to_log_in_without_printing_a_token(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **newcomer_env(tmp_path, port),
        "COMPACTWATCH_ANALYSTS": '{"ana": "$argon2id$v=19$m=65536,t=3,p=4$x$y"}',
    }
    with started(["serve"], env, tmp_path) as (process, lines):
        printed = read_announcement(process, lines, 60)
    assert "one-time token" not in printed
    assert "analyst account from COMPACTWATCH_ANALYSTS (ana)" in printed


def test_busy_port_is_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*CLI, "serve"], cwd=tmp_path, env=newcomer_env(tmp_path, port),
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is already in use: stop the other program or choose "
        "another port (--port or COMPACTWATCH_WEB_PORT)"
    )
    assert "Traceback" not in result.stdout + result.stderr
