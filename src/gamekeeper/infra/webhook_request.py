"""The HTTP request of a webhook delivery: Standard Webhooks JSON, or a Kongregate-style form."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from gamekeeper.core.events.store import WebhookFormat
from gamekeeper.core.events.types import Event


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of id.timestamp.body>``, keyed by the secret's decoded bytes."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return "" if value is None else str(value)


def form_time(moment: datetime) -> str:
    """Kongregate's callback time format, e.g. ``2016-04-10 13:20:59 +0000``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S %z")


def build(
    event: Event, fmt: WebhookFormat, secret: str, now: datetime
) -> tuple[bytes, dict[str, str]]:
    """Body and headers for one attempt; ``webhook-id`` is the event id on every attempt."""
    timestamp = int(now.timestamp())
    if fmt is WebhookFormat.FORM:
        fields = {"event": event.type, "api_key": secret, "time": form_time(event.occurred_at)}
        fields |= {
            name: _form_value(value) for name, value in event.payload.items() if name not in fields
        }
        body = urlencode(fields).encode()
        return body, {
            "content-type": "application/x-www-form-urlencoded",
            "webhook-id": event.id,
            "webhook-timestamp": str(timestamp),
        }
    body = json.dumps(event.envelope(), separators=(",", ":")).encode()
    return body, {
        "content-type": "application/json",
        "webhook-id": event.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, event.id, timestamp, body),
    }
