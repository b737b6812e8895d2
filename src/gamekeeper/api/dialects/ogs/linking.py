"""Account links: the game server's link tokens, and the player's list of links."""

from __future__ import annotations

from litestar import delete, get, post
from litestar.openapi.spec import SecurityRequirement
from litestar.params import FromPath, JSONBody

from gamekeeper.api.deps import ActorDep, KeyPrincipalDep, PlayerDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.ogs.context import AccountsDep
from gamekeeper.api.dialects.ogs.schemas import (
    LinkCheckOut,
    LinkOut,
    LinksOut,
    LinkTokenIn,
    LinkTokenOut,
    TokenIn,
)
from gamekeeper.api.guards import Guard, guards, require_key, require_player
from gamekeeper.core import accounts
from gamekeeper.core.identity.types import KeyKind

GAME_AUTH: list[SecurityRequirement] = [{"gameKey": []}]
PLAYER: list[Guard] = [require_player]
PLAYER_AUTH: list[SecurityRequirement] = [{"playerSession": []}]
LINK_PAGE = "/link-account"


@post(
    "/account-link-token",
    guards=guards(require_key(KeyKind.SERVER, scope="players.write"), server_to_server=True),
    status_code=200,
    security=GAME_AUTH,
)
async def account_link_token(
    data: JSONBody[LinkTokenIn],
    write_uow: WriteUow,
    principal: KeyPrincipalDep,
    runtime: RuntimeDep,
    account_ctx: AccountsDep,
) -> LinkTokenOut:
    """A link token for one of the game's users; send the player to ``linkUrl``."""
    issued = await accounts.create_link_token(
        write_uow,
        game_id=principal.game_id,
        game_user_id=data.game_user_id,
        redirect_url=data.redirect_url,
        ctx=account_ctx,
    )
    link_url = f"{runtime.settings.base_url}{LINK_PAGE}?token={issued.token}"
    return LinkTokenOut(
        link_token=issued.token, expires_at=issued.request.expires_at, link_url=link_url
    )


@post(
    "/verify-link-token",
    guards=guards(require_key(KeyKind.SERVER, scope="players.read"), server_to_server=True),
    status_code=200,
    security=GAME_AUTH,
)
async def verify_link_token(
    data: JSONBody[TokenIn], write_uow: WriteUow, principal: KeyPrincipalDep
) -> LinkCheckOut:
    """The token's status; ``valid: false`` for unknown, expired or another game's tokens."""
    check = await accounts.check_link_token(write_uow, token=data.token, game_id=principal.game_id)
    return LinkCheckOut.of(check)


@get("/links", guards=PLAYER, security=PLAYER_AUTH)
async def list_links(read_uow: ReadUow, principal: PlayerDep) -> LinksOut:
    """The signed-in player's links to game accounts."""
    links = await accounts.list_links(read_uow, player_id=principal.player_id)
    return LinksOut(links=[LinkOut.of(link) for link in links])


@delete("/links/{game_id:str}", status_code=204, guards=PLAYER, security=PLAYER_AUTH)
async def remove_link(
    game_id: FromPath[str], write_uow: WriteUow, principal: PlayerDep, actor: ActorDep
) -> None:
    """Remove the player's link with a game (one per game); the game sees ``unlinked``."""
    await accounts.remove_link(
        write_uow, player_id=principal.player_id, game_id=game_id, actor=actor
    )


ROUTES = [account_link_token, verify_link_token, list_links, remove_link]
