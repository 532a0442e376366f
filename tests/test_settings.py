"""Settings are declared once, documented, validated at start-up."""

from __future__ import annotations

import pytest

from pipeline.errors import ConfigError
from pipeline.settings import Settings, env_name, load_settings
from tests.conftest import REPO


def test_every_setting_has_help_and_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no help line"
        assert f"`{env_name(name)}`" in readme, f"{env_name(name)} is missing from the README"


def test_conventional_names_are_used_where_they_exist() -> None:
    assert env_name("database_url") == "DATABASE_URL"
    assert env_name("slack_bot_token") == "SLACK_BOT_TOKEN"
    assert env_name("smtp_password") == "SMTP_PASSWORD"
    assert env_name("allow_private_networks") == "COMPACTWATCH_ALLOW_PRIVATE_NETWORKS"


def test_bad_value_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPACTWATCH_FETCH_TIMEOUT", "soon")
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith("setting COMPACTWATCH_FETCH_TIMEOUT:")
    assert "\n" not in str(error.value)


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    settings = load_settings()
    assert "xoxb-very-secret" not in repr(settings)
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"


def test_plain_postgresql_url_uses_the_installed_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    assert load_settings().database_url == "postgresql+psycopg://u@h/db"


def test_digest_recipients_accept_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPACTWATCH_DIGEST_RECIPIENTS", "director@city.example, comms@ngo.example")
    assert load_settings().digest_recipients == ["director@city.example", "comms@ngo.example"]
    monkeypatch.setenv("COMPACTWATCH_DIGEST_RECIPIENTS", '["a@x.example"]')
    assert load_settings().digest_recipients == ["a@x.example"]
