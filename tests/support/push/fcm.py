"""Firebase Cloud Messaging on loopback: Google's OAuth2 token endpoint and FCM HTTP v1 send.

``service_account()`` makes a throwaway service account (a fresh RSA key); ``serving(account)``
starts a stand-in that trusts it and yields an ``FcmService``:

- ``POST /token`` (``token_url``) takes a ``jwt-bearer`` grant and verifies the assertion the way
  Google does: RS256 under the account's key, ``kid`` = ``private_key_id``, ``iss`` = the
  account's ``client_email``, ``aud`` = this endpoint, the FCM scope, ``iat``/``exp`` at most an
  hour apart and not in the future; it answers a random access token living ``token_lifetime``
  seconds, else 400 ``invalid_grant``/``invalid_scope``. ``token_requests`` counts every request.
- ``POST /v1/projects/{project}/messages:send`` checks, in FCM's order: a live bearer token (401),
  the account's project (403), the body's shape and size (400, with a field violation), then
  answers what the test scripted for the device token (``answer``) or 200 with a message name.
  Every request that passed authentication is recorded in ``sends`` before it is answered.

Scripted answers are FCM's own bodies: ``UNREGISTERED`` (404), ``INVALID_TOKEN`` (400
INVALID_ARGUMENT about ``message.token``), ``INVALID_FIELD`` (400 INVALID_ARGUMENT about another
field), ``SENDER_ID_MISMATCH`` (403), ``UNAUTHENTICATED`` (401), ``PERMISSION_DENIED`` (403),
``QUOTA_EXCEEDED`` (429), ``INTERNAL`` (500), ``UNAVAILABLE`` (503).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from support import loopback
from support.loopback import QuietHandler

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_PAYLOAD = 4096
_SEND = re.compile(r"/v1/projects/([^/]+)/messages:send")
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
_MESSAGE_FIELDS = frozenset({"token", "notification", "data", "android", "apns", "webpush", "name"})
_ANDROID_FIELDS = frozenset({"priority", "ttl", "collapse_key", "restricted_package_name"})
_TTL = re.compile(r"\d+(\.\d{1,9})?s")

_JSON = "application/json"

Reply = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, headers (``Retry_After``)


def service_account(
    *, project_id: str = "gamekeeper-test", token_uri: str = "https://oauth2.googleapis.com/token"
) -> dict[str, str]:
    """A service-account JSON (parsed) as the Firebase console hands it out, with a new key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": f"firebase-adminsdk-test@{project_id}.iam.gserviceaccount.com",
        "client_id": str(secrets.randbelow(10**20)),
        "token_uri": token_uri,
    }


def error_body(
    status: int, code: str, message: str, *, fcm: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """An FCM error answer: ``error`` with an ``FcmError`` and a field violation when given."""
    details: list[dict[str, Any]] = []
    if fcm is not None:
        details.append({"@type": _FCM_ERROR, "errorCode": fcm})
    if field is not None:
        violation = {"field": field, "description": message}
        details.append({"@type": _BAD_REQUEST, "fieldViolations": [violation]})
    error = {"code": status, "message": message, "status": code}
    return {"error": {**error, "details": details} if details else error}


ANSWERS: dict[str, tuple[int, dict[str, Any]]] = {
    "UNREGISTERED": (
        404,
        error_body(404, "NOT_FOUND", "Requested entity was not found.", fcm="UNREGISTERED"),
    ),
    "INVALID_TOKEN": (
        400,
        error_body(
            400,
            "INVALID_ARGUMENT",
            "The registration token is not a valid FCM registration token",
            fcm="INVALID_ARGUMENT",
            field="message.token",
        ),
    ),
    "INVALID_FIELD": (
        400,
        error_body(
            400,
            "INVALID_ARGUMENT",
            "Invalid value at 'message.android.notification.color'",
            fcm="INVALID_ARGUMENT",
            field="message.android.notification.color",
        ),
    ),
    "SENDER_ID_MISMATCH": (
        403,
        error_body(403, "PERMISSION_DENIED", "SenderId mismatch", fcm="SENDER_ID_MISMATCH"),
    ),
    "UNAUTHENTICATED": (
        401,
        error_body(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."),
    ),
    "PERMISSION_DENIED": (
        403,
        error_body(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied"),
    ),
    "QUOTA_EXCEEDED": (
        429,
        error_body(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", fcm="QUOTA_EXCEEDED"),
    ),
    "INTERNAL": (500, error_body(500, "INTERNAL", "Internal error.", fcm="INTERNAL")),
    "UNAVAILABLE": (503, error_body(503, "UNAVAILABLE", "The service is unavailable.")),
}


@dataclass(frozen=True)
class Sent:
    project: str
    access_token: str
    message: dict[str, Any]  # the body's ``message``, as received
    status: int  # what the stand-in answered


@dataclass
class _Script:
    answer: str
    times: int | None  # None: every time
    retry_after: str | None


@dataclass
class FcmService:
    account: dict[str, str]
    url: str = ""
    token_lifetime: int = 3600  # the ``expires_in`` of the access tokens it issues
    token_requests: int = 0
    sends: list[Sent] = field(default_factory=list)
    _issued: dict[str, float] = field(default_factory=dict)  # access token → monotonic expiry
    _scripts: dict[str, _Script] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def token_url(self) -> str:
        return self.url + "/token"

    @property
    def issued(self) -> int:
        """How many access tokens it handed out."""
        return len(self._issued)

    def answer(
        self,
        device_token: str,
        answer: str,
        *,
        times: int | None = 1,
        retry_after: str | None = None,
    ) -> None:
        """Answer sends to ``device_token`` with ``ANSWERS[answer]`` (``times`` None: always)."""
        assert answer in ANSWERS, answer
        with self._lock:
            self._scripts[device_token] = _Script(answer, times, retry_after)

    def expire_tokens(self) -> None:
        """Every access token issued so far stops working now, as if revoked."""
        with self._lock:
            self._issued = dict.fromkeys(self._issued, 0.0)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path == "/token":
            return self._grant(body)
        match = _SEND.fullmatch(path)
        if match is None:
            return 404, {"error": {"code": 404, "message": "Not Found", "status": "NOT_FOUND"}}, {}
        return self._send(match.group(1), headers, body)

    def _grant(self, body: bytes) -> Reply:
        with self._lock:
            self.token_requests += 1
        form = {name: values[-1] for name, values in parse_qs(body.decode()).items()}
        if form.get("grant_type") != GRANT_TYPE:
            return 400, _oauth("unsupported_grant_type", "Invalid grant_type."), {}
        problem = self._check_assertion(form.get("assertion", ""))
        if problem is not None:
            return 400, _oauth(*problem), {}
        token = "ya29.c." + secrets.token_urlsafe(32)
        with self._lock:
            self._issued[token] = time.monotonic() + self.token_lifetime
        answer = {"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"}
        return 200, answer, {}

    def _check_assertion(self, assertion: str) -> tuple[str, str] | None:
        private_key = serialization.load_pem_private_key(
            self.account["private_key"].encode(), password=None
        )
        try:
            if jwt.get_unverified_header(assertion).get("kid") != self.account["private_key_id"]:
                return "invalid_grant", "Invalid JWT Signature."
            claims = jwt.decode(
                assertion,
                private_key.public_key(),
                algorithms=["RS256"],
                audience=self.token_url,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.InvalidTokenError:
            return "invalid_grant", "Invalid JWT Signature."
        if claims["iss"] != self.account["client_email"]:
            return "invalid_grant", "Invalid JWT Signature."
        if SCOPE not in str(claims["scope"]).split():
            return "invalid_scope", "Invalid OAuth scope or ID token audience provided."
        if claims["exp"] - claims["iat"] > 3600 or claims["iat"] > time.time() + 60:
            return "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes)"
        return None

    def _send(self, project: str, headers: dict[str, str], body: bytes) -> Reply:
        scheme, _, access_token = headers.get("authorization", "").partition(" ")
        with self._lock:
            live = self._issued.get(access_token, 0.0) > time.monotonic()
        if scheme != "Bearer" or not live:
            return ANSWERS["UNAUTHENTICATED"][0], ANSWERS["UNAUTHENTICATED"][1], {}
        if project != self.account["project_id"]:
            return ANSWERS["PERMISSION_DENIED"][0], ANSWERS["PERMISSION_DENIED"][1], {}
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        message = parsed.get("message") if isinstance(parsed, dict) else None
        problem = _check_message(parsed, message)
        if problem is None and isinstance(message, dict):
            reply = self._scripted(message["token"])
        else:
            where, why = problem or ("message", "Required field missing.")
            reply = 400, error_body(400, "INVALID_ARGUMENT", why, field=where), {}
        with self._lock:
            kept = message if isinstance(message, dict) else {}
            self.sends.append(Sent(project, access_token, kept, reply[0]))
        return reply

    def _scripted(self, device_token: str) -> Reply:
        with self._lock:
            script = self._scripts.get(device_token)
            if script is None:
                name = f"projects/{self.account['project_id']}/messages/{secrets.token_hex(8)}"
                return 200, {"name": name}, {}
            if script.times is not None:
                script.times -= 1
                if script.times == 0:
                    del self._scripts[device_token]
        status, answer = ANSWERS[script.answer]
        return status, answer, {"Retry_After": script.retry_after} if script.retry_after else {}


def _check_message(body: Any, message: Any) -> tuple[str, str] | None:
    """The field FCM would refuse, and why; None when the request is well formed."""
    if not isinstance(body, dict) or set(body) - {"message", "validate_only"}:
        return "", "Invalid JSON payload received."
    if not isinstance(message, dict):
        return "message", "Required field missing."
    if unknown := set(message) - _MESSAGE_FIELDS:
        return f"message.{min(unknown)}", "Unknown name: cannot find field."
    if not isinstance(message.get("token"), str) or not message["token"]:
        return "message.token", "Recipient of the message is not set."
    notification = message.get("notification", {})
    if not isinstance(notification, dict) or any(
        key not in ("title", "body", "image") or not isinstance(value, str)
        for key, value in notification.items()
    ):
        return "message.notification", "Invalid notification."
    data = message.get("data", {})
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        return "message.data", "Invalid value: data values must be strings."
    if any(k in ("from", "message_type") or k.startswith(("google", "gcm")) for k in data):
        return "message.data", "Invalid data payload key: reserved."
    android = message.get("android", {})
    if not isinstance(android, dict) or set(android) - _ANDROID_FIELDS:
        return "message.android", "Unknown name: cannot find field."
    if android.get("priority", "NORMAL") not in ("NORMAL", "HIGH"):
        return "message.android.priority", "Invalid value."
    if "ttl" in android and not _TTL.fullmatch(str(android["ttl"])):
        return "message.android.ttl", "Invalid value: not a duration."
    payload = json.dumps({"notification": notification, "data": data}, ensure_ascii=False)
    if len(payload.encode()) > MAX_PAYLOAD:
        return "message", "Android message is too big"
    return None


def _oauth(error: str, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": description}


def _handler(service: FcmService) -> type[QuietHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer, extra = service.handle(self.path, headers, body)
            with contextlib.suppress(OSError):  # the client gave up waiting
                self.reply(status, json.dumps(answer).encode(), Content_Type=_JSON, **extra)

    return Handler


@contextmanager
def serving(account: dict[str, str], *, token_lifetime: int = 3600) -> Iterator[FcmService]:
    """An FCM stand-in for ``account`` on a free loopback port until the end of the block."""
    service = FcmService(account, token_lifetime=token_lifetime)
    with loopback.serving(_handler(service)) as server:
        service.url = server.url
        yield service
