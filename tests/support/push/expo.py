"""Expo's push service on loopback: tickets at send time, receipts when the test settles them.

``serving(access_token=…)`` starts one and yields an ``ExpoService``. Both endpoints first check
what Expo checks for a whole request: the bearer access token when the project requires one (401
``UNAUTHORIZED``), a script of request-level failures (``fail``: 429, 5xx…), and the body's shape
(400 ``VALIDATION_ERROR``).

- ``POST /--/api/v2/push/send``: a JSON array of at most 100 messages (else 400
  ``PUSH_TOO_MANY_NOTIFICATIONS``) of one Expo project (``projects``; else 400
  ``PUSH_TOO_MANY_EXPERIENCE_IDS``); one ticket per message, in order: an error for a token that
  is not an Expo push token (``DeviceNotRegistered``), for a message over 4096 bytes
  (``MessageTooBig``) or as scripted for its token (``ticket_errors``), else ``ok`` with a new
  receipt id. Each request's messages are recorded in ``sends``.
- ``POST /--/api/v2/push/getReceipts``: ``{"ids": [...]}``, at most 300 (else 400
  ``PUSH_TOO_MANY_RECEIPTS``); answers the receipts the test settled (``settle``, ``settle_all``),
  and nothing for the others. Each request's ids are recorded in ``receipt_requests``.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from support import loopback
from support.loopback import QuietHandler

MAX_MESSAGES = 100
MAX_RECEIPTS = 300
MAX_MESSAGE_BYTES = 4096
DEFAULT_PROJECT = "@gamekeeper/test-app"
_TOKEN = re.compile(r"Expo(?:nent)?PushToken\[[^\[\]\s]+\]")
_FIELDS = frozenset(
    {"to", "title", "body", "data", "ttl", "expiration", "priority", "subtitle", "sound"}
    | {"badge", "channelId", "categoryId", "mutableContent", "interruptionLevel"}
)
_JSON = "application/json"

Reply = tuple[int, dict[str, Any], dict[str, str]]  # status, JSON body, headers (``Retry_After``)


@dataclass
class _Failure:
    status: int
    code: str
    times: int | None  # None: every request
    retry_after: str | None


@dataclass
class ExpoService:
    access_token: str | None = None  # when set, every request must carry it as a bearer
    url: str = ""
    sends: list[list[dict[str, Any]]] = field(default_factory=list)  # messages, per request
    receipt_requests: list[list[str]] = field(default_factory=list)  # ids, per request
    ticket_errors: dict[str, str] = field(default_factory=dict)  # push token → ticket error
    projects: dict[str, str] = field(default_factory=dict)  # push token → Expo project
    tickets: dict[str, str] = field(default_factory=dict)  # receipt id → push token
    _receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    _failure: _Failure | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self, status: int, *, code: str = "", times: int | None = 1, retry_after: str | None = None
    ) -> None:
        """Refuse the next ``times`` requests (None: all) as a whole with ``status``."""
        with self._lock:
            self._failure = _Failure(status, code or f"HTTP_{status}", times, retry_after)

    def settle(self, receipt_id: str, error: str | None = None) -> None:
        """The receipt for ``receipt_id`` is ready: ok, or the error ``error``."""
        with self._lock:
            self._receipts[receipt_id] = _receipt(self.tickets[receipt_id], error)

    def settle_all(self, error: str | None = None) -> None:
        with self._lock:
            for receipt_id, token in self.tickets.items():
                self._receipts.setdefault(receipt_id, _receipt(token, error))

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> Reply:
        if path not in ("/--/api/v2/push/send", "/--/api/v2/push/getReceipts"):
            return 404, _errors("NOT_FOUND", "Not found."), {}
        if self.access_token is not None and (
            headers.get("authorization") != f"Bearer {self.access_token}"
        ):
            return 401, _errors("UNAUTHORIZED", "The bearer token is invalid."), {}
        if failed := self._scripted_failure():
            return failed
        try:
            parsed = json.loads(body)
        except ValueError:
            return 400, _errors("VALIDATION_ERROR", "The body is not JSON."), {}
        if path.endswith("/send"):
            return self._send(parsed)
        return self._get_receipts(parsed)

    def _scripted_failure(self) -> Reply | None:
        with self._lock:
            failure = self._failure
            if failure is None:
                return None
            if failure.times is not None:
                failure.times -= 1
                if failure.times == 0:
                    self._failure = None
        extra = {"Retry_After": failure.retry_after} if failure.retry_after else {}
        return failure.status, _errors(failure.code, "Refused as scripted."), extra

    def _send(self, messages: Any) -> Reply:
        if not isinstance(messages, list):
            messages = [messages]
        with self._lock:
            self.sends.append(messages)
        if len(messages) > MAX_MESSAGES:
            problem = f"You are trying to send more than {MAX_MESSAGES} push notifications."
            return 400, _errors("PUSH_TOO_MANY_NOTIFICATIONS", problem), {}
        if problem := next(filter(None, map(_invalid, messages)), None):
            return 400, _errors("VALIDATION_ERROR", problem), {}
        experiences = {self.projects.get(m["to"], DEFAULT_PROJECT) for m in messages}
        if len(experiences) > 1:
            problem = (
                "All push notification messages in the same request must be for the same project."
            )
            return 400, _errors("PUSH_TOO_MANY_EXPERIENCE_IDS", problem), {}
        return 200, {"data": [self._ticket(message) for message in messages]}, {}

    def _ticket(self, message: dict[str, Any]) -> dict[str, Any]:
        token = message["to"]
        error = self.ticket_errors.get(token)
        if not _TOKEN.fullmatch(token):
            error = "DeviceNotRegistered"
        elif len(json.dumps(message, ensure_ascii=False).encode()) > MAX_MESSAGE_BYTES:
            error = "MessageTooBig"
        if error is not None:
            return {"status": "error", **_problem(token, error)}
        receipt_id = str(uuid.uuid4())
        with self._lock:
            self.tickets[receipt_id] = token
        return {"status": "ok", "id": receipt_id}

    def _get_receipts(self, body: Any) -> Reply:
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            return 400, _errors("VALIDATION_ERROR", '"ids" must be an array of strings.'), {}
        with self._lock:
            self.receipt_requests.append(ids)
            found = {i: self._receipts[i] for i in ids if i in self._receipts}
        if len(ids) > MAX_RECEIPTS:
            problem = f"You are trying to get more than {MAX_RECEIPTS} receipts."
            return 400, _errors("PUSH_TOO_MANY_RECEIPTS", problem), {}
        return 200, {"data": found}, {}


def _invalid(message: Any) -> str | None:
    """Why Expo's validation refuses ``message``, or None."""
    if not isinstance(message, dict):
        return "Each message must be an object."
    if unknown := set(message) - _FIELDS:
        return f'"{min(unknown)}" is not allowed'
    if not isinstance(message.get("to"), str):
        return '"to" must be a string'
    if not all(isinstance(message.get(k, ""), str) for k in ("title", "body", "sound")):
        return '"title", "body" and "sound" must be strings'
    if not isinstance(message.get("data", {}), dict):
        return '"data" must be an object'
    if message.get("priority", "default") not in ("default", "normal", "high"):
        return '"priority" must be one of [default, normal, high]'
    ttl = message.get("ttl", 0)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or ttl < 0:
        return '"ttl" must be a non-negative integer'
    return None


def _problem(token: str, error: str) -> dict[str, Any]:
    # Expo's messages quote the token: a client must not log them.
    message = f'"{token}" is not a registered push notification recipient ({error})'
    return {"message": message, "details": {"error": error, "expoPushToken": token}}


def _receipt(token: str, error: str | None) -> dict[str, Any]:
    return {"status": "ok"} if error is None else {"status": "error", **_problem(token, error)}


def _errors(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"code": code, "message": message}]}


def _handler(service: ExpoService) -> type[QuietHandler]:
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
def serving(*, access_token: str | None = None) -> Iterator[ExpoService]:
    """An Expo push stand-in on a free loopback port until the end of the block."""
    service = ExpoService(access_token=access_token)
    with loopback.serving(_handler(service)) as server:
        service.url = server.url
        yield service
