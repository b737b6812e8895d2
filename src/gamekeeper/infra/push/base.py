"""What every push provider client offers the push relay, and what it answers.

The relay hands a provider a batch of ``PushMessage`` (one per device delivery, all for one
game's credentials) and gets back one ``Verdict`` per message, in order. A provider never
raises for a delivery's outcome: a network error, a timeout or a 5xx is a ``RETRY`` verdict
(with the provider's ``Retry-After`` if it gave one), a refused token is ``DEVICE_GONE``,
refused credentials are ``CREDENTIAL_ERROR``. Device tokens and credentials are secrets: a
verdict's ``reason`` names the provider's error code, never the token, payload or key.

Providers with a second step (Expo: tickets now, receipts later) answer ``SENT`` with a
``receipt`` id and implement ``check_receipts``; the others answer ``DELIVERED`` once the
provider accepted the message.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Outcome", "Provider", "PushMessage", "ReceiptChecker", "Verdict"]


class Outcome(enum.StrEnum):
    DELIVERED = "delivered"  # the provider accepted it for the device
    SENT = "sent"  # accepted, the final word comes with a receipt (Expo)
    RETRY = "retry"  # 5xx, 429, connection error, timeout: try again later
    DEVICE_GONE = "device_gone"  # the token is dead: deactivate the device, never retry
    CREDENTIAL_ERROR = "credential_error"  # our credentials were refused: fail, keep the device
    FAILED = "failed"  # any other permanent refusal (payload too large, bad topic, …)


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str = ""  # the provider's error code or a short phrase; no secrets
    retry_after: float | None = None  # seconds, from Retry-After, for RETRY
    receipt: str | None = None  # the provider's id to check later, for SENT (Expo ticket id)
    status: int | None = None  # the provider's HTTP status, when there was one


@dataclass(frozen=True, slots=True)
class PushMessage:
    """One delivery: a notification for one device token."""

    delivery_id: str  # stable across retries: APNs ``apns-id``, the message identity elsewhere
    token: str  # the device token, decrypted (a Web Push subscription's JSON for ``web``)
    title: str
    body: str
    type: str  # the notification type (OGS ``notification.type``)
    notification_id: str
    data: Mapping[str, Any] | None = None
    deep_link: str | None = None
    ttl: int | None = None  # seconds the provider may keep it; None: the provider's default
    collapse_key: str | None = None
    priority: str = "high"  # "high" | "normal"


class Provider(Protocol):
    """A client for one provider with one set of credentials."""

    name: str  # "webpush" | "apns" | "fcm" | "expo": the metric and log label
    max_batch: int  # how many messages ``send`` takes at once

    async def send(self, messages: Sequence[PushMessage]) -> list[Verdict]: ...

    async def aclose(self) -> None: ...


class ReceiptChecker(Protocol):
    """A provider whose ``SENT`` verdicts are settled later (Expo receipts)."""

    max_receipts: int

    async def check_receipts(self, receipts: Sequence[str]) -> dict[str, Verdict]:
        """The final verdict for each receipt id the provider has settled; absent = not yet."""
        ...
