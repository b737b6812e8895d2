"""The safe outbound client against real HTTP(S) servers on loopback.

Traffic never leaves loopback: names are mapped by an injected resolver, refusals happen before
any connection, and tests that use non-loopback addresses send through an offline transport that
records instead of connecting. Where a test needs an address that is allowed but "not the
server's", it allows one loopback address and lets the other play the forbidden one.
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from gamekeeper.infra import http as outbound
from gamekeeper.infra.http import (
    OutboundFailed,
    OutboundRefused,
    OutboundRequest,
    OutboundResponse,
    SafeHttpClient,
)
from support import loopback
from support.loopback import LoopbackServer, QuietHandler

pytestmark = pytest.mark.anyio

LOOPBACK = ["127.0.0.0/8"]


# --- A real server on loopback ------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Server(LoopbackServer):
    """Records each request (``seen``) and counts connections; routes by path, see ``_Handler``."""

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.seen: list[Seen] = []
        self.connections = 0
        self.lock = threading.Lock()


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_GET(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.seen.append(Seen(self.command, url.path, headers, body))
        route = getattr(self, "route_" + url.path.strip("/").replace("-", "_"), self.route_ok)
        route(query)

    do_POST = do_HEAD = do_GET

    def route_ok(self, query: dict[str, str]) -> None:
        self.reply(200, b"ok")

    def route_redirect(self, query: dict[str, str]) -> None:
        self.reply(int(query.get("status", "302")), Location=query["to"])

    def route_chain(self, query: dict[str, str]) -> None:
        left = int(query["left"])
        if left == 0:
            self.reply(200, b"end of chain")
        else:
            self.reply(302, Location=f"/chain?left={left - 1}")

    def route_cookie(self, query: dict[str, str]) -> None:
        self.reply(200, Set_Cookie="session=abc; Path=/")

    def route_huge(self, query: dict[str, str]) -> None:
        size, chunk = 20 * 1024 * 1024, b"x" * 65536
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        for _ in range(size // len(chunk)):
            self.wfile.write(chunk)

    def route_trickle_body(self, query: dict[str, str]) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(1000):
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(0.05)  # a trickling server: pacing its answer, not synchronisation

    def route_trickle_headers(self, query: dict[str, str]) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(1000):
            self.wfile.write(b"X-Slow-%d: 1\r\n" % i)
            self.wfile.flush()
            time.sleep(0.05)  # a trickling server: pacing its answer, not synchronisation


@contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    # Quiet errors: clients hang up on trickling and huge replies on purpose.
    with loopback.serving(_Handler, tls=tls, server_class=Server, quiet_errors=True) as server:
        yield server


@pytest.fixture
def server() -> Iterator[Server]:
    with serving() as running:
        yield running


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., SafeHttpClient]]:
    clients: list[SafeHttpClient] = []

    def make(**options: Any) -> SafeHttpClient:
        clients.append(SafeHttpClient(**options))
        return clients[-1]

    yield make
    for client in clients:
        await client.aclose()


class Names:
    """A resolver from a table; a list of answers is served one per lookup, the last repeated."""

    def __init__(self, table: dict[str, str | list[list[str]]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        answer = self.table[host]
        if isinstance(answer, str):
            return [answer]
        return answer.pop(0) if len(answer) > 1 else answer[0]


class Offline:
    """A transport that answers 200 without any network, recording what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[OutboundRequest] = []

    async def __call__(self, request: OutboundRequest) -> OutboundResponse:
        self.sent.append(request)
        return OutboundResponse(200, {}, b"offline")


# --- Ordinary requests ----------------------------------------------------------------------


async def test_post_reaches_the_server_under_its_real_name(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK, resolver=Names({"hooks.test": "127.0.0.1"}))

    response = await client.request(
        "POST",
        f"http://hooks.test:{server.port}/deliver",
        headers={"Content-Type": "application/json", "Webhook-Id": "msg_1"},
        content=b'{"event": "item.granted"}',
    )

    assert (response.status, response.body, response.truncated) == (200, b"ok", False)
    assert 0 < response.elapsed < 5
    [seen] = server.seen
    assert (seen.method, seen.path, seen.body) == ("POST", "/deliver", b'{"event": "item.granted"}')
    assert seen.headers["host"] == f"hooks.test:{server.port}"
    assert seen.headers["webhook-id"] == "msg_1"
    assert seen.headers["user-agent"].startswith("Gamekeeper/")


async def test_keep_alive_connections_are_reused(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK)
    for _ in range(3):
        assert (await client.request("GET", f"http://127.0.0.1:{server.port}/")).status == 200
    assert server.connections == 1


@pytest.mark.parametrize("pool", [4, 16])
async def test_the_pool_keeps_up_to_max_connections_alive(pool, server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK, max_connections=pool)
    url = f"http://127.0.0.1:{server.port}/"
    for _ in range(3):  # 16 at once, three times: later rounds reuse the first round's connections
        answers = await asyncio.gather(*(client.request("GET", url) for _ in range(16)))
        assert [answer.status for answer in answers] == [200] * 16
    assert len(server.seen) == 48
    assert server.connections <= pool


async def test_caller_cannot_override_host_or_framing(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK)
    await client.request(
        "POST",
        f"http://127.0.0.1:{server.port}/",
        headers={"Host": "internal.example", "Content-Length": "999"},
        content=b"abc",
    )
    assert server.seen[0].headers["host"] == f"127.0.0.1:{server.port}"
    assert server.seen[0].body == b"abc"


async def test_cookies_are_not_kept_between_requests(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK)
    await client.request("GET", f"http://127.0.0.1:{server.port}/cookie")
    await client.request("GET", f"http://127.0.0.1:{server.port}/")
    assert "cookie" not in server.seen[1].headers


async def test_proxy_variables_do_not_divert_traffic(server, make_client, monkeypatch) -> None:
    with serving() as proxy:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, f"http://127.0.0.1:{proxy.port}")
        client = make_client(allowed_networks=LOOPBACK)
        response = await client.request("GET", f"http://127.0.0.1:{server.port}/")
    assert response.status == 200
    assert proxy.seen == []
    assert len(server.seen) == 1


async def test_public_addresses_are_allowed(make_client) -> None:
    offline = Offline()
    names = Names({"game.example": "8.8.8.8", "v6.example": "2001:4860:4860::8888"})
    client = make_client(resolver=names, transport=offline)
    for url in ("https://game.example/claim", "http://v6.example/", "http://1.1.1.1/"):
        assert (await client.request("GET", url)).status == 200
    assert offline.sent[0].url == "https://game.example/claim"  # the name, not the address


# --- Refusals ---------------------------------------------------------------------------------

FORBIDDEN_HOSTS = [
    "127.0.0.1", "127.1", "2130706433", "0x7f000001", "[::1]", "0.0.0.0", "[::]",
    "169.254.169.254", "[fe80::1]", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1",
    "[fc00::1]", "[fd12:3456::1]", "[::ffff:127.0.0.1]", "[::ffff:10.0.0.1]",
    "[64:ff9b::a00:1]", "[2002:7f00:1::]", "224.0.0.1", "[ff02::1]", "240.0.0.1",
    "255.255.255.255", "198.51.100.7",
]  # fmt: skip


@pytest.mark.parametrize("host", FORBIDDEN_HOSTS)
async def test_private_hosts_are_refused_before_connecting(host, make_client) -> None:
    offline = Offline()
    client = make_client(transport=offline)
    with pytest.raises(OutboundRefused, match="not a public address"):
        await client.request("GET", f"http://{host}/")
    assert offline.sent == []


FORBIDDEN_ADDRESSES = [
    "127.0.0.1", "::1", "0.0.0.0", "::", "169.254.169.254", "fe80::1", "10.1.2.3", "172.16.0.1",
    "192.168.1.1", "100.64.0.1", "fc00::1", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe",
    "2002:a00:1::", "224.0.0.1", "ff02::1", "240.0.0.1",
]  # fmt: skip


@pytest.mark.parametrize("address", FORBIDDEN_ADDRESSES)
async def test_names_resolving_to_private_addresses_are_refused(address, make_client) -> None:
    offline = Offline()
    client = make_client(transport=offline, resolver=Names({"evil.test": address}))
    with pytest.raises(OutboundRefused) as refused:
        await client.request("GET", "https://evil.test/")
    assert refused.value.reason == f"evil.test resolves to {address}, which is not a public address"
    assert offline.sent == []


async def test_one_forbidden_address_among_many_refuses(make_client) -> None:
    offline = Offline()
    names = Names({"mixed.test": [["127.0.0.2", "10.0.0.1"]]})
    client = make_client(allowed_networks=["127.0.0.2/32"], resolver=names, transport=offline)
    with pytest.raises(OutboundRefused, match=r"10\.0\.0\.1"):
        await client.request("GET", "http://mixed.test/")
    assert offline.sent == []


async def test_localhost_is_refused_by_default(server, make_client) -> None:
    client = make_client()  # the system resolver
    with pytest.raises(OutboundRefused):
        await client.request("GET", f"http://localhost:{server.port}/")
    assert server.seen == []


async def test_allowed_networks_open_loopback(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK)
    assert (await client.request("GET", f"http://127.0.0.1:{server.port}/")).status == 200


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http://user:secret@example.com/",
        "http:///path",
        "//example.com/",
        "",
    ],
)
async def test_unusable_urls_are_refused(url, make_client) -> None:
    offline = Offline()
    client = make_client(transport=offline, resolver=Names({"example.com": "8.8.8.8"}))
    with pytest.raises(OutboundRefused):
        await client.request("GET", url)
    assert offline.sent == []


async def test_unknown_name_is_a_retryable_failure(make_client) -> None:
    client = make_client(resolver=Names({}), transport=Offline())
    with pytest.raises(OutboundFailed, match=r"cannot resolve nowhere\.test"):
        await client.request("GET", "http://nowhere.test/")


async def test_connection_refused_is_a_retryable_failure(make_client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(allowed_networks=LOOPBACK)
    with pytest.raises(OutboundFailed, match="ConnectError"):
        await client.request("GET", f"http://127.0.0.1:{port}/")


async def test_an_error_names_the_site_never_the_path_or_query(make_client) -> None:
    """The reason ends up in a delivery's last_error, shown to whoever reads deliveries."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer_garbage() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")

        thread = threading.Thread(target=answer_garbage, daemon=True)
        thread.start()
        client = make_client(allowed_networks=LOOPBACK)
        with pytest.raises(OutboundFailed) as failed:
            await client.request("POST", f"http://127.0.0.1:{port}/hook/abc?token=s3cret")
        thread.join(5)
    assert failed.value.reason.startswith("ProtocolError: ")
    assert f"http://127.0.0.1:{port}" in failed.value.reason
    assert "s3cret" not in failed.value.reason and "/hook" not in failed.value.reason


def test_refusal_names_urls_that_can_never_be_reached() -> None:
    strict = SafeHttpClient()
    assert strict.refusal("http://127.0.0.1:8000/hook") == "127.0.0.1 is not a public address"
    assert strict.refusal("http://[::1]/hook") == "::1 is not a public address"
    assert strict.refusal("http://app.localhost/x") == (
        "app.localhost is a loopback name, not a public address"
    )
    assert strict.refusal("ftp://example.com/") == (
        "scheme 'ftp' is not allowed; use http or https"
    )
    for reachable in ("https://hooks.example/x?token=1", "http://93.184.216.34/", "http://db/"):
        assert strict.refusal(reachable) is None  # a name is judged when it is resolved
    allowing = SafeHttpClient(allowed_networks=["127.0.0.0/8"])
    assert allowing.refusal("http://127.0.0.1:8000/hook") is None
    assert allowing.refusal("http://localhost:8000/hook") is None


async def test_dns_rebinding_cannot_move_the_connection(server, make_client) -> None:
    # 127.0.0.1 plays the public address; 127.0.0.2 the private one a rebinding DNS returns next.
    names = Names({"rebind.test": [["127.0.0.1"], ["127.0.0.2"]]})
    client = make_client(allowed_networks=["127.0.0.1/32"], resolver=names)
    url = f"http://rebind.test:{server.port}/"

    assert (await client.request("GET", url)).status == 200
    assert names.lookups == ["rebind.test"]  # looked up once, connected to what was checked

    # The next lookup answers a forbidden address: refused, though a pooled connection exists.
    with pytest.raises(OutboundRefused, match=r"127\.0\.0\.2"):
        await client.request("GET", url)
    assert len(server.seen) == 1


# --- Redirects --------------------------------------------------------------------------------


async def test_redirects_are_not_followed_by_default(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK)
    response = await client.request("GET", f"http://127.0.0.1:{server.port}/redirect?to=/ok")
    assert (response.status, response.headers["location"]) == (302, "/ok")
    assert [seen.path for seen in server.seen] == ["/redirect"]


async def test_redirects_are_followed_up_to_the_limit(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK)
    url = f"http://127.0.0.1:{server.port}/chain?left=2"

    followed = await client.request("GET", url, follow_redirects=2)
    assert (followed.status, followed.body) == (200, b"end of chain")

    stopped = await client.request("GET", url, follow_redirects=1)
    assert (stopped.status, stopped.headers["location"]) == (302, "/chain?left=0")


async def test_see_other_turns_post_into_get(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK)
    url = f"http://127.0.0.1:{server.port}/redirect?status=303&to=/ok"
    response = await client.request("POST", url, content=b"payload", follow_redirects=1)
    assert response.status == 200
    assert [(s.method, s.path, s.body) for s in server.seen][1] == ("GET", "/ok", b"")


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/",  # loopback outside the allowed /32
        "http://metadata.test/latest/meta-data/",  # a name for 169.254.169.254
        "http://[::1]:{port}/",
        "file:///etc/passwd",
    ],
)
async def test_redirect_to_forbidden_address_is_refused(target, server, make_client) -> None:
    names = Names({"metadata.test": "169.254.169.254"})
    client = make_client(allowed_networks=["127.0.0.1/32"], resolver=names)
    location = target.format(port=server.port)
    url = f"http://127.0.0.1:{server.port}/redirect?to={location}"
    with pytest.raises(OutboundRefused):
        await client.request("GET", url, follow_redirects=3)
    assert len(server.seen) == 1


@pytest.mark.parametrize(
    "location",
    [
        "http://b.test:{port}/ok",  # another host on the same address
        "http://a.test:{other}/ok",  # another port
        "https://a.test:{port}/ok",  # another scheme
    ],
)
async def test_redirect_off_the_first_site_is_refused(location, server, make_client) -> None:
    names = Names({"a.test": "127.0.0.1", "b.test": "127.0.0.1"})
    client = make_client(allowed_networks=LOOPBACK, resolver=names)
    target = location.format(port=server.port, other=server.port + 1)
    url = f"http://a.test:{server.port}/redirect?to={target}?token=s3cret"
    with pytest.raises(OutboundRefused) as refused:
        await client.request(
            "GET", url, headers={"Authorization": "Bearer s3cret"}, follow_redirects=1
        )
    assert refused.value.reason.endswith(
        f"only redirects within http://a.test:{server.port} are followed"
    )
    assert "s3cret" not in refused.value.reason and "/ok" not in refused.value.reason
    assert [seen.path for seen in server.seen] == ["/redirect"]


async def test_redirect_within_the_site_keeps_caller_headers(server, make_client) -> None:
    names = Names({"a.test": "127.0.0.1"})
    client = make_client(allowed_networks=LOOPBACK, resolver=names)
    url = f"http://A.test:{server.port}/redirect?to=http://a.test:{server.port}/ok"
    response = await client.request("GET", url, headers={"X-Probe": "1"}, follow_redirects=1)
    assert response.status == 200
    assert [s.headers.get("x-probe") for s in server.seen] == ["1", "1"]


# --- Bounded time and size ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/trickle-body", "/trickle-headers"])
async def test_one_deadline_bounds_a_trickling_server(path, server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(OutboundFailed, match=r"within 0\.5 s"):
        await client.request("GET", f"http://127.0.0.1:{server.port}{path}")
    assert time.monotonic() - started < 1.5


async def test_a_per_request_timeout_overrides_the_default(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK, timeout=30)
    started = time.monotonic()
    with pytest.raises(OutboundFailed):
        await client.request("GET", f"http://127.0.0.1:{server.port}/trickle-body", timeout=0.3)
    assert time.monotonic() - started < 1.3


async def test_body_is_cut_at_max_bytes(server, make_client) -> None:
    client = make_client(allowed_networks=LOOPBACK, max_bytes=1000)
    huge = await client.request("GET", f"http://127.0.0.1:{server.port}/huge")
    assert (huge.status, len(huge.body), huge.truncated) == (200, 1000, True)

    small = await client.request("GET", f"http://127.0.0.1:{server.port}/", max_bytes=2)
    assert (small.body, small.truncated) == (b"ok", False)


# --- TLS ----------------------------------------------------------------------------------------


def _certificates(tmp_path: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for ``name`` signed by it: (ca, cert, key) PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def build(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()), False
            )
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = build("Gamekeeper test CA", ca_key, "Gamekeeper test CA", ca_key, ca=True)
    cert = build(name, key, "Gamekeeper test CA", ca_key, ca=False)
    paths = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


async def test_https_verifies_the_real_name_not_the_address(tmp_path, make_client) -> None:
    ca, cert, key = _certificates(tmp_path, "localhost")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    offered: list[str | None] = []
    tls.sni_callback = lambda _socket, name, _context: offered.append(name)
    names = Names({"localhost": "127.0.0.1", "other.test": "127.0.0.1"})
    client = make_client(
        allowed_networks=LOOPBACK,
        resolver=names,
        verify=ssl.create_default_context(cafile=str(ca)),
    )
    with serving(tls=tls) as server:
        response = await client.request("GET", f"https://localhost:{server.port}/")
        assert (response.status, offered) == (200, ["localhost"])

        # Same address and port, already pooled: the certificate does not name other.test.
        with pytest.raises(OutboundFailed, match=r"CERTIFICATE_VERIFY_FAILED"):
            await client.request("GET", f"https://other.test:{server.port}/")
        assert [seen.headers["host"] for seen in server.seen] == [f"localhost:{server.port}"]


# --- Surface ------------------------------------------------------------------------------------


def test_public_surface() -> None:
    assert sorted(outbound.__all__) == [
        "OutboundError",
        "OutboundFailed",
        "OutboundRefused",
        "OutboundRequest",
        "OutboundResponse",
        "SafeHttpClient",
    ]
    assert not issubclass(OutboundRefused, OutboundFailed)
