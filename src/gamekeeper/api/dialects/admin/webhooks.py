"""Admin API: an owner's webhooks, their secrets and deliveries.

Mounted under each owner's path (``/games/{id}``, ``/operators/{id}``, ``/platforms/{id}``;
``owners.owned_router``), which provides the ``owner`` dependency.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from gamekeeper.api.deps import ActorDep, OwnerDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.admin import webhook_schemas as s
from gamekeeper.core.events import webhooks
from gamekeeper.core.events.store import WebhookFormat
from gamekeeper.core.identity.owners import check_owner

Limit = Annotated[int, QueryParameter(ge=1, le=200)]
BASE = "/webhooks"


@post(BASE)
async def create_webhook(
    owner: OwnerDep,
    data: JSONBody[s.WebhookCreate],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> s.WebhookCreated:
    await check_owner(write_uow, owner)
    webhook, secret = await webhooks.create_webhook(
        write_uow, owner=owner, url=data.url, event_types=data.event_types,
        fmt=WebhookFormat(data.format), secret=data.secret, box=runtime.box, actor=actor,
        refusal=runtime.http.refusal,
    )  # fmt: skip
    return s.WebhookCreated(**msgspec.structs.asdict(s.WebhookOut.of(webhook)), secret=secret)


@get(BASE)
async def list_webhooks(owner: OwnerDep, read_uow: ReadUow) -> s.WebhookList:
    await check_owner(read_uow, owner)
    found = await webhooks.list_webhooks(read_uow, owner=owner)
    return s.WebhookList(items=[s.WebhookOut.of(w) for w in found])


@get(BASE + "/{webhook_id:str}")
async def get_webhook(
    owner: OwnerDep, webhook_id: FromPath[str], read_uow: ReadUow
) -> s.WebhookOut:
    return s.WebhookOut.of(await webhooks.get_webhook(read_uow, owner=owner, webhook_id=webhook_id))


@patch(BASE + "/{webhook_id:str}")
async def update_webhook(
    owner: OwnerDep,
    webhook_id: FromPath[str],
    data: JSONBody[s.WebhookUpdate],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> s.WebhookOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    updated = await webhooks.update_webhook(
        write_uow, owner=owner, webhook_id=webhook_id, changes=changes, actor=actor,
        refusal=runtime.http.refusal,
    )  # fmt: skip
    return s.WebhookOut.of(updated)


@delete(BASE + "/{webhook_id:str}")
async def delete_webhook(
    owner: OwnerDep, webhook_id: FromPath[str], write_uow: WriteUow, actor: ActorDep
) -> None:
    await webhooks.delete_webhook(write_uow, owner=owner, webhook_id=webhook_id, actor=actor)


@post(BASE + "/{webhook_id:str}/secret", status_code=200)
async def rotate_secret(
    owner: OwnerDep,
    webhook_id: FromPath[str],
    data: JSONBody[s.SecretRotate],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> s.SecretOut:
    secret = await webhooks.rotate_secret(
        write_uow, owner=owner, webhook_id=webhook_id, secret=data.secret, box=runtime.box,
        actor=actor,
    )  # fmt: skip
    return s.SecretOut(secret=secret)


@post(BASE + "/{webhook_id:str}/test", status_code=202)
async def send_test(owner: OwnerDep, webhook_id: FromPath[str], write_uow: WriteUow) -> s.TestSent:
    event_id = await webhooks.send_test_event(write_uow, owner=owner, webhook_id=webhook_id)
    return s.TestSent(event_id=event_id)


@get(BASE + "/{webhook_id:str}/deliveries")
async def list_deliveries(
    owner: OwnerDep,
    webhook_id: FromPath[str],
    read_uow: ReadUow,
    limit: Limit = 50,
    before: FromQuery[str | None] = None,
) -> s.DeliveryPage:
    found = await webhooks.list_deliveries(
        read_uow, owner=owner, webhook_id=webhook_id, limit=limit, before=before
    )
    next_before = found[-1].id if len(found) == limit else None
    return s.DeliveryPage(items=[s.DeliveryOut.of(d) for d in found], next_before=next_before)


@post(BASE + "/{webhook_id:str}/deliveries/{delivery_id:str}/replay", status_code=202)
async def replay_delivery(
    owner: OwnerDep,
    webhook_id: FromPath[str],
    delivery_id: FromPath[str],
    write_uow: WriteUow,
    actor: ActorDep,
) -> s.DeliveryOut:
    replayed = await webhooks.replay_delivery(
        write_uow, owner=owner, webhook_id=webhook_id, delivery_id=delivery_id, actor=actor
    )
    return s.DeliveryOut.of(replayed)


ROUTES = [
    create_webhook,
    list_webhooks,
    get_webhook,
    update_webhook,
    delete_webhook,
    rotate_secret,
    send_test,
    list_deliveries,
    replay_delivery,
]
