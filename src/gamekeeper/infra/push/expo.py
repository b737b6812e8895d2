"""Expo push: batches of up to 100 messages answered by tickets, settled later by receipts.

``POST {base}/--/api/v2/push/send`` takes a JSON array of messages and answers
``{"data": [ticket, …]}`` in the same order: ``{"status": "ok", "id"}`` is a ``SENT`` verdict whose
receipt is the ticket id, an error ticket names its code in ``details.error``. A request refused
as a whole (``{"errors": [...]}``, 4xx/5xx, no answer) gives every message of the request the
same verdict. ``POST {base}/--/api/v2/push/getReceipts`` with ``{"ids": [...]}`` (up to 300) answers
the receipts Expo has settled; the others are not settled yet and are left out.

Error messages from Expo quote the push token, so only the code ever becomes a reason. The base
URL is an operator setting, so a plain client is right.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping, Sequence
from typing import Any

from gamekeeper.infra.push.answers import JsonClient, flat_data, retry_after, safe_code
from gamekeeper.infra.push.base import Outcome, PushMessage, Verdict

__all__ = ["ExpoProvider", "is_expo_token"]

SEND_PATH = "/--/api/v2/push/send"
RECEIPTS_PATH = "/--/api/v2/push/getReceipts"

_TOKEN = re.compile(r"Expo(?:nent)?PushToken\[[^\[\]\s]+\]")
_OUTCOMES = {  # ticket and receipt error codes; any other is a permanent FAILED
    "DeviceNotRegistered": Outcome.DEVICE_GONE,
    "InvalidCredentials": Outcome.CREDENTIAL_ERROR,
    "MessageRateExceeded": Outcome.RETRY,
}
_NOT_EXPO = Verdict(Outcome.FAILED, "not an Expo push token")  # our routing, not a dead device


def is_expo_token(token: str) -> bool:
    """Whether ``token`` looks like an Expo push token (``ExponentPushToken[…]``)."""
    return _TOKEN.fullmatch(token) is not None


class ExpoProvider:
    """Sends through Expo's push service for one Expo project (an optional access token)."""

    name = "expo"
    max_batch = 100
    max_receipts = 300

    def __init__(
        self,
        *,
        access_token: str | None = None,
        base_url: str = "https://exp.host",
        timeout: float = 10.0,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json"}
        if access_token:
            headers["Authorization"] = f"Bearer {access_token}"
        self._http = JsonClient(timeout=timeout, headers=headers)

    async def send(self, messages: Sequence[PushMessage]) -> list[Verdict]:
        # A token Expo cannot take is not sent: Expo's SDKs check the same before sending.
        sendable = [message for message in messages if is_expo_token(message.token)]
        size = self.max_batch
        batches = [sendable[i : i + size] for i in range(0, len(sendable), size)]
        answered = await asyncio.gather(*(self._send_batch(batch) for batch in batches))
        verdicts = iter([verdict for batch in answered for verdict in batch])
        return [next(verdicts) if is_expo_token(m.token) else _NOT_EXPO for m in messages]

    async def check_receipts(self, receipts: Sequence[str]) -> dict[str, Verdict]:
        size = self.max_receipts
        chunks = [receipts[i : i + size] for i in range(0, len(receipts), size)]
        settled: dict[str, Verdict] = {}
        for found in await asyncio.gather(*(self._receipts(chunk) for chunk in chunks)):
            settled.update(found)
        return settled

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send_batch(self, batch: Sequence[PushMessage]) -> list[Verdict]:
        answer = await self._http.post(
            self._base_url + SEND_PATH, json=[_message(message) for message in batch]
        )
        if isinstance(answer, Verdict):
            return [answer] * len(batch)
        status, headers, body = answer
        if status != 200:
            return [_refused(status, headers, body)] * len(batch)
        tickets = body.get("data") if isinstance(body, dict) else None
        if not isinstance(tickets, list) or len(tickets) != len(batch):
            return [Verdict(Outcome.RETRY, "malformed answer", status=status)] * len(batch)
        return [_ticket(ticket, status) for ticket in tickets]

    async def _receipts(self, ids: Sequence[str]) -> dict[str, Verdict]:
        answer = await self._http.post(self._base_url + RECEIPTS_PATH, json={"ids": list(ids)})
        if isinstance(answer, Verdict) or answer[0] != 200:
            return {}  # nothing settled now; the caller asks again later
        status, _, body = answer
        found = body.get("data") if isinstance(body, dict) else None
        if not isinstance(found, dict):
            return {}
        settled: dict[str, Verdict] = {}
        for receipt_id in ids:
            receipt = found.get(receipt_id)
            if isinstance(receipt, dict) and receipt.get("status") == "ok":
                settled[receipt_id] = Verdict(Outcome.DELIVERED, status=status)
            elif isinstance(receipt, dict) and receipt.get("status") == "error":
                settled[receipt_id] = _error(receipt, status)
        return settled


def _message(message: PushMessage) -> dict[str, Any]:
    body: dict[str, Any] = {
        "to": message.token,
        "title": message.title,
        "body": message.body,
        "data": flat_data(message),
        "sound": "default",  # without it iOS shows the notification silently
        "priority": message.priority if message.priority in ("high", "normal") else "default",
    }
    if message.ttl is not None:
        body["ttl"] = message.ttl
    return body


def _ticket(ticket: object, status: int) -> Verdict:
    if not isinstance(ticket, dict):
        return Verdict(Outcome.RETRY, "malformed ticket", status=status)
    if ticket.get("status") == "ok" and isinstance(ticket.get("id"), str):
        return Verdict(Outcome.SENT, status=status, receipt=ticket["id"])
    return _error(ticket, status)


def _error(answer: Mapping[str, Any], status: int) -> Verdict:
    """The verdict of an error ticket or receipt, by ``details.error``."""
    details = answer.get("details")
    code = safe_code(details.get("error")) if isinstance(details, dict) else None
    return Verdict(_OUTCOMES.get(code or "", Outcome.FAILED), code or "error", status=status)


def _refused(status: int, headers: Mapping[str, str], body: Any) -> Verdict:
    """The verdict for every message of a request refused as a whole."""
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    code = safe_code(first.get("code")) if isinstance(first, dict) else None
    reason = code or f"HTTP {status}"
    if status == 429 or status >= 500:
        wait = retry_after(headers.get("Retry-After"))
        return Verdict(Outcome.RETRY, reason, wait, status=status)
    if status in (401, 403):
        return Verdict(Outcome.CREDENTIAL_ERROR, reason, status=status)
    return Verdict(Outcome.FAILED, reason, status=status)
