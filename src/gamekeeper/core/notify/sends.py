"""Sends: a game's notification to one of its users, its status, the player's inbox and reads.

A send resolves the recipient through the game's account link, then writes the notification
and one pending delivery per device whose topics admit its type, in the request's transaction;
the push relay carries them. A linked player without such devices still gets the notification
(in the inbox; ``failed`` with reason ``no_devices`` for the game).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from gamekeeper.core import validate
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.notify.errors import (
    IdempotencyMismatch,
    NotificationNotFound,
    PayloadTooLarge,
    RecipientNotLinked,
)
from gamekeeper.core.notify.events import NotificationRead, PushQueued
from gamekeeper.core.notify.store import NotifyUow
from gamekeeper.core.notify.types import (
    Content,
    InboxPage,
    Notification,
    NotificationStatus,
    Priority,
    StatusReport,
)
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.transactions import Transactions

# The notification's own JSON must leave room in every provider's 4 KB for its wrapping.
MAX_CONTENT_BYTES = 3584
MAX_TTL = 28 * 24 * 3600  # what every provider keeps at most (Web Push and FCM: 4 weeks)
DETAIL_LIMIT = 100
INBOX_LIMIT = 100
TYPE = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,255}")


MAX_DATA_DEPTH = 8


def _text(
    value: str, field: str, code: str, *, most: int, least: int = 1, lines: bool = False
) -> str:
    allowed = value.replace("\n", "") if lines else value
    if not least <= len(value) <= most or not allowed.isprintable():
        raise InvalidInput(f"{field} must be {least} to {most} printable characters", code=code)
    return value


def _data(value: object, depth: int = 0) -> None:
    """``data`` is JSON the providers and both databases take: bounded depth, no NUL."""
    if depth > MAX_DATA_DEPTH:
        raise InvalidInput(f"data nests deeper than {MAX_DATA_DEPTH} levels", code="invalid_data")
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput("data may not hold NUL characters", code="invalid_data")
    elif isinstance(value, dict):
        for key, item in value.items():
            _data(key, depth + 1)
            _data(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _data(item, depth + 1)


def content(
    *,
    type: str,
    title: str,
    body: str,
    data: dict[str, Any] | None = None,
    deep_link: str | None = None,
    ttl: int | None = None,
    collapse_key: str | None = None,
    priority: str = "high",
) -> Content:
    """A notification's content, checked against every provider's limits."""
    if data is not None:
        _data(data)
    if not TYPE.fullmatch(type):
        raise InvalidInput("type must be 1 to 64 letters, digits or _.:-", code="invalid_type")
    if ttl is not None and not 0 <= ttl <= MAX_TTL:
        raise InvalidInput(f"ttl must be 0 to {MAX_TTL} seconds", code="invalid_ttl")
    try:
        chosen = Priority(priority)
    except ValueError:
        raise InvalidInput("priority must be high or normal", code="invalid_priority") from None
    made = Content(
        type=type,
        title=_text(title, "title", "invalid_title", most=200),
        body=_text(body, "body", "invalid_body", most=2000, least=0, lines=True),
        data=data,
        deep_link=None
        if deep_link is None
        else _text(deep_link, "deepLink", "invalid_deep_link", most=2048),
        ttl=ttl,
        collapse_key=None
        if collapse_key is None
        else _text(collapse_key, "collapseKey", "invalid_collapse_key", most=64),
        priority=chosen,
    )
    size = len(payload_json(made, notification_id=str(uuid.UUID(int=0))))
    if size > MAX_CONTENT_BYTES:
        raise PayloadTooLarge(
            f"the notification is {size} bytes as JSON; at most {MAX_CONTENT_BYTES} fit every"
            " provider's 4 KB"
        )
    return made


def payload_json(made: Content, *, notification_id: str) -> bytes:
    """The notification as a device's app receives it (the Web Push payload, the data of others)."""
    message: dict[str, Any] = {
        "id": notification_id, "type": made.type, "title": made.title, "body": made.body
    }  # fmt: skip
    if made.data is not None:
        message["data"] = made.data
    if made.deep_link is not None:
        message["deepLink"] = made.deep_link
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()


async def send_notification(
    uow: NotifyUow,
    *,
    game_id: str,
    game_user_id: str,
    made: Content,
    idempotency_key: str | None = None,
) -> Notification:
    """Store the notification and its deliveries; the first send's answer for a reused key."""
    sent, _ = await _send(uow, game_id, game_user_id, made, idempotency_key)
    return sent


async def _send(
    uow: NotifyUow, game_id: str, game_user_id: str, made: Content, idempotency_key: str | None
) -> tuple[Notification, bool]:
    """The notification, and whether this call stored it (not a replay of its key)."""
    _text(game_user_id, "gameUserId", "invalid_game_user_id", most=128)
    if idempotency_key is not None:
        if not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise InvalidInput(
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
                code="invalid_idempotency_key",
            )
        first = await uow.notify.find_idempotent(game_id, idempotency_key)
        if first is not None:
            return _same(first, game_user_id, made), False
    link = await uow.accounts.find_link(game_id, game_user_id)
    if link is None:
        raise RecipientNotLinked()
    reachable = await uow.notify.recipient_devices(link.player_id, game_id)
    devices = [d for d in reachable if d.admits(made.type)]
    notification = Notification(
        id=str(uuid.uuid4()),
        game_id=game_id,
        player_id=link.player_id,
        game_user_id=game_user_id,
        content=made,
        status=NotificationStatus.QUEUED if devices else NotificationStatus.FAILED,
        reason=None if devices else "no_devices",
        created_at=uow.now(),
        idempotency_key=idempotency_key,
    )
    stored = await uow.notify.add_notification(
        notification, [(str(uuid.uuid4()), device) for device in devices]
    )
    if stored is None:  # a concurrent send with the same key won
        assert idempotency_key is not None
        first = await uow.notify.find_idempotent(game_id, idempotency_key)
        assert first is not None
        return _same(first, game_user_id, made), False
    if devices:
        uow.emit(PushQueued(stored.id))
    return stored, True


def _same(first: Notification, game_user_id: str, made: Content) -> Notification:
    if first.game_user_id != game_user_id or first.content != made:
        raise IdempotencyMismatch()
    return first


async def _notification(uow: NotifyUow, notification_id: str) -> Notification | None:
    return (
        await uow.notify.get_notification(notification_id)
        if validate.is_uuid(notification_id)
        else None
    )


async def notification_status(
    uow: NotifyUow, *, game_id: str, notification_id: str
) -> StatusReport:
    """The notification's status with per-device detail; another game's is not found."""
    found = await _notification(uow, notification_id)
    if found is None or found.game_id != game_id:
        raise NotificationNotFound()
    return StatusReport(
        notification=found,
        counts=await uow.notify.delivery_counts(notification_id),
        deliveries=tuple(await uow.notify.deliveries(notification_id, limit=DETAIL_LIMIT)),
    )


async def mark_read(uow: NotifyUow, *, player_id: str, notification_id: str) -> Notification:
    """The recipient read it (once); the game hears ``notification.read``."""
    found = await _notification(uow, notification_id)
    if found is None or found.player_id != player_id:
        raise NotificationNotFound()
    if found.read_at is not None:
        return found
    at = uow.now()
    if await uow.notify.mark_read(notification_id, at):
        await record_event(
            uow,
            "notification.read",
            NotificationRead(
                notification_id=found.id,
                game_user_id=found.game_user_id,
                type=found.content.type,
                read_at=at.isoformat(),
            ),
            owner=Owner.game(found.game_id),
            aggregate_id=found.id,
        )
    return replace(found, status=NotificationStatus.READ, read_at=at)


async def inbox(
    uow: NotifyUow, *, player_id: str, limit: int = 50, cursor: str | None = None
) -> InboxPage:
    """The player's notifications, newest first; ``next_cursor`` pages on."""
    if not 1 <= limit <= INBOX_LIMIT:
        raise InvalidInput(f"limit must be 1 to {INBOX_LIMIT}", code="invalid_limit")
    before = None
    if cursor is not None:
        if not cursor.isdigit() or len(cursor) > 18:
            raise InvalidInput("cursor is not one this server gave", code="invalid_cursor")
        before = int(cursor)
    rows = await uow.notify.inbox(player_id, limit=limit + 1, before=before)
    more = len(rows) > limit
    rows = rows[:limit]
    return InboxPage(tuple(rows), str(rows[-1].seq) if more and rows else None)


class Waiter(Protocol):
    async def wait(self) -> bool:
        """Until the first provider verdict or a deadline; True if a verdict came."""
        ...

    def close(self) -> None: ...


async def send_and_wait(
    db: Transactions[NotifyUow],
    *,
    game_id: str,
    game_user_id: str,
    made: Content,
    idempotency_key: str | None = None,
    expect: Callable[[str], Waiter] | None = None,
) -> Notification:
    """Send, commit, then wait briefly for the first verdict (``expect`` registers a waiter
    before the commit); the notification as it then stands."""
    waiter = None
    try:
        async with db.transaction() as uow:
            sent, new = await _send(uow, game_id, game_user_id, made, idempotency_key)
            if new and expect is not None and sent.status is NotificationStatus.QUEUED:
                waiter = expect(sent.id)
    except BaseException:
        if waiter is not None:
            waiter.close()
        raise
    if waiter is None or not await waiter.wait():
        return sent
    async with db.read() as uow:
        return await uow.notify.get_notification(sent.id) or sent
