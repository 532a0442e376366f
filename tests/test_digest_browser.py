"""The HTML preview as a browser renders it (Debian's headless chromium).

Skipped on a developer machine without chromium; under CI=true a missing chromium fails,
so CI never passes by silently rendering nothing (.ci/run installs it).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from alerts.digest import COLORS, Period, build_digest
from alerts.digest_command import write_preview
from archive.browser import CHROMIUM, CHROMIUM_ARGS
from pipeline.store import Store
from tests.test_digest_data import NOW, THIS_WEEK, TZ, WEEK, seed_realistic_week

pytestmark = pytest.mark.browser


def chromium() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found:
        return found
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail("chromium is required under CI (apt-get install chromium) and was not found")
    pytest.skip("chromium not installed")


def screenshot(html: Path, out: Path, *, width: int = 800, height: int = 2000) -> Path:
    subprocess.run(
        [
            chromium(),
            *CHROMIUM_ARGS,
            f"--user-data-dir={out.parent / 'chromium-profile'}",
            f"--screenshot={out}",
            f"--window-size={width},{height}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_preview_renders_in_chromium_with_every_section(sqlite_store: Store, tmp_path: Path) -> None:
    seed_realistic_week(sqlite_store)
    digest = build_digest(
        sqlite_store, Period.iso_week(WEEK), TZ, archive_url="https://archive.example.org/", now=NOW
    )
    html, chart = write_preview(digest, tmp_path / "digest.html", unsubscribe="https://u.example/weekly")
    assert chart is not None and chart.read_bytes()[:4] == b"\x89PNG"
    page = html.read_text()
    for heading in (
        "Headline figures",
        "Frame balance",
        "Stories per day",
        "Cities at the table",
        "Sovereignty framing",
        "Other coverage",
        "Outlets",
        "Feed health",
        "Analysts' corrections",
    ):
        assert f">{heading}</h2>" in page, heading
    assert f'src="{chart.name}"' in page and THIS_WEEK[0].title in page

    shot = screenshot(html, tmp_path / "digest-screenshot.png")
    assert png_size(shot) == (800, 2000)
    assert shot.stat().st_size > 60_000  # a rendered page with text and a chart, not a blank canvas
    # the chart really loaded: its grey "all stories" bars are on the page (no other element uses it)
    from PIL import Image

    with Image.open(shot) as image:
        grey = bytes.fromhex(COLORS["stories"][1:])
        rgb = image.convert("RGB").tobytes()
        pixels = sum(1 for i in range(0, len(rgb), 3) if rgb[i : i + 3] == grey)
    assert pixels > 1000
    # narrow (phone) width still renders
    narrow = screenshot(html, tmp_path / "digest-narrow.png", width=400, height=1200)
    assert png_size(narrow) == (400, 1200) and narrow.stat().st_size > 20_000
