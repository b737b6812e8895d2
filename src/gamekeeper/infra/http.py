"""The one client for outbound requests to user-given URLs: webhooks, callbacks, ownership claims.

    OutboundError          .reason: why, fit for a log (never the path, query, headers or body)
    ├── OutboundRefused    the URL or an address it resolves to is not allowed; never retry
    └── OutboundFailed     DNS or network error, deadline passed; may be retried

Built on aiohttp, whose C parser makes a request about a tenth of the CPU of the alternatives we
measured (docs/benchmarks.md, outbox). Every request and redirect hop resolves its host once and
is refused if any address is not public and not inside ``allowed_networks``. The connection pool's
resolver then answers only the checked addresses (handed over in a context variable), so a second
DNS answer cannot move the connection (DNS rebinding). URLs keep their host name: ``Host``, SNI
and certificate checks use the real name, and pooled connections are keyed by name, so a
connection verified for one name never carries another's request. One deadline covers resolve,
connect, send and the whole body. Redirects are never followed by the pool, only by ``request``
itself, hop by hop, each hop checked, and never off the first URL's scheme, host and port.
Bodies are read raw (we ask for identity encoding and never decompress: no compression bombs)
and cut at ``max_bytes`` with ``truncated`` set: webhooks need only the status, and a large
reply must not turn a delivery into a retry. Every pooled connection
is kept alive (up to ``max_connections``): size it to the concurrency of the caller.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from gamekeeper import __version__

__all__ = [
    "OutboundError", "OutboundFailed", "OutboundRefused", "OutboundRequest", "OutboundResponse",
    "SafeHttpClient",
]  # fmt: skip

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Framing and routing are ours to set; a user-given header must not change them.
_RESERVED_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})
_LITERALS_KEPT = 1024
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
    headers: Mapping[str, str]  # case-insensitive
    body: bytes  # at most max_bytes, as sent on the wire
    elapsed: float = 0.0  # seconds, from the call until the body was read
    truncated: bool = False  # the body went on past max_bytes


@dataclass(frozen=True, slots=True)
class OutboundRequest:
    """What a ``transport`` (the test seam) is asked to send, once its addresses are checked."""

    method: str
    url: str  # with the host name, as the request would carry it
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes | None = None


Transport = Callable[[OutboundRequest], Awaitable[OutboundResponse]]


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


class _PinnedResolver(AbstractResolver):
    """Answers the pool's lookups with the addresses checked for the current request, only."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        pinned = _PINNED.get()
        if pinned is None or pinned[0] != host:
            raise OSError(f"no checked address for {host}")
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in pinned[1]
        ]

    async def close(self) -> None:
        pass


class SafeHttpClient:
    """Sends requests to user-given URLs without letting them reach private addresses.

    ``transport`` (a test seam: an async callable from ``OutboundRequest`` to
    ``OutboundResponse``) replaces the network entirely, and with it ``verify`` and
    ``max_connections``; addresses are still checked before it is called.
    """

    def __init__(
        self,
        *,
        allowed_networks: Sequence[str] = (),
        timeout: float = 15.0,
        max_bytes: int = 1_048_576,
        user_agent: str = f"Gamekeeper/{__version__}",
        max_connections: int = 200,
        transport: Transport | None = None,
        resolver: Resolver | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self._allowed = [ipaddress.ip_network(n, strict=False) for n in allowed_networks]
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._resolve = resolver or _resolve
        self._transport = transport
        self._headers = {"User-Agent": user_agent, "Accept-Encoding": "identity"}
        self._verify = verify
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None  # made in the loop that first sends
        self._literals: set[str] = set()  # address literals already found allowed

    def refusal(self, url: str) -> str | None:
        """Why ``url`` would be refused whatever DNS answers (its scheme, or an address or
        ``localhost`` outside the allowed networks), or None if it may be reachable."""
        try:
            host = _parse(url).raw_host or ""
        except OutboundRefused as exc:
            return exc.reason
        name = host.lower().rstrip(".")
        if name == "localhost" or name.endswith(".localhost"):  # loopback by definition
            loopback = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
            if not any(self._allows(address) for address in loopback):
                return f"{host} is a loopback name, not a public address"
            return None
        if _is_ip(host):
            address = ipaddress.ip_address(host)
            if not (_is_public(address) or self._allows(address)):
                return f"{host} is not a public address"
        return None

    async def aclose(self) -> None:
        """Close pooled connections."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

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
        """Send one request, following up to ``follow_redirects`` redirects, each one checked.

        A redirect to another scheme, host or port is refused (``OutboundRefused``).
        """
        limit = self._timeout if timeout is None else timeout
        cap = self._max_bytes if max_bytes is None else max_bytes
        started = time.monotonic()
        target = _parse(url)
        method = method.upper()
        sent = {k: v for k, v in (headers or {}).items() if k.lower() not in _RESERVED_HEADERS}
        try:
            async with asyncio.timeout(limit):
                for hop in range(follow_redirects + 1):
                    got = await self._send(method, target, sent, content, cap)
                    location = got.headers.get("location")
                    if got.status not in _REDIRECTS or not location or hop == follow_redirects:
                        break
                    following = _parse(target.join(_url(location)))
                    if _origin(following) != _origin(target):
                        # Whoever controls the other site would answer for this URL.
                        raise OutboundRefused(
                            f"it redirects to {_site(following)}; only redirects within "
                            f"{_site(target)} are followed"
                        )
                    if (got.status == 303 and method != "HEAD") or (
                        got.status in {301, 302} and method == "POST"
                    ):
                        method, content = "GET", None
                    target = following
        except TimeoutError as exc:
            raise OutboundFailed(f"no complete response within {limit:g} s") from exc
        except aiohttp.InvalidURL as exc:
            raise OutboundRefused(f"not a usable URL: {_scrub(str(exc))}") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise OutboundFailed(_describe(exc)) from exc
        elapsed = time.monotonic() - started
        return OutboundResponse(got.status, got.headers, got.body, elapsed, got.truncated)

    async def _send(
        self, method: str, url: URL, headers: dict[str, str], body: bytes | None, cap: int
    ) -> OutboundResponse:
        host = url.raw_host or ""
        addresses = await self._check(host, url.port or 80)
        if self._transport is not None:
            request = OutboundRequest(method, str(url), {**self._headers, **headers}, body)
            fake = await self._transport(request)
            answered = CIMultiDictProxy(CIMultiDict(fake.headers))
            return OutboundResponse(
                fake.status, answered, fake.body[:cap], truncated=len(fake.body) > cap
            )
        token = _PINNED.set((host, addresses))
        try:
            response = await self._pool().request(
                method, url, headers=headers, data=body, allow_redirects=False
            )
        finally:
            _PINNED.reset(token)
        try:
            content, truncated = await _read(response, cap)
        finally:
            if response.content.is_eof():
                response.release()  # back to the pool
            else:
                response.close()  # cut short: the connection cannot be reused
        return OutboundResponse(response.status, response.headers, content, 0.0, truncated)

    def _pool(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections,
                limit_per_host=0,
                use_dns_cache=False,  # every connection asks the pinned resolver
                resolver=_PinnedResolver(),
                ssl=self._verify,
                keepalive_timeout=5.0,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                cookie_jar=aiohttp.DummyCookieJar(),  # stores none
                auto_decompress=False,
                trust_env=False,  # no proxy or netrc from the environment
                timeout=aiohttp.ClientTimeout(total=None),  # ours covers the whole exchange
            )
        return self._session

    async def _check(self, host: str, port: int) -> list[str]:
        if host in self._literals:  # an address in the URL: its verdict cannot change
            return [host]
        literal = _is_ip(host)
        try:
            found = [host] if literal else await self._resolve(host, port)
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
        if literal and len(self._literals) < _LITERALS_KEPT:
            self._literals.add(host)
        return found

    def _allows(self, address: IPAddress) -> bool:
        mapped = getattr(address, "ipv4_mapped", None)
        return any(address in net or (mapped and mapped in net) for net in self._allowed)


def _url(text: str) -> URL:
    try:
        return URL(text)
    except (ValueError, TypeError):
        raise OutboundRefused("not a valid URL") from None


def _parse(url: str | URL) -> URL:
    parsed = _url(url) if isinstance(url, str) else url
    if parsed.scheme not in {"http", "https"}:
        raise OutboundRefused(f"scheme {parsed.scheme!r} is not allowed; use http or https")
    if not parsed.raw_host:
        raise OutboundRefused("the URL has no host")
    if parsed.raw_user is not None or parsed.raw_password is not None:
        raise OutboundRefused("credentials in the URL are not allowed")
    return parsed


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _origin(url: URL) -> tuple[str, str | None, int | None]:
    return url.scheme, (url.raw_host or "").lower(), url.port


def _site(url: URL) -> str:
    """Scheme, host and port, never the path or query (they may carry tokens)."""
    return str(url.origin())


# The library's exceptions, named for a log line the way operators read them.
_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (aiohttp.ClientSSLError, "TLSError"),
    (aiohttp.ClientConnectorError, "ConnectError"),
    (aiohttp.ServerDisconnectedError, "Disconnected"),
    (aiohttp.ClientResponseError, "ProtocolError"),
    (aiohttp.ClientPayloadError, "ProtocolError"),
    (aiohttp.ClientOSError, "NetworkError"),
)


# A URL in a library's message, cut to scheme and host: its path and query may hold tokens.
_URL_IN_TEXT = re.compile(r"\b(https?://[^/?#\s'\"]+)[^\s'\"]*", re.IGNORECASE)


def _scrub(text: str) -> str:
    return _URL_IN_TEXT.sub(r"\1", text)


def _describe(exc: BaseException) -> str:
    kind = next((name for cls, name in _KINDS if isinstance(exc, cls)), type(exc).__name__)
    text = _scrub(str(exc).strip())
    return f"{kind}: {text}" if text else kind


async def _read(response: aiohttp.ClientResponse, cap: int) -> tuple[bytes, bool]:
    body = bytearray()
    async for chunk in response.content.iter_any():
        body += chunk
        if len(body) > cap:
            return bytes(body[:cap]), True
    return bytes(body), False
