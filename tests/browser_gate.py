"""pytest hooks (loaded by conftest) so a browser test never skips in silence.

Under CI=true a skipped `browser` test is turned into a failure: CI must never pass by
testing less. Elsewhere the skip stays a skip, but the run ends with one line saying how
many browser tests did not run and how to get Chromium.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

_SKIPPED = pytest.StashKey[list[str]]()  # node ids of skipped browser tests
HOW = "install Chromium with `sudo apt-get install chromium` (or `make test`, which installs it as root)"


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report = outcome.get_result()
    if report.skipped and item.get_closest_marker("browser") is not None:
        item.config.stash.setdefault(_SKIPPED, []).append(item.nodeid)
        if under_ci():
            report.outcome = "failed"
            report.longrepr = f"browser test skipped under CI=true ({_reason(report)}): {HOW}"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    skipped = config.stash.get(_SKIPPED, [])
    if skipped and not under_ci():
        terminalreporter.write_line(f"{len(skipped)} browser test(s) skipped: {HOW}", yellow=True, bold=True)


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return "skipped"
