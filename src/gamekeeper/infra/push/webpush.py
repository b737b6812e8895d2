"""The Web Push provider: RFC 8030 delivery, RFC 8291 ``aes128gcm`` payloads, RFC 8292 VAPID.

A device token is the browser's ``PushSubscription.toJSON()`` (the rule is in
``core/notify/subscription.py``): an endpoint at the browser's push service and the keys to
encrypt for it. The endpoint is user-given, so every request goes through the safe client; it is
also a capability (whoever knows it can push to the browser), so no verdict names it. Each
message is encrypted with a fresh ephemeral key; the VAPID JWT is signed once per push service
origin and reused until an hour before it expires.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
from collections.abc import Callable, Sequence
from http import HTTPStatus

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gamekeeper.core.notify.subscription import Subscription, parse_subscription
from gamekeeper.infra.http import OutboundFailed, OutboundRefused, SafeHttpClient
from gamekeeper.infra.push.answers import app_fields, retry_after
from gamekeeper.infra.push.base import Outcome, PushMessage, Verdict

__all__ = ["WebPushProvider", "generate_vapid_key", "public_key_b64url"]

DEFAULT_TTL = 2_419_200  # four weeks, what push services keep a message at most
JWT_LIFETIME = 12 * 3600  # RFC 8292 allows up to 24 h
JWT_RENEW_BEFORE = 3600  # a cached JWT is replaced when it has less than this left
_MAX_AUDIENCES = 1024  # cached JWTs; endpoints are user-given, so their origins are unbounded
_RESPONSE_LIMIT = 4096  # only the status and Retry-After matter
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")
_URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"]*")


def generate_vapid_key() -> str:
    """A new VAPID private key: P-256, PKCS#8 PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


def public_key_b64url(private_pem: str) -> str:
    """The application server key browsers subscribe with: the public point, base64url."""
    return _public_b64url(_load_key(private_pem))


class WebPushProvider:
    """Sends to browsers' push services with one VAPID key.

    The safe client belongs to the caller (it is shared with other senders); ``aclose`` leaves
    it open. ``clock`` (seconds since the epoch) is a test seam for the JWT's lifetime.
    """

    name = "webpush"
    max_batch = 500

    def __init__(
        self,
        *,
        vapid_private_key: str,
        subject: str,
        client: SafeHttpClient,
        timeout: float = 10.0,
        concurrency: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not subject.startswith(("mailto:", "https://")):
            raise ValueError("the VAPID subject must be a mailto: or https: URL")
        self._key = _load_key(vapid_private_key)
        self._public = _public_b64url(self._key)
        self._subject = subject
        self._client = client
        self._timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._clock = clock
        self._tokens: dict[str, tuple[str, int]] = {}  # audience → (JWT, its exp)

    async def send(self, messages: Sequence[PushMessage]) -> list[Verdict]:
        return list(await asyncio.gather(*(self._send(message) for message in messages)))

    async def aclose(self) -> None:
        pass

    async def _send(self, message: PushMessage) -> Verdict:
        try:
            subscription = parse_subscription(message.token)
        except ValueError:
            return Verdict(Outcome.DEVICE_GONE, "malformed subscription")
        try:
            body = _encrypt(_payload(message), subscription)
        except (TypeError, ValueError):  # data that is not JSON
            return Verdict(Outcome.FAILED, "payload is not JSON")
        headers = {
            "Authorization": f"vapid t={self._jwt(subscription.origin)}, k={self._public}",
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(DEFAULT_TTL if message.ttl is None else max(0, message.ttl)),
            "Urgency": "high" if message.priority == "high" else "normal",
        }
        if message.collapse_key and _TOPIC.fullmatch(message.collapse_key):
            headers["Topic"] = message.collapse_key
        async with self._slots:
            try:
                response = await self._client.request(
                    "POST",
                    subscription.endpoint,
                    headers=headers,
                    content=body,
                    max_bytes=_RESPONSE_LIMIT,
                    timeout=self._timeout,
                )
            except OutboundRefused as exc:
                return Verdict(Outcome.FAILED, _scrub(exc.reason))
            except OutboundFailed as exc:
                return Verdict(Outcome.RETRY, _scrub(exc.reason))
        return self._verdict(response.status, response.headers.get("retry-after"))

    def _jwt(self, audience: str) -> str:
        now = int(self._clock())
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - now > JWT_RENEW_BEFORE:
            return cached[0]
        if len(self._tokens) >= _MAX_AUDIENCES:
            self._tokens.clear()
        exp = now + JWT_LIFETIME
        claims = {"aud": audience, "exp": exp, "sub": self._subject}
        token = jwt.encode(claims, self._key, algorithm="ES256")
        self._tokens[audience] = (token, exp)
        return token

    def _verdict(self, status: int, wait_header: str | None) -> Verdict:
        reason = _status_text(status)
        if 200 <= status < 300:
            return Verdict(Outcome.DELIVERED, status=status)
        if status in (404, 410):
            return Verdict(Outcome.DEVICE_GONE, reason, status=status)
        if status == 429 or status >= 500:
            wait = retry_after(wait_header, self._clock())
            return Verdict(Outcome.RETRY, reason, retry_after=wait, status=status)
        if status in (401, 403):
            return Verdict(Outcome.CREDENTIAL_ERROR, f"{reason}: VAPID refused", status=status)
        return Verdict(Outcome.FAILED, reason, status=status)


def _payload(message: PushMessage) -> bytes:
    payload = {**app_fields(message), "title": message.title, "body": message.body}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _encrypt(plaintext: bytes, subscription: Subscription) -> bytes:
    """RFC 8291: ECDH with a fresh key against the browser's, salted with its auth secret."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    encrypted: bytes = http_ece.encrypt(
        plaintext,
        private_key=ephemeral,
        dh=subscription.p256dh,
        auth_secret=subscription.auth,
        version="aes128gcm",
    )
    return encrypted


def _load_key(pem: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise ValueError("the VAPID key is not an unencrypted PEM private key") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the VAPID key must be a P-256 (prime256v1) key")
    return key


def _public_b64url(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _status_text(status: int) -> str:
    if status == 413:
        return "413 payload too large"
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def _scrub(reason: str) -> str:
    """The safe client's reason without any URL it quotes: an endpoint is a capability."""
    return _URL.sub("<endpoint>", reason)
