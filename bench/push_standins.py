"""Push provider stand-ins for ``bench/push.py``, one provider per process.

``python bench/push_standins.py CONFIG.json`` serves one provider on ``port`` and a plain HTTP
control endpoint on ``control_port``, on uvloop when installed. They check what the provider
checks on every request, answering as it does, but are written for speed (asyncio protocols,
httptools, hyper-h2; a credential verified once and then recognised) so that the benchmark
measures Gamekeeper, not them; their CPU is reported beside each figure.

- ``apns``: HTTP/2 over TLS (ALPN ``h2``); ``POST /3/device/<hex>``; an ES256 provider token
  from the team's key (``kid``, ``iss``, ``iat`` under an hour old), ``apns-topic``,
  ``apns-push-type``, a UUID ``apns-id``, a JSON body with ``aps`` of at most 4 KB. 200.
- ``webpush``: HTTP/1.1 over TLS; ``POST /push/<id>``; VAPID (ES256 JWT verified against ``k``,
  ``aud`` our origin, ``exp`` within 24 h), ``TTL``, ``Content-Encoding: aes128gcm``, body at
  most 4 KB; one push in ``decrypt_every`` is decrypted with the browsers' key (all bench
  subscriptions share one key pair) and must be JSON naming a notification. 201.
- ``fcm``: HTTP/1.1; ``POST /token`` trades an RS256 assertion of the service account for an
  access token; ``POST /v1/projects/<project>/messages:send`` needs a live one. 200.
- ``expo``: HTTP/1.1; ``POST /--/api/v2/push/send``, a JSON array of at most 100 messages, a
  ticket each; ``POST /--/api/v2/push/getReceipts`` settles every ticket asked about as ``ok``.

Each stand-in notes the first arrival (Unix time) per device (the APNs token, the Web Push
subscription id, the FCM or Expo token) and the message identity it came with (``apns-id``).
Control: ``GET /count`` → ``{"requests", "unique", "refused", "changed_id"}`` (``changed_id``:
a device whose later copy carried another identity), ``GET /arrivals`` → ``{device: time}``,
``GET /reset``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import secrets
import ssl
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import h2.events
import h2.exceptions
import httptools
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

Answer = tuple[int, list[tuple[str, str]], bytes]
_HEX = re.compile(r"[0-9a-fA-F]{32,200}")
_EXPO = re.compile(r"Expo(?:nent)?PushToken\[[^\[\]\s]+\]")
_FCM_SEND = re.compile(r"/v1/projects/([^/]+)/messages:send")
_JSON = [("content-type", "application/json")]


class Book:
    """What arrived: first arrival per device, its identity, totals."""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}
        self.identity: dict[str, str] = {}
        self.requests = 0
        self.refused = 0
        self.changed_id = 0

    def arrived(self, device: str, identity: str = "") -> None:
        self.requests += 1
        if device not in self.first:
            self.first[device] = time.time()
            self.identity[device] = identity
        elif self.identity[device] != identity:
            self.changed_id += 1

    def refuse(self, status: int, reason: str) -> Answer:
        self.requests += 1
        self.refused += 1
        return status, _JSON, json.dumps({"reason": reason}).encode()

    def control(self, path: str) -> bytes:
        if path == "/reset":
            self.__init__()  # type: ignore[misc]
        if path == "/arrivals":
            return json.dumps(self.first).encode()
        counts = {"requests": self.requests, "unique": len(self.first)}
        return json.dumps(
            {**counts, "refused": self.refused, "changed_id": self.changed_id}
        ).encode()


# --- the providers' checks --------------------------------------------------------------------


class Apns:
    def __init__(self, config: dict[str, Any], book: Book) -> None:
        self.book = book
        self.team_id, self.key_id, self.topic = config["team_id"], config["key_id"], config["topic"]
        public_key = serialization.load_pem_public_key(config["public_key"].encode())
        assert isinstance(public_key, ec.EllipticCurvePublicKey)
        self.public_key = public_key
        self.tokens: dict[str, int | None] = {}  # provider token → its iat, None if refused

    def handle(self, headers: dict[str, str], body: bytes) -> Answer:
        path = headers.get(":path", "")
        token = path.removeprefix("/3/device/")
        if headers.get(":method") != "POST" or token == path:
            return self.book.refuse(404, "BadPath")
        if not _HEX.fullmatch(token):
            return self.book.refuse(400, "BadDeviceToken")
        scheme, _, provider_token = headers.get("authorization", "").partition(" ")
        if provider_token not in self.tokens:
            self.tokens[provider_token] = self._verify(provider_token)
        iat = self.tokens[provider_token]
        if scheme.lower() != "bearer" or iat is None:
            return self.book.refuse(403, "InvalidProviderToken")
        if time.time() - iat > 3600:
            return self.book.refuse(403, "ExpiredProviderToken")
        if headers.get("apns-topic") != self.topic:
            return self.book.refuse(400, "TopicDisallowed")
        if headers.get("apns-push-type") not in ("alert", "background"):
            return self.book.refuse(400, "InvalidPushType")
        apns_id = headers.get("apns-id", "")
        try:
            uuid.UUID(apns_id)
        except ValueError:
            return self.book.refuse(400, "BadMessageId")
        if not body or len(body) > 4096:
            return self.book.refuse(413, "PayloadTooLarge")
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
            return self.book.refuse(400, "BadPayload")
        self.book.arrived(token, apns_id)
        return 200, [("apns-id", apns_id)], b""

    def _verify(self, token: str) -> int | None:
        try:
            if jwt.get_unverified_header(token).get("kid") != self.key_id:
                return None
            claims = jwt.decode(
                token, self.public_key, algorithms=["ES256"], issuer=self.team_id,
                options={"require": ["iss", "iat"], "verify_iat": False},
            )  # fmt: skip
        except jwt.InvalidTokenError:
            return None
        return int(claims["iat"])


class WebPush:
    def __init__(self, config: dict[str, Any], book: Book) -> None:
        import http_ece

        self.book = book
        self.origin = config["origin"]
        self.decrypt_every = config.get("decrypt_every", 100)
        self.browser_key = serialization.load_pem_private_key(
            config["browser_key"].encode(), password=None
        )
        self.auth = base64.urlsafe_b64decode(config["browser_auth"] + "==")
        self.vapid: dict[str, bool] = {}  # "t,k" → verified
        self._decrypt = http_ece.decrypt
        self._seen = 0

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        device = path.removeprefix("/push/")
        if device == path or not device:
            return self.book.refuse(404, "no such subscription")
        vapid = headers.get("authorization", "")
        if vapid not in self.vapid:
            self.vapid[vapid] = self._verify(vapid)
        if not self.vapid[vapid]:
            return self.book.refuse(401, "VAPID refused")
        if not headers.get("ttl", "").isdigit():
            return self.book.refuse(400, "TTL")
        if headers.get("content-encoding") != "aes128gcm":
            return self.book.refuse(400, "Content-Encoding")
        if len(body) > 4096:
            return self.book.refuse(413, "too large")
        self._seen += 1
        if self._seen % self.decrypt_every == 1 and not self._decrypts(body):
            return self.book.refuse(400, "cannot decrypt")
        self.book.arrived(device)
        return 201, [("location", f"{self.origin}/message/{secrets.token_urlsafe(6)}")], b""

    def _decrypts(self, body: bytes) -> bool:
        try:
            payload = json.loads(
                self._decrypt(
                    body, private_key=self.browser_key, auth_secret=self.auth, version="aes128gcm"
                )
            )
        except Exception:  # any failure of http_ece means "not for this browser"
            return False
        return isinstance(payload, dict) and isinstance(payload.get("id"), str)

    def _verify(self, header: str) -> bool:
        scheme, _, params = header.partition(" ")
        fields = dict(part.strip().partition("=")[::2] for part in params.split(","))
        token, k = fields.get("t", ""), fields.get("k", "")
        if scheme.lower() != "vapid":
            return False
        try:
            point = base64.urlsafe_b64decode(k + "=" * (-len(k) % 4))
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
            claims = jwt.decode(
                token, public, algorithms=["ES256"], audience=self.origin,
                options={"require": ["aud", "exp", "sub"]},
            )  # fmt: skip
        except (ValueError, jwt.PyJWTError):
            return False
        return bool(claims["exp"] <= time.time() + 24 * 3600)


class Fcm:
    def __init__(self, config: dict[str, Any], book: Book) -> None:
        self.book = book
        self.project = config["project_id"]
        self.client_email = config["client_email"]
        self.key_id = config["private_key_id"]
        public_key = serialization.load_pem_public_key(config["public_key"].encode())
        assert isinstance(public_key, rsa.RSAPublicKey)
        self.public_key = public_key
        self.token_url = config["token_url"]
        self.issued: dict[str, float] = {}

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if path == "/token":
            return self._grant(body)
        match = _FCM_SEND.fullmatch(path)
        if match is None:
            return self.book.refuse(404, "NOT_FOUND")
        _, _, access_token = headers.get("authorization", "").partition(" ")
        if self.issued.get(access_token, 0.0) < time.monotonic():
            return self.book.refuse(401, "UNAUTHENTICATED")
        if match.group(1) != self.project:
            return self.book.refuse(403, "PERMISSION_DENIED")
        try:
            message = json.loads(body)["message"]
            token = message["token"]
        except (ValueError, KeyError, TypeError):
            return self.book.refuse(400, "INVALID_ARGUMENT")
        if not isinstance(token, str) or not token:
            return self.book.refuse(400, "INVALID_ARGUMENT")
        self.book.arrived(token)
        name = f"projects/{self.project}/messages/{secrets.token_hex(8)}"
        return 200, _JSON, json.dumps({"name": name}).encode()

    def _grant(self, body: bytes) -> Answer:
        form = {name: values[-1] for name, values in parse_qs(body.decode()).items()}
        assertion = form.get("assertion", "")
        try:
            if jwt.get_unverified_header(assertion).get("kid") != self.key_id:
                raise jwt.InvalidTokenError("kid")
            claims = jwt.decode(
                assertion, self.public_key, algorithms=["RS256"], audience=self.token_url,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )  # fmt: skip
        except jwt.InvalidTokenError:
            return 400, _JSON, b'{"error": "invalid_grant"}'
        if claims["iss"] != self.client_email:
            return 400, _JSON, b'{"error": "invalid_grant"}'
        token = "ya29.bench." + secrets.token_urlsafe(24)
        self.issued[token] = time.monotonic() + 3600
        answer = {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
        return 200, _JSON, json.dumps(answer).encode()


class Expo:
    def __init__(self, config: dict[str, Any], book: Book) -> None:
        self.book = book

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        try:
            parsed = json.loads(body)
        except ValueError:
            return self.book.refuse(400, "VALIDATION_ERROR")
        if path == "/--/api/v2/push/getReceipts":
            ids = parsed.get("ids") if isinstance(parsed, dict) else None
            if not isinstance(ids, list) or len(ids) > 300:
                return self.book.refuse(400, "PUSH_TOO_MANY_RECEIPTS")
            return 200, _JSON, json.dumps({"data": {i: {"status": "ok"} for i in ids}}).encode()
        if path != "/--/api/v2/push/send":
            return self.book.refuse(404, "NOT_FOUND")
        messages = parsed if isinstance(parsed, list) else [parsed]
        if len(messages) > 100:
            return self.book.refuse(400, "PUSH_TOO_MANY_NOTIFICATIONS")
        tickets = []
        for message in messages:
            to = message.get("to") if isinstance(message, dict) else None
            if not isinstance(to, str) or not _EXPO.fullmatch(to):
                return self.book.refuse(400, "VALIDATION_ERROR")
            self.book.arrived(to)
            tickets.append({"status": "ok", "id": str(uuid.uuid4())})
        return 200, _JSON, json.dumps({"data": tickets}).encode()


# --- the servers ------------------------------------------------------------------------------


class Http1(asyncio.Protocol):
    """HTTP/1.1 keep-alive, one request at a time per connection, answered at once."""

    def __init__(self, handle: Callable[[str, dict[str, str], bytes], Answer]) -> None:
        self.handle = handle
        self.parser = httptools.HttpRequestParser(self)
        self.transport: Any = None
        self.url = b""
        self.headers: dict[str, str] = {}
        self.body = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", {}, bytearray()

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode().lower()] = value.decode()

    def on_body(self, body: bytes) -> None:
        self.body.extend(body)

    def on_message_complete(self) -> None:
        status, headers, body = self.handle(self.url.decode(), self.headers, bytes(self.body))
        lines = [f"HTTP/1.1 {status} X", f"content-length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers]
        self.transport.write("\r\n".join(lines).encode() + b"\r\n\r\n" + body)
        if not self.parser.should_keep_alive():
            self.transport.close()


class Http2(asyncio.Protocol):
    """HTTP/2 (the APNs stand-in): every stream answered as soon as it ends."""

    def __init__(self, handle: Callable[[dict[str, str], bytes], Answer]) -> None:
        from h2.config import H2Configuration
        from h2.connection import H2Connection

        self.handle = handle
        self.h2 = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        self.streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        ssl_object = transport.get_extra_info("ssl_object")
        if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
            transport.close()
            return
        self.h2.initiate_connection()
        self.transport.write(self.h2.data_to_send())

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.transport.close()
            return
        for event in events:
            if isinstance(event, h2.events.RequestReceived):
                self.streams[event.stream_id] = (dict(event.headers or []), bytearray())  # type: ignore[arg-type]
            elif isinstance(event, h2.events.DataReceived):
                self.streams[event.stream_id][1].extend(event.data or b"")
                self.h2.acknowledge_received_data(
                    event.flow_controlled_length or 0, event.stream_id
                )
            elif isinstance(event, h2.events.StreamEnded):
                headers, body = self.streams.pop(event.stream_id)
                status, extra, answer = self.handle(headers, bytes(body))
                self.h2.send_headers(
                    event.stream_id, [(":status", str(status)), *extra], end_stream=not answer
                )
                if answer:
                    self.h2.send_data(event.stream_id, answer, end_stream=True)
            elif isinstance(event, h2.events.StreamReset):
                self.streams.pop(event.stream_id, None)
        self.transport.write(self.h2.data_to_send())


class Control(asyncio.Protocol):
    def __init__(self, book: Book) -> None:
        self.book = book
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_message_begin(self) -> None:
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        body = self.book.control(self.url.decode())
        head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}"
        self.transport.write(head.encode() + b"\r\n\r\n" + body)


def _tls(config: dict[str, Any], alpn: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config["certfile"], config["keyfile"])
    context.set_alpn_protocols([alpn])
    return context


async def serve(config: dict[str, Any]) -> None:
    book = Book()
    loop = asyncio.get_running_loop()
    kind = config["provider"]
    factory: Callable[[], asyncio.Protocol]
    tls = None
    if kind == "apns":
        apns = Apns(config, book)
        factory, tls = (lambda: Http2(apns.handle)), _tls(config, "h2")
    elif kind == "webpush":
        webpush = WebPush(config, book)
        factory, tls = (lambda: Http1(webpush.handle)), _tls(config, "http/1.1")
    elif kind == "fcm":
        fcm = Fcm(config, book)
        factory = lambda: Http1(fcm.handle)  # noqa: E731
    else:
        expo = Expo(config, book)
        factory = lambda: Http1(expo.handle)  # noqa: E731
    server = await loop.create_server(factory, "127.0.0.1", config["port"], ssl=tls, backlog=4096)
    control = await loop.create_server(lambda: Control(book), "127.0.0.1", config["control_port"])
    async with server, control:
        await asyncio.gather(server.serve_forever(), control.serve_forever())


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(config))


if __name__ == "__main__":
    main()
