"""OGP users: signatures, the caller's profile, secret rotation."""

from __future__ import annotations

from litestar import get, post
from litestar.params import JSONBody

from gamekeeper.api.deps import ActorDep, DeveloperDep, ReadUow, RuntimeDep, WriteUow
from gamekeeper.api.dialects.ogp.schemas import (
    Envelope,
    SecretOut,
    SignatureIn,
    SignatureOut,
    UserOut,
)
from gamekeeper.api.guards import PUBLIC, require_hmac
from gamekeeper.core.catalog import users
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.identity import games


@post("/user/hmac-signature", opt=PUBLIC, status_code=200)
async def hmac_signature(
    data: JSONBody[SignatureIn], write_uow: WriteUow, runtime: RuntimeDep, actor: ActorDep
) -> Envelope[SignatureOut]:
    secret = next((s for s in (data.secret_key, data.api_secret) if isinstance(s, str) and s), "")
    if not secret:
        raise InvalidInput("secretKey is required", code="missing_field")
    header = await users.signature_header(
        write_uow,
        api_key=data.api_key,
        secret=secret,
        method=data.method,
        path=data.path,
        now=runtime.clock(),
        box=runtime.box,
        actor=actor,
    )
    return Envelope(data=SignatureOut(signature=header))


@get("/user/me", guards=[require_hmac])
async def me(read_uow: ReadUow, principal: DeveloperDep) -> Envelope[UserOut]:
    return Envelope(data=UserOut.of(await users.get_profile(read_uow, principal.developer_id)))


@post("/user/reset-secret", guards=[require_hmac], status_code=200)
async def reset_secret(
    write_uow: WriteUow, principal: DeveloperDep, runtime: RuntimeDep, actor: ActorDep
) -> Envelope[SecretOut]:
    secret = await games.rotate_developer_secret(
        write_uow, developer_id=principal.developer_id, box=runtime.box, actor=actor
    )
    return Envelope(data=SecretOut(api_key=principal.developer_id, secret_key=secret))


ROUTES = [hmac_signature, me, reset_secret]
