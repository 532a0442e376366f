"""Asking the CLI for its version or its help loads neither the classifier nor the database.

Each case runs the real entry point (`pipeline.cli.main`) in a fresh interpreter and reports
which of the expensive libraries ended up in `sys.modules`. Nothing here measures time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

# scikit-learn, scipy and skops come with the classifier; SQLAlchemy and Alembic with the store;
# Celery with the scale-out runner.
HEAVY = ("sklearn", "scipy", "skops", "sqlalchemy", "alembic", "celery")

SCRIPT = """
import json, sys
heavy = json.loads(sys.argv[1])
sys.argv = ["compactwatch", *sys.argv[2:]]
from pipeline.cli import main
code = 0  # main() returns normally when click handled the exit itself
try:
    main()
except SystemExit as done:
    code = done.code
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(heavy))
print("LOADED " + json.dumps({"exit": code, "loaded": loaded}))
"""


def start(*args: str) -> tuple[int, list[str], str]:
    """(exit code, heavy libraries loaded, everything printed before the report)."""
    env = {**os.environ, "COMPACTWATCH_LOG_LEVEL": "WARNING"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(HEAVY), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output, marker, report = result.stdout.rpartition("LOADED ")
    assert marker, f"no report from the child: {result.stderr}"
    parsed = json.loads(report)
    return parsed["exit"], parsed["loaded"], output


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("--help",),
        ("feeds", "--help"),
        ("articles", "--help"),
        ("classify", "--help"),
        ("train", "--help"),
        ("digest", "--help"),
        ("worker", "--help"),
    ],
    ids=" ".join,
)
def test_version_and_help_do_not_load_the_classifier_or_the_database_layer(args: tuple[str, ...]) -> None:
    code, loaded, output = start(*args)
    assert code == 0
    assert loaded == []
    assert output.startswith("compactwatch " if args == ("--version",) else "Usage: compactwatch")


def test_help_still_lists_the_commands_of_every_package() -> None:
    code, loaded, output = start("--help")
    assert code == 0
    assert loaded == []
    for command in ("once", "feeds", "classify", "train", "eval", "digest", "scheduler", "worker", "relay"):
        assert f" {command} " in output, command
