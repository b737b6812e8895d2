"""What the push providers share: the fields of ours every app finds, and reading answers.

Every provider puts ``id`` (the notification's), ``type`` and ``deepLink`` in front of the app
beside the game's ``data``: nested as ``data`` where the payload is ours to shape (APNs, Web Push:
``app_fields``), flat where the provider takes one map (FCM, Expo: ``flat_data``), and there our
keys win over the game's of the same name, so the app always finds the notification by ``id``.

``retry_after`` reads a ``Retry-After`` header, ``safe_code`` decides whether a provider's error
code may become a verdict's reason (providers' messages quote device tokens, their codes do
not), ``json_body`` reads a body that may not be JSON. ``JsonClient`` is the aiohttp client of
the providers whose base URL is an operator setting (FCM, Expo): one post, its answer as
``(status, headers, JSON)``, a timeout or a connection error as a ``RETRY`` verdict.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from gamekeeper import __version__
from gamekeeper.infra.push.base import Outcome, PushMessage, Verdict

__all__ = [
    "USER_AGENT", "Answer", "JsonClient", "app_fields", "flat_data", "json_body", "retry_after",
    "safe_code",
]  # fmt: skip

USER_AGENT = f"Gamekeeper/{__version__}"
_MAX_CODE = 64

Answer = tuple[int, Mapping[str, str], Any]  # status, headers, the JSON body (None if not JSON)


def app_fields(message: PushMessage) -> dict[str, Any]:
    """``id``, ``type``, the game's ``data`` (nested) and ``deepLink``: what the app reads."""
    fields: dict[str, Any] = {"id": message.notification_id, "type": message.type}
    if message.data is not None:
        fields["data"] = dict(message.data)
    if message.deep_link:
        fields["deepLink"] = message.deep_link
    return fields


def flat_data(message: PushMessage) -> dict[str, Any]:
    """The game's ``data`` with ``id``, ``type`` and ``deepLink`` of ours in it, ours winning."""
    data: dict[str, Any] = {**(message.data or {})}
    data.update(id=message.notification_id, type=message.type)
    if message.deep_link:
        data["deepLink"] = message.deep_link
    return data


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from ``Retry-After``: a number of seconds or an HTTP date; None if absent or bad.

    ``now`` (seconds since the epoch, default the real time) is what a date is counted from.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value)
        return seconds if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    when = when.replace(tzinfo=when.tzinfo or UTC)  # HTTP dates are in GMT
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def safe_code(value: object) -> str | None:
    """A provider's error code, fit for a log line: a short ASCII identifier, nothing else."""
    if isinstance(value, str) and value.isascii() and value.isidentifier():
        return value if len(value) <= _MAX_CODE else None
    return None


def json_body(raw: bytes) -> Any:
    """The body as JSON, or None when it is not JSON."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


class JsonClient:
    """Posts to one provider over aiohttp; the session is made in the loop that first posts."""

    def __init__(
        self, *, timeout: float, headers: Mapping[str, str] | None = None, limit: int = 100
    ) -> None:
        self._timeout = timeout
        self._headers = {"User-Agent": USER_AGENT, **(headers or {})}
        self._limit = limit  # connections at once
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, **options: Any) -> Answer | Verdict:
        """The answer to one POST, or a ``RETRY`` verdict for a timeout or connection error."""
        try:
            async with asyncio.timeout(self._timeout):
                async with self._pool().post(url, **options) as response:
                    raw = await response.read()
                    return response.status, response.headers, json_body(raw)
        except TimeoutError:
            return Verdict(Outcome.RETRY, "timeout")
        except (aiohttp.ClientError, OSError) as exc:
            return Verdict(Outcome.RETRY, f"connection error: {type(exc).__name__}")

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit),
                headers=self._headers,
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),  # ours covers the whole exchange
            )
        return self._session
