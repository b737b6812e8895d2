"""Admin API: a game's push provider credentials (APNs, FCM, Expo).

``PUT`` sets the providers it is given and keeps the others; ``null`` clears one. Credentials
are write-only: ``GET`` tells which are set. The shapes are those of
``core/notify/credentials.py``; a device registered by the game's app (``gameId`` at
registration) is sent to with these, other devices with the deployment's defaults.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, put
from litestar.params import FromPath, JSONBody

from gamekeeper.api.deps import ActorDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.admin.schemas import UNSET, Unset, Wire
from gamekeeper.core.notify import credentials
from gamekeeper.core.notify.types import ProviderName


class PushCredentialsIn(Wire):
    apns: dict[str, Any] | Unset | None = UNSET  # {keyP8, keyId, teamId, topic, environment?}
    fcm: dict[str, Any] | Unset | None = UNSET  # {serviceAccount}
    expo: dict[str, Any] | Unset | None = UNSET  # {accessToken?}


class PushCredentialsOut(Wire):
    apns_set: bool
    fcm_set: bool
    expo_set: bool

    @classmethod
    def of(cls, value: dict[ProviderName, bool]) -> PushCredentialsOut:
        return cls(
            apns_set=value[ProviderName.APNS],
            fcm_set=value[ProviderName.FCM],
            expo_set=value[ProviderName.EXPO],
        )


@get("/games/{game_id:str}/push")
async def get_push_credentials(game_id: FromPath[str], read_uow: ReadUow) -> PushCredentialsOut:
    return PushCredentialsOut.of(await credentials.credentials_set(read_uow, game_id=game_id))


@put("/games/{game_id:str}/push")
async def put_push_credentials(
    game_id: FromPath[str],
    data: JSONBody[PushCredentialsIn],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> PushCredentialsOut:
    changes = {
        ProviderName(name): value
        for name, value in msgspec.structs.asdict(data).items()
        if value is not UNSET
    }
    now_set = await credentials.set_credentials(
        write_uow, game_id=game_id, changes=changes, box=runtime.box, actor=actor
    )
    return PushCredentialsOut.of(now_set)


ROUTES = [get_push_credentials, put_push_credentials]
