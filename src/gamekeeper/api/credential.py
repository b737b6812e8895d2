"""``GET /gamekeeper/v1/credential``: lets a game server check which game its key speaks for."""

from __future__ import annotations

import msgspec
from litestar import Router, get

from gamekeeper.api.deps import KeyPrincipalDep
from gamekeeper.api.errors import default_envelope, exception_handlers
from gamekeeper.api.guards import guards, require_key


class CredentialOut(msgspec.Struct, rename="camel"):
    key_id: str
    game_id: str
    kind: str
    scopes: list[str]


@get("/credential", summary="The game, kind and scopes of the calling key")
async def describe_credential(principal: KeyPrincipalDep) -> CredentialOut:
    return CredentialOut(
        key_id=principal.credential_id,
        game_id=principal.game_id,
        kind=principal.kind.value,
        scopes=sorted(principal.scopes),
    )


router = Router(
    "/gamekeeper/v1",
    route_handlers=[describe_credential],
    guards=guards(require_key(), server_to_server=True),
    exception_handlers=exception_handlers(default_envelope),
    tags=["gamekeeper"],
    security=[{"gameKey": []}],
)
