"""OGP users: signatures, the caller's profile, another user's profile, secret rotation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial

from litestar import get, post
from litestar.params import FromPath, JSONBody

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
from gamekeeper.core.identity import games, hmac_auth
from gamekeeper.runtime import Runtime

_ISSUE_TRIES = 50


@post("/user/hmac-signature", opt={**PUBLIC, "errors": (401,)}, status_code=200)
async def hmac_signature(
    data: JSONBody[SignatureIn], write_uow: WriteUow, runtime: RuntimeDep, actor: ActorDep
) -> Envelope[SignatureOut]:
    secret = next((s for s in (data.secret_key, data.api_secret) if isinstance(s, str) and s), "")
    if not secret:
        raise InvalidInput("secretKey is required", code="missing_field")
    sign = partial(
        users.signature_header, write_uow, api_key=data.api_key, secret=secret,
        method=data.method, path=data.path, box=runtime.box, actor=actor,
    )  # fmt: skip
    return Envelope(data=SignatureOut(signature=await _fresh(runtime, sign)))


async def _fresh(runtime: Runtime, sign: Callable[..., Awaitable[str]]) -> str:
    """A header never handed out before: a signature of a write is good for one use, so two
    callers asking in the same millisecond get timestamps a millisecond apart."""
    now = runtime.clock()
    for step in range(_ISSUE_TRIES):
        at = now + timedelta(milliseconds=step)
        header = await sign(now=at)
        until = at.timestamp() + hmac_auth.WINDOW_SECONDS
        if await runtime.replays.first_use("issued:" + header, until=until):
            break
    return header


@get("/user/me", guards=[require_hmac])
async def me(read_uow: ReadUow, principal: DeveloperDep) -> Envelope[UserOut]:
    return Envelope(data=UserOut.of(await users.get_profile(read_uow, principal.developer_id)))


@get("/user/{user_id:str}", guards=[require_hmac])
async def get_user(
    user_id: FromPath[str], read_uow: ReadUow, principal: DeveloperDep
) -> Envelope[UserOut]:
    """Any user by id (the SDK's ``users.getById``); the email only of the caller themself."""
    profile = await users.get_user(read_uow, user_id=user_id, viewer_id=principal.developer_id)
    return Envelope(data=UserOut.of(profile))


@post("/user/reset-secret", guards=[require_hmac], status_code=200)
async def reset_secret(
    write_uow: WriteUow, principal: DeveloperDep, runtime: RuntimeDep, actor: ActorDep
) -> Envelope[SecretOut]:
    secret = await games.rotate_developer_secret(
        write_uow, developer_id=principal.developer_id, box=runtime.box, actor=actor
    )
    return Envelope(data=SecretOut(api_key=principal.developer_id, secret_key=secret))


ROUTES = [hmac_signature, me, get_user, reset_secret]
