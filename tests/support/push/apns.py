"""A loopback stand-in for APNs: a real HTTP/2 server over TLS that checks what Apple checks.

``serving(ApnsStandIn(...))`` runs it on a free loopback port, on an event loop in a thread of
its own, with a certificate from a throwaway ``trustme`` CA (``client_tls`` trusts it). Each
request is checked as APNs does: TLS with ALPN ``h2``; ``POST /3/device/<hex token>``; a
provider token (ES256 JWT) signed by the team's key, with its ``kid``, ``iss`` = the team and
an ``iat`` under an hour old; the app's ``apns-topic``; ``apns-push-type``; a UUID ``apns-id``
(echoed back, as Apple does); a JSON payload with ``aps`` of at most 4096 bytes. Refusals carry
Apple's status and ``{"reason": ...}``.

A test scripts answers per device token (``answer``), once or always, and reads back what came:
``requests`` (each with the answer it got), ``accepted``, ``connections`` and
``provider_tokens`` (the distinct JWTs, in the order first seen).
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import h2.events
import h2.exceptions
import jwt
import trustme
from cryptography.hazmat.primitives.asymmetric import ec
from h2.config import H2Configuration
from h2.connection import H2Connection

MAX_PAYLOAD_BYTES = 4096
MAX_TOKEN_AGE = 3600  # seconds: Apple's ExpiredProviderToken
_PATH = re.compile(r"/3/device/([^/?]+)")
_HEX = re.compile(r"[0-9a-fA-F]+")
_PUSH_TYPES = frozenset(
    {"alert", "background", "location", "voip", "complication", "fileprovider", "mdm"}
)


@dataclass(frozen=True)
class ApnsRequest:
    """One request as it arrived, and the answer it got."""

    token: str  # the device token from the path ("" when the path was not a device's)
    headers: dict[str, str]  # lower-case names, pseudo-headers (``:method``, ``:path``) too
    body: bytes
    status: int
    reason: str  # Apple's reason; "" when accepted
    connection: int  # which connection carried it, counting from 1
    stream_id: int

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Scripted:
    status: int
    reason: str
    once: bool
    retry_after: int | None


@dataclass
class ApnsStandIn:
    team_id: str
    key_id: str
    public_key: ec.EllipticCurvePublicKey  # the public half of the team's .p8 key
    topic: str  # the app's bundle id
    clock: Callable[[], float] = time.time  # judges the provider token's age
    url: str = ""
    requests: list[ApnsRequest] = field(default_factory=list)
    connections: int = 0
    provider_tokens: list[str] = field(default_factory=list)
    _scripted: dict[str, _Scripted] = field(default_factory=dict)
    _verified: dict[str, dict[str, Any] | None] = field(default_factory=dict)  # JWT → claims
    _ca: trustme.CA = field(default_factory=trustme.CA)
    _open: dict[asyncio.Task[None], asyncio.StreamWriter] = field(default_factory=dict)

    @property
    def accepted(self) -> list[ApnsRequest]:
        return [request for request in self.requests if request.status == 200]

    @property
    def client_tls(self) -> ssl.SSLContext:
        """A client context trusting this stand-in's certificate."""
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def answer(
        self,
        token: str,
        status: int,
        reason: str,
        *,
        once: bool = False,
        retry_after: int | None = None,
    ) -> None:
        """Answer requests for ``token`` that pass the checks with ``status`` and ``reason``."""
        self._scripted[token] = _Scripted(status, reason, once, retry_after)

    def server_tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1").configure_cert(context)
        context.set_alpn_protocols(["h2"])
        return context

    async def serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._open[task] = writer
        self.connections += 1
        try:
            # APNs speaks nothing but HTTP/2: a client that did not negotiate it is cut off.
            if writer.get_extra_info("ssl_object").selected_alpn_protocol() == "h2":
                await self._converse(reader, writer, self.connections)
        except (ConnectionError, ssl.SSLError, h2.exceptions.ProtocolError):
            pass
        finally:
            del self._open[task]
            writer.transport.abort()

    async def stop(self) -> None:
        """Cut every open connection and wait until their handlers are done."""
        for writer in self._open.values():
            writer.transport.abort()
        await asyncio.gather(*self._open, return_exceptions=True)

    async def _converse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection: int
    ) -> None:
        h2c = H2Connection(H2Configuration(client_side=False, header_encoding="utf-8"))
        h2c.initiate_connection()
        writer.write(h2c.data_to_send())
        streams: dict[int, tuple[dict[str, str], bytearray]] = {}
        while data := await reader.read(65536):
            for event in h2c.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    streams[event.stream_id] = (dict(event.headers or []), bytearray())  # type: ignore[arg-type]
                elif isinstance(event, h2.events.DataReceived):
                    streams[event.stream_id][1].extend(event.data or b"")
                    h2c.acknowledge_received_data(
                        event.flow_controlled_length or 0, event.stream_id
                    )
                elif isinstance(event, h2.events.StreamEnded):
                    headers, body = streams.pop(event.stream_id)
                    self._respond(h2c, event.stream_id, headers, bytes(body), connection)
                elif isinstance(event, h2.events.StreamReset):
                    streams.pop(event.stream_id, None)
            writer.write(h2c.data_to_send())
            await writer.drain()

    def _respond(
        self,
        h2c: H2Connection,
        stream_id: int,
        headers: dict[str, str],
        body: bytes,
        connection: int,
    ) -> None:
        match = _PATH.fullmatch(headers.get(":path", ""))
        token = match.group(1) if match else ""
        status, reason = self._check(headers, body, token)
        retry_after = None
        scripted = self._scripted.get(token)
        if status == 200 and scripted is not None:
            if scripted.once:
                del self._scripted[token]
            status, reason, retry_after = scripted.status, scripted.reason, scripted.retry_after
        self.requests.append(
            ApnsRequest(token, headers, body, status, reason, connection, stream_id)
        )
        apns_id = headers.get("apns-id", "")
        answer = [
            (":status", str(status)),
            ("apns-id", apns_id if _is_uuid(apns_id) else str(uuid.uuid4())),
        ]
        if status == 200:
            h2c.send_headers(stream_id, answer, end_stream=True)
            return
        error: dict[str, Any] = {"reason": reason}
        if status == 410:
            error["timestamp"] = int(self.clock() * 1000)  # when the token stopped being valid
        if retry_after is not None:
            answer.append(("retry-after", str(retry_after)))
        answer.append(("content-type", "application/json"))
        h2c.send_headers(stream_id, answer)
        h2c.send_data(stream_id, json.dumps(error).encode(), end_stream=True)

    def _check(self, headers: dict[str, str], body: bytes, token: str) -> tuple[int, str]:
        """Apple's answer to a request before any scripted one: (200, "") or a refusal."""
        if headers.get(":method") != "POST":
            return 405, "MethodNotAllowed"
        if not token:
            return 404, "BadPath"
        if not _HEX.fullmatch(token):
            return 400, "BadDeviceToken"
        if refusal := self._check_provider_token(headers.get("authorization", "")):
            return 403, refusal
        topic = headers.get("apns-topic")
        if not topic:
            return 400, "MissingTopic"
        if topic != self.topic:
            return 400, "TopicDisallowed"
        if headers.get("apns-push-type") not in _PUSH_TYPES:
            return 400, "InvalidPushType"
        if "apns-id" in headers and not _is_uuid(headers["apns-id"]):
            return 400, "BadMessageId"
        if headers.get("apns-priority", "10") not in ("1", "5", "10"):
            return 400, "BadPriority"
        if not headers.get("apns-expiration", "0").isdigit():
            return 400, "BadExpirationDate"
        if len(headers.get("apns-collapse-id", "").encode()) > 64:
            return 400, "BadCollapseId"
        if len(body) > MAX_PAYLOAD_BYTES:
            return 413, "PayloadTooLarge"
        if not body:
            return 400, "PayloadEmpty"
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or not isinstance(payload.get("aps"), dict):
            return 400, "BadPayload"  # Apple documents no code for this; ours
        return 200, ""

    def _check_provider_token(self, authorization: str) -> str:
        """Apple's refusal of the provider token, or "" when it is good."""
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "MissingProviderToken"
        if token not in self._verified:
            self.provider_tokens.append(token)
            self._verified[token] = self._verify(token)
        claims = self._verified[token]
        if claims is None:
            return "InvalidProviderToken"
        if self.clock() - claims["iat"] > MAX_TOKEN_AGE:
            return "ExpiredProviderToken"
        return ""

    def _verify(self, token: str) -> dict[str, Any] | None:
        try:
            header = jwt.get_unverified_header(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                self.public_key,
                algorithms=["ES256"],
                issuer=self.team_id,
                options={"require": ["iss", "iat"], "verify_iat": False},  # age judged per use
            )
        except jwt.InvalidTokenError:
            return None
        if header.get("kid") != self.key_id or not isinstance(claims["iat"], int):
            return None
        return claims


def _is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


@contextmanager
def serving(stand_in: ApnsStandIn) -> Iterator[ApnsStandIn]:
    """Serve ``stand_in`` over HTTPS (HTTP/2) on a free loopback port until the end of the block."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def run(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(10)

    async def start() -> asyncio.Server:
        return await asyncio.start_server(
            stand_in.serve_connection, "127.0.0.1", 0, ssl=stand_in.server_tls()
        )

    async def stop(server: asyncio.Server) -> None:
        server.close()
        await stand_in.stop()
        await server.wait_closed()

    try:
        server = run(start())
        stand_in.url = f"https://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        try:
            yield stand_in
        finally:
            run(stop(server))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
