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


# --- a typo or a bad value is one line, in the environment as in the file (issue 15, item 17) -


@pytest.mark.parametrize(
    ("variable", "suggested"),
    [
        ("GAMEKEEPER_PORTT", "GAMEKEEPER_PORT"),
        ("GAMEKEEPER_DATABASE_ULR", "GAMEKEEPER_DATABASE_URL"),
        ("GAMEKEEPER_RATE_LIMIT_PUBLIK", "GAMEKEEPER_RATE_LIMIT_PUBLIC"),
    ],
)
def test_an_unknown_variable_is_refused_with_the_closest_setting(variable, suggested):
    with pytest.raises(SettingsError) as error:
        load_settings(env={variable: "9000"})
    message = str(error.value)
    assert message == f"{variable}: unknown setting (did you mean {suggested}?)"


def test_an_unknown_variable_far_from_any_setting_is_refused_without_a_guess():
    with pytest.raises(SettingsError) as error:
        load_settings(env={"GAMEKEEPER_ZZZZZZZZ": "1"})
    assert str(error.value) == "GAMEKEEPER_ZZZZZZZZ: unknown setting"


def test_the_test_suites_and_the_admin_commands_variables_are_not_settings():
    env = {
        "GAMEKEEPER_TEST_POSTGRES_URL": "postgresql://postgres@127.0.0.1/test",
        "GAMEKEEPER_TEST_REDIS_URL": "redis://127.0.0.1:6379/15",
        "GAMEKEEPER_TEST_NATS_URL": "nats://127.0.0.1:4222",
        "GAMEKEEPER_TEST_ANYTHING_ELSE": "x",
        "GAMEKEEPER_ADMIN_URL": "http://127.0.0.1:8000",
        "GAMEKEEPER_PORT": "9000",
    }
    assert load_settings(env=env).port == 9000


def test_an_unknown_key_in_the_file_names_the_file_and_the_closest_setting(tmp_path):
    config = tmp_path / "gk.toml"
    config.write_text("prot = 1\n[rate_limits]\npublic = '5/second'\n")
    with pytest.raises(SettingsError) as error:
        load_settings(env={"GAMEKEEPER_CONFIG": str(config)})
    assert str(error.value) == f"unknown setting 'prot' in {config} (did you mean 'port'?)"

    config.write_text("[rate_limits]\npublick = '5/second'\n")
    with pytest.raises(SettingsError) as error:
        load_settings(env={"GAMEKEEPER_CONFIG": str(config)})
    assert str(error.value) == (
        f"unknown rate-limit category 'publick' in {config} (did you mean 'public'?)"
    )


@pytest.mark.parametrize("level", ["LOUD", "verbose", ""])
def test_an_unknown_log_level_is_one_line_naming_the_levels(level):
    with pytest.raises(SettingsError) as error:
        load_settings(env={"GAMEKEEPER_LOG_LEVEL": level})
    assert str(error.value).startswith("GAMEKEEPER_LOG_LEVEL: ")
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in str(error.value)


def test_log_levels_are_taken_in_any_case():
    assert load_settings(env={"GAMEKEEPER_LOG_LEVEL": "debug"}).log_level == "debug"


@pytest.mark.parametrize(
    "url",
    ["not-a-url", "games.example.com", "ftp://games.example.com", "https://", "http://:80",
     "https://games.example.com:port"],
)  # fmt: skip
def test_a_public_url_must_be_http_or_https_with_a_host(url):
    with pytest.raises(SettingsError) as error:
        load_settings(env={"GAMEKEEPER_PUBLIC_URL": url})
    assert str(error.value).startswith("GAMEKEEPER_PUBLIC_URL: ")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "url", ["https://games.example.com", "http://127.0.0.1:8000/", "https://[::1]:8443/gk"]
)
def test_a_public_url_with_a_scheme_and_a_host_is_taken(url):
    assert load_settings(env={"GAMEKEEPER_PUBLIC_URL": url}).base_url == url.rstrip("/")


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_serving_on_every_interface_without_a_public_url_warns_in_one_line(host, capsys):
    from gamekeeper.cli.serve import _warn_unreachable_links

    _warn_unreachable_links(load_settings(env={}, host=host))
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("warning: ")
    assert f"http://{host}:8000" in line and "GAMEKEEPER_PUBLIC_URL" in line


@pytest.mark.parametrize(
    ("host", "public_url"), [("127.0.0.1", None), ("0.0.0.0", "https://games.example.com")]
)
def test_no_warning_when_links_name_a_reachable_address(host, public_url, capsys):
    from gamekeeper.cli.serve import _warn_unreachable_links

    _warn_unreachable_links(load_settings(env={}, host=host, public_url=public_url))
    assert capsys.readouterr().err == ""
