"""Settings: environment, TOML file, and one clear line for every bad value."""

from __future__ import annotations

import pytest

from gamekeeper.settings import SettingsError, load_settings


def test_defaults_are_embedded_sqlite_in_the_data_dir():
    settings = load_settings(env={})
    assert settings.embedded
    assert settings.sqlalchemy_url == "sqlite+aiosqlite:///gamekeeper-data/gamekeeper.db"
    assert settings.rate_limits["public"] == "60/minute"
    assert settings.base_url == "http://127.0.0.1:8000"


def test_environment_wins_over_the_file(tmp_path):
    config = tmp_path / "gk.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\n[rate_limits]\npublic = "5/second"\n')
    env = {
        "GAMEKEEPER_CONFIG": str(config),
        "GAMEKEEPER_PORT": "9100",
        "GAMEKEEPER_CORS_ORIGINS": "https://a.example, https://b.example",
        "GAMEKEEPER_RATE_LIMIT_SERVER": "10/second",
        "GAMEKEEPER_RATE_LIMITS_ENABLED": "false",
        "GAMEKEEPER_DATABASE_URL": "postgres://u:p@db/gk",
        "GAMEKEEPER_SECRET_KEY": "s" * 32,
        "GAMEKEEPER_ADMIN_TOKEN": "t" * 24,
    }
    settings = load_settings(env=env)
    assert (settings.host, settings.port) == ("0.0.0.0", 9100)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.rate_limits["public"] == "5/second"
    assert settings.rate_limits["server"] == "10/second"
    assert settings.rate_limits_enabled is False
    assert settings.sqlalchemy_url == "postgresql+asyncpg://u:p@db/gk"
    assert not settings.embedded


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"GAMEKEEPER_PORT": "eighty"}, "GAMEKEEPER_PORT"),
        ({"GAMEKEEPER_PORT": "70000"}, "GAMEKEEPER_PORT"),
        ({"GAMEKEEPER_DATABASE_URL": "mysql://x/y"}, "GAMEKEEPER_DATABASE_URL"),
        ({"GAMEKEEPER_REDIS_URL": "http://x"}, "GAMEKEEPER_REDIS_URL"),
        ({"GAMEKEEPER_RATE_LIMIT_PUBLIC": "lots"}, "GAMEKEEPER_RATE_LIMIT_PUBLIC"),
        ({"GAMEKEEPER_CORS_ORIGINS": "[not json"}, "GAMEKEEPER_CORS_ORIGINS"),
        ({"GAMEKEEPER_SECRET_KEY": "short"}, "GAMEKEEPER_SECRET_KEY"),
        ({"GAMEKEEPER_DATABASE_URL": "postgresql://db/gk"}, "GAMEKEEPER_SECRET_KEY"),
        ({"GAMEKEEPER_LOG_FORMAT": "xml"}, "GAMEKEEPER_LOG_FORMAT"),
        ({"GAMEKEEPER_PUSH_VAPID_SUBJECT": "ops"}, "GAMEKEEPER_PUSH_VAPID_SUBJECT"),
        ({"GAMEKEEPER_PUSH_APNS_BASE_URL": "ftp://x"}, "GAMEKEEPER_PUSH_APNS_BASE_URL"),
        ({"GAMEKEEPER_PUSH_CREDENTIALS_FILE": "/nonexistent"}, "GAMEKEEPER_PUSH_CREDENTIALS_FILE"),
        ({"GAMEKEEPER_PUSH_SEND_WAIT": "60"}, "GAMEKEEPER_PUSH_SEND_WAIT"),
    ],
)
def test_bad_values_name_the_setting_on_one_line(env, named):
    with pytest.raises(SettingsError) as error:
        load_settings(env=env)
    assert named in str(error.value) and "\n" not in str(error.value)


def test_unknown_keys_in_the_file_are_refused(tmp_path):
    config = tmp_path / "gk.toml"
    config.write_text("prot = 1\n")
    with pytest.raises(SettingsError, match="prot"):
        load_settings(env={"GAMEKEEPER_CONFIG": str(config)})


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("not json", "as JSON"),
        ("[]", "JSON object"),
        ('{"gcm": {}}', "unknown providers"),
        ('{"apns": {"keyP8": "x"}}', "keyP8"),
    ],
)
def test_a_bad_push_credentials_file_is_refused_on_one_line(tmp_path, content, says):
    from gamekeeper.infra.push.pool import load_defaults

    path = tmp_path / "push.json"
    path.write_text(content)
    settings = load_settings(env={"GAMEKEEPER_PUSH_CREDENTIALS_FILE": str(path)})
    with pytest.raises(SettingsError) as error:
        load_defaults(settings)
    assert says in str(error.value) and "\n" not in str(error.value)
