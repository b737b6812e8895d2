"""APNs: Apple's push service over HTTP/2, with token-based (ES256 JWT) authentication.

One ``ApnsProvider`` per set of credentials: a team's ``.p8`` key, its key id, the team id,
and the app's bundle id as topic. It holds one HTTP/2 client, so a batch goes out as concurrent
streams on one connection, at most ``concurrency`` in flight. The provider token is a JWT
signed with the key and reused for 50 minutes: Apple refuses tokens older than an hour and
throttles minting more often than every 20 minutes (``TooManyProviderTokenUpdates``).

Apple's answers as verdicts: 200 delivered; 400 ``BadDeviceToken``/``DeviceTokenNotForTopic``
and 410 a dead token; 403 refused credentials (``ExpiredProviderToken`` also drops the cached
JWT); 429 and 5xx, a timeout or no connection, retry; any other refusal fails with Apple's
reason. The device token travels only in the request path, never in a reason.
"""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import time
import uuid
from collections.abc import Callable, Sequence

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from gamekeeper.infra.push.answers import (
    USER_AGENT,
    app_fields,
    json_body,
    retry_after,
    safe_code,
)
from gamekeeper.infra.push.base import Outcome, PushMessage, Verdict

__all__ = ["MAX_PAYLOAD_BYTES", "ApnsProvider", "apns_id", "valid_device_token"]

MAX_PAYLOAD_BYTES = 4096  # Apple's limit for an alert notification
MAX_COLLAPSE_ID_BYTES = 64
PROVIDER_TOKEN_LIFETIME = 50 * 60.0  # seconds: Apple refuses after 60, throttles under 20
MAX_BATCH = 1000  # one batch's requests share the connection; ``concurrency`` bounds the streams

_DEVICE_TOKEN = re.compile(r"[0-9a-fA-F]{32,200}")
_HEADER_VALUE = re.compile(r"[\x20-\x7e]*")  # what may go in a header as it is
_TOKEN_GONE = frozenset({"BadDeviceToken", "DeviceTokenNotForTopic"})
_APNS_ID_NAMESPACE = uuid.UUID("0c6f1f44-3d0e-5b52-9a43-4f1a2b7e8d10")


def valid_device_token(token: str) -> bool:
    """Whether ``token`` can be an APNs device token: 32 to 200 hex digits."""
    return _DEVICE_TOKEN.fullmatch(token) is not None


def apns_id(delivery_id: str) -> str:
    """The ``apns-id`` of a delivery: its id if a canonical UUID, else a UUID derived from it."""
    try:
        parsed = uuid.UUID(delivery_id)
    except ValueError:
        parsed = None
    if parsed is not None and str(parsed) == delivery_id.lower():
        return str(parsed)
    return str(uuid.uuid5(_APNS_ID_NAMESPACE, delivery_id))


class ApnsProvider:
    """Sends alerts for one app (``topic``) with one team's ``.p8`` key."""

    name = "apns"
    max_batch = MAX_BATCH

    def __init__(
        self,
        *,
        key_p8: str,
        key_id: str,
        team_id: str,
        topic: str,
        base_url: str = "https://api.push.apple.com",
        timeout: float = 10.0,
        concurrency: int = 100,
        verify: ssl.SSLContext | bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = _signing_key(key_p8)
        self._key_id = key_id
        self._team_id = team_id
        self._topic = topic
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._streams = asyncio.Semaphore(concurrency)
        self._provider_token: tuple[str, float] | None = None  # the JWT and when it was made
        self._client = httpx.AsyncClient(
            http1=False,  # APNs speaks HTTP/2 only
            http2=True,
            timeout=timeout,
            verify=verify,
            headers={"user-agent": USER_AGENT},
        )

    async def send(self, messages: Sequence[PushMessage]) -> list[Verdict]:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._send_one(message)) for message in messages]
        return [task.result() for task in tasks]

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send_one(self, message: PushMessage) -> Verdict:
        if not valid_device_token(message.token):
            return Verdict(Outcome.DEVICE_GONE, "BadDeviceToken")  # what Apple would answer
        body = _payload(message)
        if len(body) > MAX_PAYLOAD_BYTES:
            return Verdict(Outcome.FAILED, "payload too large")
        async with self._streams:
            provider_token = self._current_provider_token()
            # httpx's own timeouts, not a cancelling deadline: cancelled in the middle of a
            # TLS handshake, asyncio leaks the socket.
            try:
                response = await self._client.post(
                    f"{self._base_url}/3/device/{message.token}",
                    content=body,
                    headers=self._headers(message, provider_token),
                )
            except httpx.TimeoutException:
                return Verdict(Outcome.RETRY, "timeout")
            except httpx.HTTPError as exc:
                return Verdict(Outcome.RETRY, f"connection error: {type(exc).__name__}")
        return self._verdict(response, provider_token)

    def _headers(self, message: PushMessage, provider_token: str) -> dict[str, str]:
        headers = {
            "authorization": f"bearer {provider_token}",
            "apns-topic": self._topic,
            "apns-push-type": "alert",
            "apns-id": apns_id(message.delivery_id),
            "apns-priority": "10" if message.priority == "high" else "5",
        }
        collapse = message.collapse_key
        # Anything else would be refused here (not ASCII) or by Apple (too long): send without.
        if (
            collapse
            and len(collapse) <= MAX_COLLAPSE_ID_BYTES
            and _HEADER_VALUE.fullmatch(collapse)
        ):
            headers["apns-collapse-id"] = collapse
        if message.ttl is not None:
            expiration = int(self._clock()) + message.ttl if message.ttl > 0 else 0
            headers["apns-expiration"] = str(expiration)
        return headers

    def _current_provider_token(self) -> str:
        now = self._clock()
        if self._provider_token is None or now - self._provider_token[1] >= PROVIDER_TOKEN_LIFETIME:
            token = jwt.encode(
                {"iss": self._team_id, "iat": int(now)},
                self._key,
                algorithm="ES256",
                headers={"kid": self._key_id},
            )
            self._provider_token = (token, now)
        return self._provider_token[0]

    def _verdict(self, response: httpx.Response, provider_token: str) -> Verdict:
        status = response.status_code
        if status == 200:
            return Verdict(Outcome.DELIVERED, status=status)
        reason = _reason(response)
        if status == 410 or (status == 400 and reason in _TOKEN_GONE):
            return Verdict(Outcome.DEVICE_GONE, reason, status=status)
        if status == 403:
            cached = self._provider_token
            # Only the token Apple refused: a concurrent stream may already have a fresh one.
            if reason == "ExpiredProviderToken" and cached and cached[0] == provider_token:
                self._provider_token = None
            return Verdict(Outcome.CREDENTIAL_ERROR, reason, status=status)
        if status == 429 or status >= 500:
            wait = retry_after(response.headers.get("retry-after"), self._clock())
            return Verdict(Outcome.RETRY, reason, retry_after=wait, status=status)
        return Verdict(Outcome.FAILED, reason, status=status)


def _signing_key(pem: str) -> ec.EllipticCurvePrivateKey:
    try:
        key = load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError("key_p8 is not an unencrypted PEM private key") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("key_p8 is not a P-256 key, as ES256 needs")
    return key


def _payload(message: PushMessage) -> bytes:
    alert = {"title": message.title, "body": message.body}
    payload = {"aps": {"alert": alert, "sound": "default"}, **app_fields(message)}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def _reason(response: httpx.Response) -> str:
    """Apple's reason code, or the status when the body has none we may repeat."""
    body = json_body(response.content)
    reason = safe_code(body.get("reason")) if isinstance(body, dict) else None
    return reason or f"HTTP {response.status_code}"
