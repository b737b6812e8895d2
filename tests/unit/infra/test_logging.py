"""Logging: JSON lines on stdout for our loggers and the standard library's, secrets masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from gamekeeper.infra.logging import MASK, configure_logging, get_logger, mask_secrets


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Leave the process's logging as this test found it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    uvicorn = logging.getLogger("uvicorn.access")
    uvicorn_handlers, uvicorn_propagate = uvicorn.handlers[:], uvicorn.propagate
    yield
    root.handlers[:], root.level = handlers, level
    uvicorn.handlers[:], uvicorn.propagate = uvicorn_handlers, uvicorn_propagate
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def test_our_lines_are_json_with_the_bound_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    structlog.contextvars.bind_contextvars(request_id="req-1")

    get_logger("gamekeeper.test").info("game_created", game_id=7)

    [line] = _lines(capsys)
    assert line["event"] == "game_created"
    assert line["game_id"] == 7
    assert line["request_id"] == "req-1"
    assert line["level"] == "info"
    assert line["logger"] == "gamekeeper.test"
    assert "timestamp" in line


def test_library_lines_share_the_format_and_the_request_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    uvicorn = logging.getLogger("uvicorn.access")
    uvicorn.addHandler(logging.StreamHandler())  # what uvicorn's own log config would install
    uvicorn.propagate = False
    configure_logging()
    structlog.contextvars.bind_contextvars(request_id="req-2")

    uvicorn.info('%s "%s %s"', "127.0.0.1", "GET", "/healthz")

    [line] = _lines(capsys)
    assert line["event"] == '127.0.0.1 "GET /healthz"'
    assert line["logger"] == "uvicorn.access"
    assert line["request_id"] == "req-2"


def test_secrets_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    headers = {"Authorization": "Bearer abc", "X-Api-Key": "gk_live_1", "Accept": "text/html"}

    get_logger().warning(
        "login_failed",
        password="hunter2",
        refresh_token="rt-1",
        headers=headers,
        user="alice",
    )
    logging.getLogger("sqlalchemy").warning("plain message")

    line, stdlib_line = _lines(capsys)
    assert line["password"] == MASK
    assert line["refresh_token"] == MASK
    assert line["headers"] == {"Authorization": MASK, "X-Api-Key": MASK, "Accept": "text/html"}
    assert line["user"] == "alice"
    assert headers["Authorization"] == "Bearer abc"  # the caller's dict is untouched
    assert stdlib_line["event"] == "plain message"


@pytest.mark.parametrize(
    "key",
    ["authorization", "token", "secret", "password", "api_key", "apikey", "secret_key", "key"],
)
def test_each_secret_key_is_masked(key: str) -> None:
    assert mask_secrets(None, "info", {"event": "e", key: "s3cr3t"})[key] == MASK


def test_configuring_twice_does_not_duplicate_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    configure_logging(level="DEBUG")

    get_logger().debug("once")

    assert [line["event"] for line in _lines(capsys)] == ["once"]


def test_lines_below_the_level_are_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(level="warning")

    get_logger().info("chatty")
    logging.getLogger("alembic").info("chatty too")
    get_logger().error("kept")

    assert [line["event"] for line in _lines(capsys)] == ["kept"]


def test_exceptions_are_rendered_into_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging()
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        get_logger().exception("handler_failed")

    [line] = _lines(capsys)
    assert "RuntimeError: boom" in str(line["exception"])


def test_console_format_is_human_readable(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt="console")

    get_logger().info("server_started", port=8000, token="t-1")

    out = capsys.readouterr().out
    assert "server_started" in out
    assert "port=8000" in out
    assert "t-1" not in out


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="xml"):
        configure_logging(fmt="xml")


def test_an_access_log_uvicorn_switched_off_stays_off():
    import logging

    from gamekeeper.infra.logging import configure_logging

    access = logging.getLogger("uvicorn.access")
    saved = (list(access.handlers), access.propagate)
    try:
        access.handlers.clear()
        access.propagate = False  # what uvicorn does with access_log=False
        configure_logging("INFO", "json")
        assert access.propagate is False and not access.handlers
    finally:
        access.handlers[:] = saved[0]
        access.propagate = saved[1]
