"""The OGS push notifications API under ``/api/v1/notifications``.

- Game servers (game key): ``send``, ``status/{id}``.
- Players (session token): ``register``, ``devices``, ``DELETE devices/{id}``, the inbox
  (``GET /``), ``{id}/read``.
- Anyone: ``vapid-public-key``, the Web Push application server key browsers subscribe with.

Errors use the OGS envelope.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Router, delete, get, post
from litestar.params import FromPath, HeaderParameter, JSONBody, Parameter, QueryParameter

from gamekeeper.api.deps import KeyPrincipalDep, PlayerDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.ogs.context import DEPENDENCIES
from gamekeeper.api.dialects.ogs.errors import render
from gamekeeper.api.dialects.ogs.linking import GAME_AUTH, PLAYER, PLAYER_AUTH
from gamekeeper.api.dialects.ogs.notify_schemas import (
    DeviceOut,
    DevicesOut,
    InboxItemOut,
    InboxOut,
    ReadOut,
    RegisterIn,
    RegisterOut,
    SendIn,
    SendOut,
    StatusOut,
    VapidKeyOut,
)
from gamekeeper.api.errors import exception_handlers
from gamekeeper.api.guards import PUBLIC, guards, limit, rate_limit_public, require_key
from gamekeeper.core.identity.types import KeyKind
from gamekeeper.core.notify import devices, sends

SEND = guards(require_key(KeyKind.SERVER, scope="players.write"), server_to_server=True)
READ = guards(require_key(KeyKind.SERVER, scope="players.read"), server_to_server=True)


@post("/register", guards=PLAYER, security=PLAYER_AUTH, status_code=200)
async def register(
    request: Request[Any, Any, Any],
    data: JSONBody[RegisterIn],
    write_uow: WriteUow,
    principal: PlayerDep,
    runtime: RuntimeDep,
) -> RegisterOut:
    """Register the player's device (again: the same token updates its row)."""
    await limit(request, "push_register", principal.player_id)
    device = await devices.register_device(
        write_uow,
        player_id=principal.player_id,
        platform=data.platform,
        token=data.device_token,
        topics=data.topics,
        game_id=data.game_id,
        box=runtime.box,
    )
    return RegisterOut(success=True, device_id=device.id)


@get("/devices", guards=PLAYER, security=PLAYER_AUTH)
async def list_devices(read_uow: ReadUow, principal: PlayerDep) -> DevicesOut:
    """The player's devices (never their tokens)."""
    found = await devices.list_devices(read_uow, player_id=principal.player_id)
    return DevicesOut(devices=[DeviceOut.of(d) for d in found])


@delete("/devices/{device_id:str}", guards=PLAYER, security=PLAYER_AUTH, status_code=204)
async def remove_device(
    device_id: FromPath[str], write_uow: WriteUow, principal: PlayerDep
) -> None:
    """Remove one of the player's devices; nothing is sent to it any more."""
    await devices.remove_device(write_uow, player_id=principal.player_id, device_id=device_id)


@get("/vapid-public-key", guards=[rate_limit_public], opt=PUBLIC)
async def vapid_public_key(runtime: RuntimeDep) -> VapidKeyOut:
    """The Web Push application server key (base64url) for ``pushManager.subscribe``."""
    return VapidKeyOut(public_key=runtime.push.vapid_public_key)


@post("/send", guards=SEND, security=GAME_AUTH, status_code=200)
async def send(
    request: Request[Any, Any, Any],
    data: JSONBody[SendIn],
    principal: KeyPrincipalDep,
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str | None, HeaderParameter(name="Idempotency-Key", max_length=255)
    ] = None,
) -> SendOut:
    """Send a notification to one of the game's users, through the account link."""
    await limit(request, "push_send", principal.game_id)
    n = data.notification
    made = sends.content(
        type=n.type, title=n.title, body=n.body, data=n.data, deep_link=n.deep_link,
        ttl=n.ttl, collapse_key=n.collapse_key, priority=n.priority,
    )  # fmt: skip
    wait = runtime.settings.push_send_wait
    sent = await sends.send_and_wait(
        runtime.db,
        game_id=principal.game_id,
        game_user_id=data.recipient.game_user_id,
        made=made,
        idempotency_key=idempotency_key,
        expect=(lambda nid: runtime.push.verdicts.expect(nid, wait)) if wait > 0 else None,
    )
    runtime.metrics.push_sends.labels(sent.status.value).inc()
    return SendOut.of(sent)


@get("/status/{notification_id:str}", guards=READ, security=GAME_AUTH)
async def status(
    notification_id: FromPath[str], read_uow: ReadUow, principal: KeyPrincipalDep
) -> StatusOut:
    """The notification's status, with per-device detail; only the game's own."""
    report = await sends.notification_status(
        read_uow, game_id=principal.game_id, notification_id=notification_id
    )
    return StatusOut.of(report)


@get("/", guards=PLAYER, security=PLAYER_AUTH)
async def inbox(
    read_uow: ReadUow,
    principal: PlayerDep,
    limit_: Annotated[int, QueryParameter(name="limit", ge=1, le=sends.INBOX_LIMIT)] = 50,
    cursor: Annotated[str | None, Parameter(max_length=32)] = None,
) -> InboxOut:
    """The player's notifications, newest first (an in-app inbox, with or without push)."""
    page = await sends.inbox(read_uow, player_id=principal.player_id, limit=limit_, cursor=cursor)
    return InboxOut(
        notifications=[InboxItemOut.of(n) for n in page.notifications],
        next_cursor=page.next_cursor,
    )


@post("/{notification_id:str}/read", guards=PLAYER, security=PLAYER_AUTH, status_code=200)
async def mark_read(
    notification_id: FromPath[str], write_uow: WriteUow, principal: PlayerDep
) -> ReadOut:
    """The player's app read the notification; the game hears ``notification.read``."""
    read = await sends.mark_read(
        write_uow, player_id=principal.player_id, notification_id=notification_id
    )
    return ReadOut(id=read.id, status=read.status.value, read_at=read.read_at)


router = Router(
    "/api/v1/notifications",
    route_handlers=[
        register, list_devices, remove_device, vapid_public_key, send, status, inbox, mark_read,
    ],
    dependencies=DEPENDENCIES,
    exception_handlers=exception_handlers(render),
    tags=["ogs"],
)  # fmt: skip
