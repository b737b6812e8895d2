"""Firebase Cloud Messaging (HTTP v1): one request per message, authorised by a service account.

The service account signs an RS256 JWT assertion that its ``token_uri`` trades for an OAuth2
access token; every ``POST {base}/v1/projects/{project}/messages:send`` carries that token as a
bearer. The token is kept until a minute before it expires, and one refresh at a time serves
every send waiting for it, so a batch of a hundred costs one token request (and a refusal is
answered once for the whole batch, not asked a hundred times). A 401 drops the token and the
message is tried once more with a new one: a token revoked early is not a refused credential.

FCM's answer is read from ``error.details[].errorCode`` (the ``FcmError``), else
``error.status``: ``UNREGISTERED``, ``SENDER_ID_MISMATCH`` and an ``INVALID_ARGUMENT`` about the
registration token mean the device is gone; other 401/403 are our credentials; 429 and 5xx are
tried again later. The base and token URLs are operator settings, so a plain client is right.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import jwt
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from gamekeeper.infra.push.answers import JsonClient, flat_data, retry_after, safe_code
from gamekeeper.infra.push.base import Outcome, PushMessage, Verdict

__all__ = ["MAX_PAYLOAD_BYTES", "SCOPE", "FcmProvider", "parse_service_account"]

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_PAYLOAD_BYTES = 4096  # FCM's limit on a message's notification and data
ASSERTION_LIFETIME = 3600  # seconds: the longest Google accepts
REFRESH_MARGIN = 60.0  # seconds before expiry a token is no longer used

_REQUIRED = ("project_id", "client_email", "private_key", "private_key_id", "token_uri")
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_GONE_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
_TOO_LARGE = Verdict(Outcome.FAILED, "payload too large")


def parse_service_account(text: str) -> dict[str, str]:
    """The service-account JSON an operator pasted, checked; ``ValueError`` says what is wrong."""
    try:
        account = json.loads(text)
    except ValueError:
        raise ValueError("the FCM service account is not JSON") from None
    if not isinstance(account, dict):
        raise ValueError("the FCM service account must be a JSON object")
    if account.get("type") != "service_account":
        raise ValueError(
            'the FCM credentials must be a service account ("type": "service_account")'
        )
    missing = [
        name for name in _REQUIRED if not isinstance(account.get(name), str) or not account[name]
    ]
    if missing:
        raise ValueError(f"the FCM service account lacks {', '.join(missing)}")
    _private_key(account["private_key"])
    return {name: value for name, value in account.items() if isinstance(value, str)}


class FcmProvider:
    """Sends through FCM HTTP v1 for one Firebase project (one service account)."""

    name = "fcm"
    max_batch = 500

    def __init__(
        self,
        *,
        service_account: Mapping[str, str],
        base_url: str = "https://fcm.googleapis.com",
        token_url: str | None = None,
        timeout: float = 10.0,
        concurrency: int = 100,
    ) -> None:
        self._key = _private_key(service_account["private_key"])
        self._key_id = service_account["private_key_id"]
        self._email = service_account["client_email"]
        self._token_url = token_url or service_account["token_uri"]
        project = quote(service_account["project_id"], safe="")
        self._send_url = f"{base_url.rstrip('/')}/v1/projects/{project}/messages:send"
        self._http = JsonClient(timeout=timeout, limit=concurrency)
        self._slots = asyncio.Semaphore(concurrency)
        self._access: tuple[str, float] | None = None  # the token, the monotonic time to renew
        self._refresh: asyncio.Task[str | Verdict] | None = None  # the one refresh under way

    async def send(self, messages: Sequence[PushMessage]) -> list[Verdict]:
        bodies = [_encode(message) for message in messages]
        if all(body is None for body in bodies):
            return [_TOO_LARGE] * len(bodies)
        token = await self._bearer()
        if isinstance(token, Verdict):  # the token endpoint refused or is down: the whole batch
            return [_TOO_LARGE if body is None else token for body in bodies]

        async def one(body: bytes | None) -> Verdict:
            if body is None:
                return _TOO_LARGE
            async with self._slots:
                return await self._deliver(body, token)

        return list(await asyncio.gather(*(one(body) for body in bodies)))

    async def aclose(self) -> None:
        if self._refresh is not None:
            self._refresh.cancel()
        await self._http.aclose()

    async def _deliver(self, body: bytes, token: str) -> Verdict:
        verdict = await self._post_message(body, token)
        if verdict.status != 401:
            return verdict
        if self._access is not None and self._access[0] == token:
            self._access = None  # revoked or expired early: one more try with a new token
        renewed = await self._bearer()
        return renewed if isinstance(renewed, Verdict) else await self._post_message(body, renewed)

    async def _post_message(self, body: bytes, token: str) -> Verdict:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        answer = await self._http.post(self._send_url, data=body, headers=headers)
        return answer if isinstance(answer, Verdict) else _verdict(*answer)

    async def _bearer(self) -> str | Verdict:
        """The access token, or the verdict for messages that cannot have one now."""
        if self._access is not None and time.monotonic() < self._access[1]:
            return self._access[0]
        if self._refresh is None:
            self._refresh = asyncio.create_task(self._fetch_token())
            self._refresh.add_done_callback(self._refreshed)
        # Shielded: a send given up by its caller must not cancel the refresh others await.
        return await asyncio.shield(self._refresh)

    def _refreshed(self, task: asyncio.Task[str | Verdict]) -> None:
        if self._refresh is task:
            self._refresh = None

    async def _fetch_token(self) -> str | Verdict:
        now = int(time.time())
        claims = {
            "iss": self._email,
            "scope": SCOPE,
            "aud": self._token_url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        assertion = jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self._key_id})
        started = time.monotonic()
        answer = await self._http.post(
            self._token_url, data={"grant_type": GRANT_TYPE, "assertion": assertion}
        )
        if isinstance(answer, Verdict):
            return answer
        status, headers, body = answer
        if status == 429 or status >= 500:
            wait = retry_after(headers.get("Retry-After"))
            return Verdict(Outcome.RETRY, "token endpoint unavailable", wait, status=status)
        if status != 200:
            code = body.get("error") if isinstance(body, dict) else None
            reason = f"token refused: {safe_code(code) or status}"
            return Verdict(Outcome.CREDENTIAL_ERROR, reason, status=status)
        token = body.get("access_token") if isinstance(body, dict) else None
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or not isinstance(lifetime, int | float):
            return Verdict(Outcome.RETRY, "token endpoint answered without a token", status=status)
        self._access = (token, started + lifetime - REFRESH_MARGIN)
        return token


def _encode(message: PushMessage) -> bytes | None:
    """The ``messages:send`` body, or None when its payload is over FCM's limit."""
    data = {str(key): _text(value) for key, value in flat_data(message).items()}  # strings only
    payload = {"notification": {"title": message.title, "body": message.body}, "data": data}
    if len(_dump(payload)) > MAX_PAYLOAD_BYTES:
        return None
    android: dict[str, str] = {"priority": "HIGH" if message.priority == "high" else "NORMAL"}
    if message.ttl is not None:
        android["ttl"] = f"{message.ttl}s"
    if message.collapse_key:
        android["collapse_key"] = message.collapse_key
    return _dump({"message": {"token": message.token, **payload, "android": android}})


def _verdict(status: int, headers: Mapping[str, str], body: Any) -> Verdict:
    if status == 200:
        return Verdict(Outcome.DELIVERED, status=status)
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    reason = _error_code(error) or f"HTTP {status}"
    if status == 429 or status >= 500:
        return Verdict(
            Outcome.RETRY, reason, retry_after(headers.get("Retry-After")), status=status
        )
    about_token = (
        status == 400 and error.get("status") == "INVALID_ARGUMENT" and _about_token(error)
    )
    if reason in _GONE_CODES or about_token:
        return Verdict(Outcome.DEVICE_GONE, reason, status=status)
    if status in (401, 403):
        return Verdict(Outcome.CREDENTIAL_ERROR, reason, status=status)
    return Verdict(Outcome.FAILED, reason, status=status)


def _error_code(error: Mapping[str, Any]) -> str | None:
    for detail in _details(error):
        if detail.get("@type") == _FCM_ERROR and safe_code(detail.get("errorCode")):
            return str(detail["errorCode"])
    return safe_code(error.get("status"))


def _about_token(error: Mapping[str, Any]) -> bool:
    """Whether an INVALID_ARGUMENT names the registration token rather than another field."""
    message = error.get("message")
    if isinstance(message, str) and "token" in message.lower():
        return True
    return any(
        isinstance(violation, dict) and violation.get("field") == "message.token"
        for detail in _details(error)
        for violation in (detail.get("fieldViolations") or [])
    )


def _details(error: Mapping[str, Any]) -> list[dict[str, Any]]:
    details = error.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _private_key(pem: str) -> RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError("the service account's private_key is not a PEM private key") from None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("the service account's private_key is not an RSA key")
    return key


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _dump(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
