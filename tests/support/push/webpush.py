"""A Web Push service on loopback over HTTPS, checking what a real push service checks.

``serving()`` starts one with its own certificate authority (``client_tls`` trusts it) and
yields a ``WebPushService``. ``service.browser()`` plays a browser that subscribed: a P-256 key
pair and a 16-byte auth secret, an endpoint ``https://127.0.0.1:<port>/push/<id>``, and the
subscription in the shape of ``PushSubscription.toJSON()``.

For each POST the service, in the order a push service does: finds the subscription (404),
verifies the VAPID ``Authorization`` (ES256 signature against ``k``, ``aud`` = its origin,
``exp`` in the future and at most 24 h ahead, ``sub`` a mailto: or https: URL; 401 otherwise),
answers what the test scripted for that browser (``answer``), checks ``TTL``, ``Urgency``,
``Topic`` and ``Content-Encoding: aes128gcm`` (400), the body size (413), decrypts the body with
the browser's private key and auth secret (400 if it cannot), and answers 201. Every request is
recorded (``pushes``) before it is answered, so once a sender has its answers, they are there.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece
import jwt
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from support import loopback
from support.loopback import QuietHandler

MAX_BODY = 4096  # what push services accept, RFC 8030 §7.2
MAX_JWT_LIFETIME = 24 * 3600  # RFC 8292 §2
_URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")


class Refused(Exception):
    def __init__(self, status: int, problem: str) -> None:
        super().__init__(problem)
        self.status = status
        self.problem = problem


@dataclass
class Browser:
    """One subscription: what the browser keeps (the private key) and what it hands out."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    def subscription(self) -> dict[str, Any]:
        """The subscription as ``PushSubscription.toJSON()`` gives it."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        keys = {"p256dh": b64url(point), "auth": b64url(self.auth)}
        return {"endpoint": self.endpoint, "expirationTime": None, "keys": keys}

    def token(self) -> str:
        """The subscription's JSON, as a device token."""
        return json.dumps(self.subscription())

    def decrypt(self, body: bytes) -> bytes:
        decrypted: bytes = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth, version="aes128gcm"
        )
        return decrypted


@dataclass(frozen=True)
class Push:
    """One request as the service saw it, and what it answered."""

    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes  # as sent: encrypted
    status: int
    problem: str = ""  # why it was refused
    payload: Any = None  # the decrypted JSON, when accepted
    claims: dict[str, Any] | None = None  # the verified VAPID JWT claims
    public_key: str | None = None  # the VAPID ``k``


@dataclass
class _Script:
    status: int
    headers: dict[str, str]
    always: bool
    garbled: bool  # answer a status line no HTTP client can parse


@dataclass
class WebPushService:
    client_tls: ssl.SSLContext  # trusts this service's certificate
    url: str = ""  # https://127.0.0.1:<port>, the VAPID audience
    pushes: list[Push] = field(default_factory=list)
    browsers: dict[str, Browser] = field(default_factory=dict)
    _scripts: dict[str, _Script] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def browser(self) -> Browser:
        """A new subscription at this service."""
        id_ = secrets.token_urlsafe(16)
        key = ec.generate_private_key(ec.SECP256R1())
        made = Browser(id_, f"{self.url}/push/{id_}", key, secrets.token_bytes(16))
        self.browsers[id_] = made
        return made

    def answer(
        self,
        browser: Browser,
        status: int,
        *,
        retry_after: str | None = None,
        always: bool = False,
        garbled: bool = False,
    ) -> None:
        """Answer ``status`` to pushes with a valid VAPID header for ``browser``: once or always.

        ``garbled``: write ``status`` in a malformed status line (a broken push service).
        """
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self._scripts[browser.id] = _Script(status, headers, always, garbled)

    def accepted(self) -> list[Push]:
        with self._lock:
            return [push for push in self.pushes if push.status == 201]

    def handle(
        self, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bool]:
        """The status to answer, its headers, and whether to garble the status line."""
        claims = key = None
        payload: Any = None
        answer: dict[str, str] = {}
        garbled = False
        try:
            browser = self._find(path)
            claims, key = self._verify_vapid(headers.get("authorization", ""))
            script = self._script(browser)
            if script is not None:
                answer, garbled = script.headers, script.garbled
                raise Refused(script.status, "scripted")
            _check_headers(headers)
            if len(body) > MAX_BODY:
                raise Refused(413, f"body of {len(body)} bytes")
            payload = _decrypt(browser, body)
            status, problem = 201, ""
            answer = {"Location": f"{self.url}/message/{secrets.token_urlsafe(8)}"}
        except Refused as refused:
            status, problem = refused.status, refused.problem
        push = Push(path, headers, body, status, problem, payload, claims, key)
        with self._lock:
            self.pushes.append(push)
        return status, answer, garbled

    def _find(self, path: str) -> Browser:
        prefix, _, id_ = path.partition("/push/")
        browser = self.browsers.get(id_) if prefix == "" else None
        if browser is None:
            raise Refused(404, "no such subscription")
        return browser

    def _script(self, browser: Browser) -> _Script | None:
        with self._lock:
            script = self._scripts.get(browser.id)
            if script is not None and not script.always:
                del self._scripts[browser.id]
        return script

    def _verify_vapid(self, header: str) -> tuple[dict[str, Any], str]:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise Refused(401, "no vapid Authorization")
        fields = dict(part.strip().partition("=")[::2] for part in params.split(","))
        token, k = fields.get("t", ""), fields.get("k", "")
        try:
            point = base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
            claims = jwt.decode(
                token,
                public,
                algorithms=["ES256"],
                audience=self.url,
                options={"require": ["aud", "exp", "sub"]},
            )
        except (ValueError, jwt.PyJWTError) as exc:
            raise Refused(401, f"VAPID: {exc}") from None
        if claims["exp"] > time.time() + MAX_JWT_LIFETIME:
            raise Refused(401, "VAPID: exp more than 24 h ahead")
        if not str(claims["sub"]).startswith(("mailto:", "https:")):
            raise Refused(401, "VAPID: sub is not a mailto: or https: URL")
        return claims, k


def _check_headers(headers: dict[str, str]) -> None:
    if not headers.get("ttl", "").isdigit():
        raise Refused(400, "TTL missing or not a number")
    if headers.get("content-encoding") != "aes128gcm":
        raise Refused(400, "Content-Encoding is not aes128gcm")
    if headers.get("urgency", "normal") not in _URGENCIES:
        raise Refused(400, "bad Urgency")
    if "topic" in headers and not _TOPIC.fullmatch(headers["topic"]):
        raise Refused(400, "bad Topic")


def _decrypt(browser: Browser, body: bytes) -> Any:
    try:
        return json.loads(browser.decrypt(body))
    except Exception as exc:  # http_ece raises several kinds; any means "not for this browser"
        raise Refused(400, f"cannot decrypt: {exc!r}") from None


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _handler(service: WebPushService) -> type[QuietHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer, garbled = service.handle(self.path, headers, body)
            with contextlib.suppress(OSError):  # the client gave up
                if garbled:
                    self.wfile.write(f"HTTP/1.1 {status}x oops\r\n\r\n".encode())
                    self.close_connection = True
                else:
                    self.reply(status, b"", **answer)

    return Handler


@contextmanager
def serving(ca: trustme.CA | None = None) -> Iterator[WebPushService]:
    """A push service on a free loopback port, with a certificate from ``ca`` (or a new CA)."""
    ca = ca or trustme.CA()
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    client_tls = ssl.create_default_context()
    ca.configure_trust(client_tls)
    service = WebPushService(client_tls=client_tls)
    served = loopback.serving(
        _handler(service), tls=tls, server_class=loopback.LoopbackServer, quiet_errors=True
    )
    with served as server:
        service.url = server.url
        yield service
