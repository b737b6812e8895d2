"""``POST /v1a/client/auth``: a game client trades one backend's credentials for a client token.

Refusals answer 401 ``{"status": "notAuthenticated", "error": <reason>, "code"}``; an identity
provider that cannot be asked answers 503 ``unavailable``. Each refusal counts against the
``auth_failure`` limit of the client's address; an address over it is answered 429 before its
body is read. The Steam Web API ticket travels as ``steamAuthTicket`` (hex), a name of ours: the
BattlePlace documentation names the backend but not its field. No transaction is open while
itch.io or Steam is asked (see ``core.matchmaking.client_auth``).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import post
from litestar.params import JSONBody

from gamekeeper.api.deps import ActorDep, RuntimeDep
from gamekeeper.api.guards import refuse_locked_out
from gamekeeper.core.errors import Unauthorized
from gamekeeper.core.matchmaking.client_auth import (
    ClientAuthServices,
    ClientCredentials,
    authenticate_client,
)
from gamekeeper.runtime import Runtime

# The largest credential is an encrypted app ticket: 4 KiB at most, sent as hex.
MAX_AUTH_BODY = 16 * 1024
Token = Annotated[str, msgspec.Meta(max_length=4096)]
HexTicket = Annotated[str, msgspec.Meta(max_length=8192)]


class AuthIn(msgspec.Struct, rename="camel", kw_only=True):
    """Credentials for one backend; fields this version does not know are ignored."""

    test_key: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    test_id: Annotated[str, msgspec.Meta(max_length=64)] | int | None = None
    itch_jwt_token: Token | None = None
    itch_api_key: Token | None = None
    steam_encrypted_ticket: HexTicket | None = None
    steam_auth_ticket: HexTicket | None = None

    def credentials(self) -> ClientCredentials:
        return ClientCredentials(**msgspec.structs.asdict(self))


class ClientAuthIn(msgspec.Struct, rename="camel", kw_only=True):
    project_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    auth: AuthIn


class ClientAuthOut(msgspec.Struct, rename="camel", kw_only=True):
    status: str = "authenticated"
    client_token: str
    name: str
    picture_url: str | None


def services(runtime: Runtime) -> ClientAuthServices:
    return ClientAuthServices(
        itch=runtime.itch,
        steam=runtime.steam,
        box=runtime.box,
        signer=runtime.match_signer,
        token_ttl=runtime.settings.battleplace_client_token_ttl,
    )


@post(
    "/client/auth",
    guards=[refuse_locked_out],
    request_max_body_size=MAX_AUTH_BODY,
    status_code=200,
    summary="Authenticate a game client with exactly one backend",
)
async def client_auth(
    data: JSONBody[ClientAuthIn], runtime: RuntimeDep, actor: ActorDep
) -> ClientAuthOut:
    try:
        client = await authenticate_client(
            runtime.db,
            project_id=data.project_id,
            auth=data.auth.credentials(),
            services=services(runtime),
            actor=actor,
            now=runtime.clock(),
        )
    except Unauthorized:
        await runtime.limiter.hit("auth_failure", actor.ip or "unknown")
        raise
    return ClientAuthOut(
        client_token=client.client_token, name=client.name, picture_url=client.picture_url
    )


ROUTES = [client_auth]
