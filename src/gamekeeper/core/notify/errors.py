"""Push notification errors, each a subclass of a core category."""

from __future__ import annotations

from gamekeeper.core.errors import Conflict, InvalidInput, NotFound


class InvalidDeviceToken(InvalidInput):
    code = "invalid_device_token"
    message = "The device token is not valid for its platform"


class TooManyDevices(Conflict):
    code = "too_many_devices"
    message = "This account has as many devices as it may register; remove one first"


class DeviceNotFound(NotFound):
    code = "device_not_found"
    message = "No device with that id on this account"


class RecipientNotLinked(NotFound):
    code = "recipient_not_linked"
    message = "No player is linked to that gameUserId for this game"


class NotificationNotFound(NotFound):
    code = "notification_not_found"
    message = "No notification with that id"


class PayloadTooLarge(InvalidInput):
    code = "payload_too_large"
    message = "The notification does not fit a push provider's 4 KB payload"


class IdempotencyMismatch(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was used for a different notification"
