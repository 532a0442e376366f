"""compactwatch works from any folder: cron, systemd units and deployment folders are not the
repository, so the shipped model must be found from the code, not from the working folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from pipeline.localserver import LocalServer
from pipeline.settings import load_settings, shipped_model_dir
from tests.factories import CITY_STORY, news_page, rss

CLI = [sys.executable, "-m", "pipeline.cli"]
TITLE = "Cities ask the UN for a seat in the migration compact review"


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: none of our settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPACTWATCH_", "SLACK_"))}
    env.pop("DATABASE_URL", None)
    env.update({"COMPACTWATCH_LOG_LEVEL": "WARNING", "COLUMNS": "200", **extra})
    return env


def serve_story(site: LocalServer) -> str:
    site.route("/story", body=news_page(TITLE, CITY_STORY), content_type="text/html")
    site.route("/feed", body=rss(site.base_url, [(TITLE, site.url("/story"), "summary")]))
    return site.url("/feed")


def test_once_from_a_strange_folder_classifies_with_the_shipped_model(
    tmp_path: Path, site: LocalServer
) -> None:
    workdir = tmp_path / "deploy"
    workdir.mkdir()
    (workdir / "feeds.yaml").write_text(
        yaml.safe_dump({"feeds": [{"name": "Loopback", "url": serve_story(site)}]})
    )
    env = clean_env(COMPACTWATCH_ALLOW_PRIVATE_NETWORKS="true")
    result = subprocess.run([*CLI, "once"], cwd=workdir, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "no model card" not in result.stderr
    assert "ALERT" in result.stdout and TITLE in result.stdout  # classified relevant, alerted
    assert (workdir / "data" / "compactwatch.db").exists()  # relative paths: the working folder
    listed = subprocess.run(
        [*CLI, "articles", "--relevant"], cwd=workdir, env=env, capture_output=True, text=True, timeout=120
    )
    assert TITLE[:40] in listed.stdout


def test_model_dir_setting_overrides_the_shipped_model(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(yaml.safe_dump({"feeds": [{"name": "Closed", "url": "http://127.0.0.1:9/rss"}]}))
    empty = tmp_path / "no-model-here"
    empty.mkdir()
    env = clean_env(COMPACTWATCH_MODEL_DIR=str(empty), COMPACTWATCH_FEEDS=str(feeds))
    result = subprocess.run(
        [*CLI, "once"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: no model card at {empty / 'model_card.json'}")


def test_default_model_dir_is_absolute_and_holds_the_model_card(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COMPACTWATCH_MODEL_DIR", raising=False)
    model_dir = load_settings().model_dir
    assert model_dir == shipped_model_dir() and model_dir.is_absolute()
    assert json.loads((model_dir / "model_card.json").read_text())["model_version"]


def test_missing_feeds_file_says_where_it_looked_and_how_to_point_elsewhere(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CLI, "once"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "feeds.yaml" in result.stderr and "COMPACTWATCH_FEEDS" in result.stderr
