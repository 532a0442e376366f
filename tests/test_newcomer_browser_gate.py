"""Browser tests never skip in silence: a skip fails under CI=true and is announced
elsewhere, and `make test` gets Chromium or stops with one line saying how."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SKIPPING = """
import pytest

@pytest.mark.browser
def test_needs_a_browser():
    pytest.skip("chromium not installed")

def test_plain():
    assert True
"""


def run_pytest(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text("from tests.browser_gate import *  # noqa: F403\n")
    (tmp_path / "test_sample.py").write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(REPO)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", os.devnull,
         "--rootdir", str(tmp_path), "-W", "ignore::pytest.PytestUnknownMarkWarning", str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_skipped_browser_test_fails_under_ci(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert "browser test skipped under CI=true (chromium not installed)" in result.stdout
    assert "1 failed, 1 passed" in result.stdout


def test_skipped_browser_test_is_announced_on_a_developer_machine(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 browser test(s) skipped: install Chromium with `sudo apt-get install chromium`" in result.stdout


def test_missing_chromium_stops_make_test_with_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "COMPACTWATCH_CHROMIUM": str(tmp_path / "no-chromium"),
        "COMPACTWATCH_CHROMIUM_INSTALL": "no",
    }
    result = subprocess.run(
        [str(REPO / ".ci" / "chromium")], env=env, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"error: Chromium is missing at {tmp_path / 'no-chromium'}: install it with"
    )


def test_make_test_checks_for_chromium_before_running_pytest() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert recipe.index(".ci/chromium") < recipe.index("pytest")
    assert ".ci/chromium" in (REPO / ".ci" / "run").read_text()
