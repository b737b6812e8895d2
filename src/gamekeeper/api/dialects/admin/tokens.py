"""Admin API: associate tokens with listed games (what OGP's by-token reads answer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import delete, post
from litestar.params import FromPath, JSONBody

from gamekeeper.api.deps import ActorDep, WriteUow
from gamekeeper.api.dialects.admin.schemas import Wire
from gamekeeper.core.catalog import tokens
from gamekeeper.core.catalog.types import GameToken

Label = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class TokenCreate(Wire):
    token_address: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    symbol: Label | None = None
    chain: Label | None = None


class TokenOut(Wire):
    token_address: str
    game_id: str
    symbol: str | None
    chain: str | None
    created_at: datetime

    @classmethod
    def of(cls, value: GameToken) -> TokenOut:
        return cls(
            token_address=value.token_address,
            game_id=value.game_id,
            symbol=value.symbol,
            chain=value.chain,
            created_at=value.created_at,
        )


@post("/games/{game_id:str}/tokens")
async def associate_token(
    game_id: FromPath[str], data: JSONBody[TokenCreate], write_uow: WriteUow, actor: ActorDep
) -> TokenOut:
    token = await tokens.associate_token(
        write_uow,
        game_id=game_id,
        address=data.token_address,
        symbol=data.symbol,
        chain=data.chain,
        actor=actor,
    )
    return TokenOut.of(token)


@delete("/games/{game_id:str}/tokens/{token_address:str}")
async def dissociate_token(
    game_id: FromPath[str], token_address: FromPath[str], write_uow: WriteUow, actor: ActorDep
) -> None:
    await tokens.dissociate_token(write_uow, game_id=game_id, address=token_address, actor=actor)


ROUTES = [associate_token, dissociate_token]
