"""Admin API: a game's BattlePlace project settings (which client auth backends it accepts).

``PUT`` changes the fields it is given and keeps the others; ``null`` clears the Steam app id
or a secret. Secrets are write-only: ``GET`` tells whether each is set, never its value.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, put
from litestar.params import FromPath, JSONBody

from gamekeeper.api.deps import ActorDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.admin.schemas import UNSET, Unset, Wire
from gamekeeper.core.matchmaking import projects
from gamekeeper.core.matchmaking.projects import ProjectSettings

Secret = Annotated[str, msgspec.Meta(max_length=256)]


class BattlePlaceSettingsIn(Wire):
    itch_enabled: bool | Unset = UNSET
    steam_app_id: int | Unset | None = UNSET
    steam_app_key: Secret | Unset | None = UNSET  # 64 hex digits
    steam_publisher_key: Secret | Unset | None = UNSET
    steam_ticket_max_age: int | Unset = UNSET  # seconds


class BattlePlaceSettingsOut(Wire):
    itch_enabled: bool
    steam_app_id: int | None
    steam_app_key_set: bool
    steam_publisher_key_set: bool
    steam_ticket_max_age: int

    @classmethod
    def of(cls, value: ProjectSettings) -> BattlePlaceSettingsOut:
        return cls(
            itch_enabled=value.itch_enabled,
            steam_app_id=value.steam_app_id,
            steam_app_key_set=value.sealed_app_key is not None,
            steam_publisher_key_set=value.sealed_publisher_key is not None,
            steam_ticket_max_age=value.steam_ticket_max_age,
        )


@get("/games/{game_id:str}/battleplace")
async def get_battleplace_settings(
    game_id: FromPath[str], read_uow: ReadUow
) -> BattlePlaceSettingsOut:
    return BattlePlaceSettingsOut.of(await projects.get_project_settings(read_uow, game_id))


@put("/games/{game_id:str}/battleplace")
async def put_battleplace_settings(
    game_id: FromPath[str],
    data: JSONBody[BattlePlaceSettingsIn],
    write_uow: WriteUow,
    runtime: RuntimeDep,
    actor: ActorDep,
) -> BattlePlaceSettingsOut:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not UNSET}
    updated = await projects.update_project_settings(
        write_uow, game_id=game_id, changes=changes, box=runtime.box, actor=actor
    )
    return BattlePlaceSettingsOut.of(updated)


ROUTES = [get_battleplace_settings, put_battleplace_settings]
