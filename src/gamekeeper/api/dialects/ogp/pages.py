"""Fetching a game's page for an ownership claim, through the safe outbound client."""

from __future__ import annotations

from gamekeeper.core.catalog.errors import GameUrlRefused, GameUrlUnreachable
from gamekeeper.infra.http import OutboundFailed, OutboundRefused, SafeHttpClient

MAX_PAGE_BYTES = 512 * 1024  # the head is at the top; the rest of a page is not needed
MAX_REDIRECTS = 3
TIMEOUT = 10.0


async def fetch_page(http: SafeHttpClient, url: str) -> bytes:
    """The start of the page at ``url``; core errors for refused or unreachable addresses."""
    try:
        response = await http.request(
            "GET",
            url,
            headers={"Accept": "text/html"},
            max_bytes=MAX_PAGE_BYTES,
            timeout=TIMEOUT,
            follow_redirects=MAX_REDIRECTS,
        )
    except OutboundRefused as exc:
        raise GameUrlRefused(f"gameUrl cannot be checked: {exc.reason}") from exc
    except OutboundFailed as exc:
        raise GameUrlUnreachable(f"gameUrl could not be fetched: {exc.reason}") from exc
    if not 200 <= response.status < 300:
        raise GameUrlUnreachable(f"gameUrl answered HTTP {response.status}, not a page")
    return response.body
