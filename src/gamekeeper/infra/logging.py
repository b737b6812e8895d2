"""Structured logs: structlog and the standard library (uvicorn, SQLAlchemy) render alike."""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

__all__ = ["MASK", "SECRET_KEYS", "configure_logging", "get_logger", "mask_secrets"]

MASK = "***"
# Compared after lower-casing and mapping "-" to "_", so "X-Api-Key" matches "x_api_key".
SECRET_KEYS = frozenset(
    {
        "authorization", "proxy_authorization", "cookie", "set_cookie", "x_api_key",
        "token", "access_token", "refresh_token", "id_token", "admin_token",
        "secret", "client_secret", "secret_key", "webhook_secret", "hmac_key",
        "password", "passwd", "api_key", "apikey", "key", "private_key", "signature",
    }
)  # fmt: skip
_SECRET_SUFFIXES = ("_token", "_secret", "_password")
# Loggers that libraries set up with their own handlers; ours must see their records.
_ADOPTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "alembic")
_QUIET_LOGGERS = ("httpx", "httpcore", "sqlalchemy", "aiosqlite", "asyncpg")


def get_logger(name: str | None = None) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger; it may be created before ``configure_logging`` runs."""
    return structlog.stdlib.get_logger(name)


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every log line, ours and the libraries', to stdout as JSON (or ``console``)."""
    if fmt not in {"json", "console"}:
        raise ValueError(f"log format must be json or console, not {fmt!r}")
    timestamper = structlog.processors.TimeStamper(fmt="iso", utc=True)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        timestamper,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            # Masked before the record reaches any handler, not only ours.
            mask_secrets,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Loggers are made at import time and apps are configured (in tests, several times)
        # later; uncached loggers always follow the latest configuration. Logging is off the
        # per-request hot path, so the few microseconds per call do not matter.
        cache_logger_on_first_use=False,
    )
    handler = _StdoutHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, mask_secrets],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *_renderers(fmt),
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StdoutHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _ADOPTED_LOGGERS:
        adopted = logging.getLogger(name)
        if name == "uvicorn.access" and not adopted.handlers and not adopted.propagate:
            continue  # uvicorn switched its access log off (access_log=False): keep it off
        adopted.handlers.clear()
        adopted.propagate = True
    # Whatever our level, these stay at WARNING or above: httpx logs every request URL at INFO
    # (webhook URLs may carry secrets in their path); SQLAlchemy at INFO and aiosqlite and
    # asyncpg at DEBUG log statements with their parameters (password hashes, sealed secrets).
    quiet = max(logging.WARNING, root.level)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(quiet)


def mask_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """Replace the values of secret-looking keys, also in nested mappings."""
    _mask(event_dict, depth=3)
    return event_dict


def _mask(values: MutableMapping[str, Any], depth: int) -> None:
    for key, value in values.items():
        if _is_secret(key):
            values[key] = MASK
        elif depth and isinstance(value, Mapping):
            copy = dict(value)  # never mutate the caller's object
            _mask(copy, depth - 1)
            values[key] = copy


def _is_secret(key: object) -> bool:
    if not isinstance(key, str):
        return False
    name = key.lower().replace("-", "_")
    return name in SECRET_KEYS or name.endswith(_SECRET_SUFFIXES)


def _renderers(fmt: str) -> list[Processor]:
    if fmt == "console":
        # Local variables in tracebacks may hold secrets: never print them.
        formatter = structlog.dev.RichTracebackFormatter(show_locals=False)
        colors = sys.stdout.isatty()
        return [structlog.dev.ConsoleRenderer(colors=colors, exception_formatter=formatter)]
    return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the current ``sys.stdout``, which test runners and reloaders replace."""

    @property
    def stream(self) -> Any:
        return sys.stdout

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass
