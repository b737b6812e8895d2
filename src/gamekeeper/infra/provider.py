"""What the identity-provider clients (itch.io, Steam) share: a client at an operator-set base
URL, one deadline per exchange, and every failure to get an answer as ExternalAuthUnavailable.

The base URL is an operator setting, not user input, so a plain client is right here (the safe
outbound client would refuse a loopback stand-in). Credentials never reach a log line or an
error message: callers pass only safe context.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httpx
import structlog

from gamekeeper import __version__
from gamekeeper.core.matchmaking.external import ExternalAuthUnavailable

log = structlog.get_logger(__name__)


class ProviderClient:
    """Base of one provider's verifier; one instance per application."""

    provider: ClassVar[str]  # as named in messages: "itch.io", "Steam"

    def __init__(
        self, base_url: str, *, timeout: float = 5.0, client: httpx.AsyncClient | None = None
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(
            timeout=timeout, headers={"User-Agent": f"Gamekeeper/{__version__}"}
        )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def _get(
        self, path: str, *, context: dict[str, object], **options: Any
    ) -> httpx.Response:
        try:
            async with asyncio.timeout(self._timeout):  # one deadline for the whole exchange
                return await self._client.get(self._base_url + path, **options)
        except TimeoutError as exc:
            raise self._unavailable("did not answer in time", **context) from exc
        except httpx.HTTPError as exc:
            raise self._unavailable(
                "cannot be reached", error=type(exc).__name__, **context
            ) from exc

    def _unavailable(self, reason: str, **context: object) -> ExternalAuthUnavailable:
        log.warning(
            "identity_provider_unavailable", provider=self.provider, reason=reason, **context
        )
        return ExternalAuthUnavailable(f"{self.provider} {reason}; try again later")
