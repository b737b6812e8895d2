"""The one client for outbound requests to user-given URLs: webhooks, callbacks, ownership claims.

    OutboundError          .reason: why, fit for a log (never the path, query, headers or body)
    ├── OutboundRefused    the URL or an address it resolves to is not allowed; never retry
    └── OutboundFailed     DNS or network error, deadline passed; may be retried

Every request and redirect hop resolves its host once and is refused if any address is not
public and not inside ``allowed_networks``. The pool's network backend then connects only to the
checked addresses (handed over in a context variable), so a second DNS answer cannot move the
connection (DNS rebinding). URLs keep their host name: ``Host``, SNI and certificate checks use
the real name, and pooled connections are keyed by name, so a connection verified for one name
never carries another's request. One deadline covers resolve, connect, send and the whole body.
Bodies are read raw (we ask for identity encoding and never decompress: no compression bombs)
and cut at ``max_bytes`` with ``truncated`` set: webhooks need only the status, and a large reply
must not turn a delivery into a retry.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpcore
import httpx

from gamekeeper import __version__

__all__ = [
    "OutboundError", "OutboundFailed", "OutboundRefused", "OutboundResponse", "SafeHttpClient",
]  # fmt: skip

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Framing and routing are ours to set; a user-given header must not change them.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_NETWORK_ERRORS = (
    httpx.HTTPError, httpcore.TimeoutException, httpcore.NetworkError, httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
)  # fmt: skip
# (host, checked addresses) of the request being sent by the current task.
_PINNED: ContextVar[tuple[str, Sequence[str]] | None] = ContextVar("outbound_pin", default=None)


class OutboundError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class OutboundRefused(OutboundError):
    """The URL or one of its addresses is not allowed; retrying cannot help."""


class OutboundFailed(OutboundError):
    """DNS, network or protocol error, or the deadline passed; a retry may succeed."""


@dataclass(frozen=True, slots=True)
class OutboundResponse:
    status: int
    headers: httpx.Headers
    body: bytes  # at most max_bytes, as sent on the wire
    elapsed: float  # seconds, from the call until the body was read
    truncated: bool = False  # the body went on past max_bytes


async def _resolve(host: str, port: int) -> list[str]:
    """Return the addresses of ``host``, in the order the system prefers them."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _is_public(address: IPAddress) -> bool:
    """True if ``address`` is on the public internet, including what it embeds (mapped, NAT64)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return _is_public(address.ipv4_mapped)
        embedded = address.sixtofour
        if address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None and not _is_public(embedded):
            return False
    # is_global already excludes private, loopback, link-local, unspecified, CGNAT, unique-local.
    return address.is_global and not (address.is_multicast or address.is_reserved)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens connections only to the addresses checked for the current request."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        pinned = _PINNED.get()
        if pinned is None or pinned[0] != host:
            raise httpcore.ConnectError(f"no checked address for {host}")
        error = httpcore.ConnectError(f"no address for {host}")
        for address in pinned[1]:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _Body(httpx.AsyncByteStream):
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class _PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport over an httpcore pool that uses ``_PinnedBackend``."""

    def __init__(self, *, verify: ssl.SSLContext | bool, max_connections: int) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=max_connections,
            max_keepalive_connections=min(20, max_connections),
            keepalive_expiry=5.0,
            network_backend=_PinnedBackend(),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        target = httpcore.URL(
            scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
        )
        sent = httpcore.Request(
            request.method, target, headers=request.headers.raw, content=request.stream,
            extensions=request.extensions,
        )  # fmt: skip
        got = await self._pool.handle_async_request(sent)
        return httpx.Response(
            got.status, headers=got.headers, stream=_Body(got.stream), extensions=got.extensions
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class SafeHttpClient:
    """Sends requests to user-given URLs without letting them reach private addresses.

    ``transport`` (a test seam, e.g. ``httpx.MockTransport``) replaces the network entirely, and
    with it ``verify`` and ``max_connections``; addresses are still checked before it is called.
    """

    def __init__(
        self,
        *,
        allowed_networks: Sequence[str] = (),
        timeout: float = 15.0,
        max_bytes: int = 1_048_576,
        user_agent: str = f"Gamekeeper/{__version__}",
        max_connections: int = 200,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._allowed = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._resolve = resolver or _resolve
        self._client = httpx.AsyncClient(
            transport=transport or _PinnedTransport(verify=verify, max_connections=max_connections),
            headers={"User-Agent": user_agent, "Accept-Encoding": "identity"},
            cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])),  # stores none
            trust_env=False,  # no proxy, netrc or CA bundle from the environment
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 - one deadline for the whole exchange
        follow_redirects: int = 0,
    ) -> OutboundResponse:
        """Send one request, following up to ``follow_redirects`` redirects, each one checked."""
        limit = self._timeout if timeout is None else timeout
        cap = self._max_bytes if max_bytes is None else max_bytes
        started = time.monotonic()
        target = _parse(url)
        method = method.upper()
        sent = {k: v for k, v in (headers or {}).items() if k.lower() not in _RESERVED_HEADERS}
        hops = 0
        try:
            async with asyncio.timeout(limit):
                while True:
                    response = await self._send(method, target, sent, content, limit)
                    try:
                        status, location = response.status_code, response.headers.get("location")
                        if status not in _REDIRECTS or not location or hops == follow_redirects:
                            body, truncated = await _read(response, cap)
                            break
                    finally:
                        await response.aclose()
                    hops += 1
                    following = _parse(str(target.join(location)))
                    if _origin(following) != _origin(target):
                        sent = {}  # the caller's headers may hold credentials for the first site
                    if (status == 303 and method != "HEAD") or (
                        status in {301, 302} and method == "POST"
                    ):
                        method, content = "GET", None
                    target = following
        except TimeoutError as exc:
            raise OutboundFailed(f"no complete response within {limit:g} s") from exc
        except _NETWORK_ERRORS as exc:
            raise OutboundFailed(f"{type(exc).__name__}: {exc}") from exc
        elapsed = time.monotonic() - started
        return OutboundResponse(status, response.headers, body, elapsed, truncated)

    async def _send(
        self, method: str, url: httpx.URL, headers: dict[str, str], body: bytes | None, limit: float
    ) -> httpx.Response:
        host = url.raw_host.decode("ascii")
        addresses = await self._check(host, url.port or (443 if url.scheme == "https" else 80))
        request = self._client.build_request(
            method, url, headers=headers, content=body, timeout=limit
        )
        token = _PINNED.set((host, addresses))
        try:
            return await self._client.send(request, stream=True)
        finally:
            _PINNED.reset(token)

    async def _check(self, host: str, port: int) -> list[str]:
        try:
            found = [host] if _is_ip(host) else await self._resolve(host, port)
        except OSError as exc:
            raise OutboundFailed(f"cannot resolve {host}: {exc}") from exc
        if not found:
            raise OutboundFailed(f"cannot resolve {host}: no addresses")
        for text in found:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise OutboundRefused(f"{host} resolves to {text!r}, not an address") from None
            if not (_is_public(address) or self._allows(address)):
                where = host if text == host else f"{host} resolves to {text}, which"
                raise OutboundRefused(f"{where} is not a public address")
        return found

    def _allows(self, address: IPAddress) -> bool:
        mapped = getattr(address, "ipv4_mapped", None)
        return any(address in net or (mapped and mapped in net) for net in self._allowed)


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise OutboundRefused("not a valid URL") from None
    if parsed.scheme not in {"http", "https"}:
        raise OutboundRefused(f"scheme {parsed.scheme!r} is not allowed; use http or https")
    if not parsed.raw_host:
        raise OutboundRefused("the URL has no host")
    if parsed.userinfo:
        raise OutboundRefused("credentials in the URL are not allowed")
    return parsed


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return url.scheme, url.raw_host, url.port


async def _read(response: httpx.Response, cap: int) -> tuple[bytes, bool]:
    if response.is_stream_consumed:  # read already, as by httpx.MockTransport
        return response.content[:cap], len(response.content) > cap
    body = bytearray()
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > cap:
            return bytes(body[:cap]), True
    return bytes(body), False
