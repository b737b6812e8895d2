"""The push notification store in SQL: devices, notifications, deliveries, credentials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from gamekeeper.core.notify.types import (
    Content,
    DeliveryDetail,
    DeliveryStatus,
    Device,
    NewDevice,
    Notification,
    NotificationStatus,
    Platform,
    Priority,
    ProviderName,
)
from gamekeeper.db.tables.notify import notification, push_credential, push_delivery, push_device

_DEVICE = [c for c in push_device.c if c.name not in {"token_hash", "token_sealed"}]


def device_of(row: RowMapping) -> Device:
    topics = row["topics"]
    return Device(
        id=row["id"],
        player_id=row["player_id"],
        platform=Platform(row["platform"]),
        provider=ProviderName(row["provider"]),
        topics=None if topics is None else tuple(topics),
        active=row["active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        game_id=row["game_id"],
        deactivated_reason=row["deactivated_reason"],
    )


def notification_of(row: RowMapping) -> Notification:
    return Notification(
        id=row["id"],
        seq=row["seq"],
        game_id=row["game_id"],
        player_id=row["player_id"],
        game_user_id=row["game_user_id"],
        content=Content(
            type=row["type"],
            title=row["title"],
            body=row["body"],
            data=row["data"],
            deep_link=row["deep_link"],
            ttl=row["ttl"],
            collapse_key=row["collapse_key"],
            priority=Priority(row["priority"]),
        ),
        status=NotificationStatus(row["status"]),
        reason=row["reason"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        delivered_at=row["delivered_at"],
        read_at=row["read_at"],
        idempotency_key=row["idempotency_key"],
    )


class SqlNotifyStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    def _insert(self) -> Any:
        return postgresql.insert if self._conn.dialect.name == "postgresql" else sqlite.insert

    async def upsert_device(self, new: NewDevice) -> Device:
        d = new.device
        values = {
            "player_id": d.player_id,
            "game_id": d.game_id,
            "platform": d.platform.value,
            "provider": d.provider.value,
            "token_sealed": new.sealed_token,
            "topics": None if d.topics is None else list(d.topics),
            "active": True,
            "deactivated_reason": None,
            "updated_at": d.updated_at,
        }
        statement = self._insert()(push_device).values(
            id=d.id, token_hash=new.token_hash, created_at=d.created_at, **values
        )
        statement = statement.on_conflict_do_update(
            index_elements=[push_device.c.token_hash], set_=values
        ).returning(*_DEVICE)
        row = (await self._conn.execute(statement)).mappings().one()
        return device_of(row)

    async def _device(self, *where: Any) -> Device | None:
        row = (await self._conn.execute(select(*_DEVICE).where(*where))).mappings().first()
        return None if row is None else device_of(row)

    async def get_device(self, device_id: str) -> Device | None:
        return await self._device(push_device.c.id == device_id)

    async def get_device_by_hash(self, token_hash: str) -> Device | None:
        return await self._device(push_device.c.token_hash == token_hash)

    async def list_devices(self, player_id: str, *, limit: int) -> list[Device]:
        rows = await self._conn.execute(
            select(*_DEVICE)
            .where(push_device.c.player_id == player_id)
            .order_by(push_device.c.created_at.desc(), push_device.c.id)
            .limit(limit)
        )
        return [device_of(row) for row in rows.mappings()]

    async def count_devices(self, player_id: str) -> int:
        statement = select(func.count()).where(
            push_device.c.player_id == player_id, push_device.c.active.is_(True)
        )
        return int((await self._conn.execute(statement)).scalar_one())

    async def delete_device(self, device_id: str) -> None:
        await self._conn.execute(delete(push_device).where(push_device.c.id == device_id))

    async def recipient_devices(self, player_id: str, game_id: str) -> list[Device]:
        rows = await self._conn.execute(
            select(*_DEVICE).where(
                push_device.c.player_id == player_id,
                push_device.c.active.is_(True),
                (push_device.c.game_id.is_(None)) | (push_device.c.game_id == game_id),
            )
        )
        return [device_of(row) for row in rows.mappings()]

    async def add_notification(
        self, value: Notification, deliveries: Sequence[tuple[str, Device]]
    ) -> Notification | None:
        c = value.content
        statement = (
            self._insert()(notification)
            .values(
                id=value.id,
                game_id=value.game_id,
                player_id=value.player_id,
                game_user_id=value.game_user_id,
                type=c.type,
                title=c.title,
                body=c.body,
                data=c.data,
                deep_link=c.deep_link,
                ttl=c.ttl,
                collapse_key=c.collapse_key,
                priority=c.priority.value,
                status=value.status.value,
                reason=value.reason,
                idempotency_key=value.idempotency_key,
                created_at=value.created_at,
            )
            .on_conflict_do_nothing(index_elements=["game_id", "idempotency_key"])
            .returning(notification.c.seq)
        )
        seq = (await self._conn.execute(statement)).scalar()
        if seq is None:
            return None
        if deliveries:
            await self._conn.execute(
                insert(push_delivery),
                [
                    {
                        "id": delivery_id,
                        "notification_id": value.id,
                        "device_id": device.id,
                        "platform": device.platform.value,
                        "provider": device.provider.value,
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": value.created_at,
                        "created_at": value.created_at,
                    }
                    for delivery_id, device in deliveries
                ],
            )
        return Notification(**{**_fields(value), "seq": seq})

    async def _notification(self, *where: Any) -> Notification | None:
        row = (await self._conn.execute(select(notification).where(*where))).mappings().first()
        return None if row is None else notification_of(row)

    async def get_notification(self, notification_id: str) -> Notification | None:
        return await self._notification(notification.c.id == notification_id)

    async def find_idempotent(self, game_id: str, key: str) -> Notification | None:
        return await self._notification(
            notification.c.game_id == game_id, notification.c.idempotency_key == key
        )

    async def mark_read(self, notification_id: str, at: datetime) -> bool:
        result = await self._conn.execute(
            update(notification)
            .where(notification.c.id == notification_id, notification.c.read_at.is_(None))
            .values(read_at=at, status=NotificationStatus.READ.value)
        )
        return bool(result.rowcount)

    async def inbox(self, player_id: str, *, limit: int, before: int | None) -> list[Notification]:
        statement = select(notification).where(notification.c.player_id == player_id)
        if before is not None:
            statement = statement.where(notification.c.seq < before)
        rows = await self._conn.execute(statement.order_by(notification.c.seq.desc()).limit(limit))
        return [notification_of(row) for row in rows.mappings()]

    async def delivery_counts(self, notification_id: str) -> dict[DeliveryStatus, int]:
        rows = await self._conn.execute(
            select(push_delivery.c.status, func.count())
            .where(push_delivery.c.notification_id == notification_id)
            .group_by(push_delivery.c.status)
        )
        return {DeliveryStatus(status): count for status, count in rows}

    async def deliveries(self, notification_id: str, *, limit: int) -> list[DeliveryDetail]:
        rows = await self._conn.execute(
            select(push_delivery)
            .where(push_delivery.c.notification_id == notification_id)
            .order_by(push_delivery.c.created_at, push_delivery.c.id)
            .limit(limit)
        )
        return [
            DeliveryDetail(
                id=row["id"],
                device_id=row["device_id"],
                platform=Platform(row["platform"]),
                provider=ProviderName(row["provider"]),
                status=DeliveryStatus(row["status"]),
                attempts=row["attempts"],
                error=row["last_error"],
                delivered_at=row["delivered_at"],
            )
            for row in rows.mappings()
        ]

    async def push_credentials(self, game_id: str) -> dict[ProviderName, str]:
        rows = await self._conn.execute(
            select(push_credential.c.provider, push_credential.c.sealed).where(
                push_credential.c.game_id == game_id
            )
        )
        return {ProviderName(provider): sealed for provider, sealed in rows}

    async def set_push_credentials(
        self, game_id: str, sealed: Mapping[ProviderName, str | None], at: datetime
    ) -> None:
        cleared = [p.value for p, value in sealed.items() if value is None]
        if cleared:
            await self._conn.execute(
                delete(push_credential).where(
                    push_credential.c.game_id == game_id, push_credential.c.provider.in_(cleared)
                )
            )
        for provider, value in sealed.items():
            if value is None:
                continue
            statement = self._insert()(push_credential).values(
                game_id=game_id, provider=provider.value, sealed=value, updated_at=at
            )
            await self._conn.execute(
                statement.on_conflict_do_update(
                    index_elements=["game_id", "provider"],
                    set_={"sealed": value, "updated_at": at},
                )
            )


def _fields(value: Notification) -> dict[str, Any]:
    return {name: getattr(value, name) for name in Notification.__dataclass_fields__}
