"""Webhook subscriptions of an owner (a game, an operator, a platform), their secrets and
deliveries."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gamekeeper.core import audit, validate
from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import Conflict, InvalidInput, NotFound
from gamekeeper.core.events.events import OutboxRecorded, WebhookTest
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.events.registry import check_types
from gamekeeper.core.events.store import Delivery, Webhook, WebhookFormat, WebhookUow
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox, new_token

MAX_WEBHOOKS_PER_OWNER = 20
_CHANGEABLE = frozenset({"url", "event_types", "format", "enabled"})


class WebhookNotFound(NotFound):
    code = "webhook_not_found"
    message = "No webhook with that id for this owner"


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"
    message = "No delivery with that id for this owner"


class WebhookUrlUnreachable(InvalidInput):
    code = "unreachable_url"

    def __init__(self, reason: str, *, field: str = "url") -> None:
        super().__init__(
            f"{field} can never be reached from this server: {reason}. To deliver to a private "
            "network, add it to GAMEKEEPER_OUTBOUND_ALLOWED_NETWORKS"
        )


# Why outbound requests to a URL would always be refused under this server's settings, or None.
UrlRefusal = Callable[[str], str | None]


def reachable(url: str, refusal: UrlRefusal | None, *, field: str = "url") -> str:
    """``url`` checked as an http(s) URL that ``refusal`` (if given) does not refuse."""
    checked = validate.http_url(url, field=field)
    reason = refusal(checked) if refusal is not None else None
    if reason is not None:
        raise WebhookUrlUnreachable(reason, field=field)
    return checked


class ManagedWebhook(Conflict):
    code = "managed_webhook"
    message = "This webhook is the game's callbackUrl; change or clear the game's callbackUrl"


def _new_secret(fmt: WebhookFormat, chosen: str | None) -> str:
    if chosen is not None:
        if fmt is not WebhookFormat.FORM:
            raise InvalidInput("only form webhooks take a chosen secret", code="invalid_secret")
        if not 16 <= len(chosen) <= 256 or not chosen.isprintable():
            raise InvalidInput(
                "secret must be 16 to 256 printable characters", code="invalid_secret"
            )
        return chosen
    if fmt is WebhookFormat.STANDARD:  # Standard Webhooks: whsec_ + base64 of the key bytes
        return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    return new_token()


async def create_webhook(
    uow: WebhookUow,
    *,
    owner: Owner,
    url: str,
    box: SecretBox,
    actor: Actor,
    event_types: list[str] | None = None,
    fmt: WebhookFormat = WebhookFormat.STANDARD,
    secret: str | None = None,
    managed: bool = False,
    refusal: UrlRefusal | None = None,
) -> tuple[Webhook, str]:
    """Subscribe a URL to the owner's events; the signing secret is returned once.

    ``refusal`` says why a URL could never be delivered to (see ``WebhookUrlUnreachable``).
    """
    if len(await uow.events.list_webhooks(owner)) >= MAX_WEBHOOKS_PER_OWNER:
        raise Conflict("The owner has reached its limit of webhooks", code="too_many_webhooks")
    now = uow.now()
    webhook = Webhook(
        id=str(uuid.uuid4()),
        owner=owner,
        url=reachable(url, refusal),
        event_types=tuple(check_types(event_types or [])),
        format=fmt,
        enabled=True,
        managed=managed,
        created_at=now,
        updated_at=now,
    )
    value = _new_secret(fmt, secret)
    await uow.events.add_webhook(webhook, sealed_secret=box.seal(value, context=webhook.id))
    await audit.record(
        uow, "webhook.created", actor=actor, target_type="webhook", target_id=webhook.id,
        url=webhook.url, **audit.owned_by(owner),
    )  # fmt: skip
    return webhook, value


async def get_webhook(uow: WebhookUow, *, owner: Owner, webhook_id: str) -> Webhook:
    """The owner's webhook, or WebhookNotFound (also for another owner's webhook)."""
    webhook = await uow.events.get_webhook(webhook_id)
    if webhook is None or webhook.owner != owner:
        raise WebhookNotFound()
    return webhook


async def list_webhooks(uow: WebhookUow, *, owner: Owner) -> list[Webhook]:
    """The owner's webhooks (a game's callbackUrl among them)."""
    return await uow.events.list_webhooks(owner)


async def update_webhook(
    uow: WebhookUow,
    *,
    owner: Owner,
    webhook_id: str,
    changes: dict[str, Any],
    actor: Actor,
    refusal: UrlRefusal | None = None,
) -> Webhook:
    """Change URL, filter, format or enabled; re-enabling forgets past failures."""
    webhook = await get_webhook(uow, owner=owner, webhook_id=webhook_id)
    if set(changes) - _CHANGEABLE:
        raise ValueError(f"not webhook fields: {sorted(set(changes) - _CHANGEABLE)}")
    values: dict[str, Any] = {"updated_at": uow.now()}
    if "url" in changes:
        if webhook.managed:
            raise ManagedWebhook()
        values["url"] = reachable(changes["url"], refusal)
    if "event_types" in changes:
        values["event_types"] = tuple(check_types(changes["event_types"] or []))
    if "format" in changes:
        values["format"] = WebhookFormat(changes["format"])
    if "enabled" in changes:
        values["enabled"] = bool(changes["enabled"])
        if values["enabled"]:
            values |= {"failing_since": None, "disabled_reason": None}
    updated = replace(webhook, **values)
    await uow.events.update_webhook(updated)
    await audit.record(
        uow, "webhook.updated", actor=actor, target_type="webhook", target_id=webhook_id,
        fields=sorted(changes), **audit.owned_by(owner),
    )  # fmt: skip
    if updated.enabled and not webhook.enabled:
        uow.emit(OutboxRecorded())  # its waiting deliveries are due again
    return updated


async def delete_webhook(uow: WebhookUow, *, owner: Owner, webhook_id: str, actor: Actor) -> None:
    """Remove a webhook and its pending deliveries."""
    webhook = await get_webhook(uow, owner=owner, webhook_id=webhook_id)
    if webhook.managed:
        raise ManagedWebhook()
    await uow.events.delete_webhook(webhook_id)
    await audit.record(
        uow, "webhook.deleted", actor=actor, target_type="webhook", target_id=webhook_id,
        **audit.owned_by(owner),
    )  # fmt: skip


async def rotate_secret(
    uow: WebhookUow,
    *,
    owner: Owner,
    webhook_id: str,
    box: SecretBox,
    actor: Actor,
    secret: str | None = None,
) -> str:
    """A new signing secret (or, for form webhooks, the api_key value the game chooses)."""
    webhook = await get_webhook(uow, owner=owner, webhook_id=webhook_id)
    value = _new_secret(webhook.format, secret)
    await uow.events.set_webhook_secret(webhook_id, box.seal(value, context=webhook_id))
    await audit.record(
        uow, "webhook.secret_rotated", actor=actor, target_type="webhook", target_id=webhook_id,
        **audit.owned_by(owner),
    )  # fmt: skip
    return value


async def list_deliveries(
    uow: WebhookUow, *, owner: Owner, webhook_id: str, limit: int, before: str | None
) -> list[Delivery]:
    """The webhook's deliveries, newest first."""
    await get_webhook(uow, owner=owner, webhook_id=webhook_id)
    return await uow.events.list_deliveries(webhook_id, limit=limit, before=before)


async def replay_delivery(
    uow: WebhookUow, *, owner: Owner, webhook_id: str, delivery_id: str, actor: Actor
) -> Delivery:
    """Send a delivery again from its first attempt, whatever its state."""
    await get_webhook(uow, owner=owner, webhook_id=webhook_id)
    delivery = await uow.events.get_delivery(delivery_id)
    if delivery is None or delivery.webhook_id != webhook_id:
        raise DeliveryNotFound()
    await uow.events.requeue_delivery(delivery_id, uow.now())
    uow.emit(OutboxRecorded())
    await audit.record(
        uow, "delivery.replayed", actor=actor, target_type="delivery", target_id=delivery_id,
        **audit.owned_by(owner),
    )  # fmt: skip
    replayed = await uow.events.get_delivery(delivery_id)
    assert replayed is not None
    return replayed


async def send_test_event(uow: WebhookUow, *, owner: Owner, webhook_id: str) -> str:
    """Queue a ``webhook.test`` event for this webhook alone; returns the event id."""
    await get_webhook(uow, owner=owner, webhook_id=webhook_id)
    payload = WebhookTest(webhook_id=webhook_id, message="Test event from Gamekeeper")
    event = await record_event(
        uow, "webhook.test", payload, owner=owner, aggregate_id=webhook_id,
        only_webhook=webhook_id,
    )  # fmt: skip
    return event.id
