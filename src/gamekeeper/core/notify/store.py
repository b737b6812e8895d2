"""What push notification services need from storage; ``gamekeeper.db.notify`` implements it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from gamekeeper.core.accounts.store import AccountsUow
from gamekeeper.core.notify.types import (
    DeliveryDetail,
    DeliveryStatus,
    Device,
    NewDevice,
    Notification,
    ProviderName,
)


class NotifyStore(Protocol):
    # Devices. A device token is stored once (by its hash): registering it again moves the row.
    async def upsert_device(self, new: NewDevice) -> Device:
        """Insert the device, or update the one with the same token hash; the stored row."""
        ...

    async def get_device(self, device_id: str) -> Device | None: ...
    async def get_device_by_hash(self, token_hash: str) -> Device | None: ...
    async def list_devices(self, player_id: str, *, limit: int) -> list[Device]: ...
    async def count_devices(self, player_id: str) -> int: ...
    async def delete_device(self, device_id: str) -> None: ...
    async def recipient_devices(self, player_id: str, game_id: str) -> list[Device]:
        """The player's active devices a game may reach: its own app's and the deployment's."""
        ...

    # Notifications and their deliveries (one per device, written with the notification).
    async def add_notification(
        self, notification: Notification, deliveries: Sequence[tuple[str, Device]]
    ) -> Notification | None:
        """Store it (the returned copy has its inbox ``seq``) and its pending deliveries;
        None if its idempotency key is taken (a concurrent send with that key won)."""
        ...

    async def get_notification(self, notification_id: str) -> Notification | None: ...
    async def find_idempotent(self, game_id: str, key: str) -> Notification | None: ...
    async def mark_read(self, notification_id: str, at: datetime) -> bool:
        """Set ``read`` once; False if it was read already."""
        ...

    async def inbox(
        self, player_id: str, *, limit: int, before: int | None
    ) -> list[Notification]: ...
    async def delivery_counts(self, notification_id: str) -> dict[DeliveryStatus, int]: ...
    async def deliveries(self, notification_id: str, *, limit: int) -> list[DeliveryDetail]: ...

    # Per-game provider credentials, sealed; a provider absent from the mapping is not set.
    async def push_credentials(self, game_id: str) -> dict[ProviderName, str]: ...
    async def set_push_credentials(
        self, game_id: str, sealed: Mapping[ProviderName, str | None], at: datetime
    ) -> None:
        """Set (a sealed value) or clear (None) each named provider; others keep theirs."""
        ...


class NotifyUow(AccountsUow, Protocol):
    """Push services: devices and sends, over account links, the outbox and the audit log."""

    @property
    def notify(self) -> NotifyStore: ...
