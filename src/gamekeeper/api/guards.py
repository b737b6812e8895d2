"""Authentication and rate-limit guards every dialect uses.

Guards run before the body is parsed. A guard that authenticates puts the principal in
``scope["state"]["principal"]``; handlers receive it through the ``principal`` dependency.
Keys, developer secrets and open sessions are resolved from a short-lived cache, so the hot
path makes no database round trip.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, Literal

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler

from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import Forbidden, GamekeeperError, RateLimited, Unauthorized
from gamekeeper.core.identity import auth, games, hmac_auth, sessions
from gamekeeper.core.identity.errors import InvalidApiKey, InvalidSession, SessionExpired
from gamekeeper.core.identity.types import (
    DeveloperPrincipal,
    KeyKind,
    KeyPrincipal,
    PlayerPrincipal,
)
from gamekeeper.core.owners.types import OwnerKind
from gamekeeper.core.secrets import hash_secret
from gamekeeper.runtime import Runtime

Connection = ASGIConnection[Any, Any, Any, Any]
Guard = Callable[[Connection, BaseRouteHandler], Coroutine[Any, Any, None]]
Principal = KeyPrincipal | DeveloperPrincipal | PlayerPrincipal | Actor


def runtime_of(connection: Connection) -> Runtime:
    runtime: Runtime = connection.app.state.runtime
    return runtime


def client_ip(connection: Connection) -> str:
    return connection.client.host if connection.client else "unknown"


def bearer_token(connection: Connection) -> str | None:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _state(connection: Connection) -> dict[str, Any]:
    state: dict[str, Any] = connection.scope.setdefault("state", {})
    return state


async def limit(connection: Connection, category: str, identity: str) -> None:
    """Count one request of ``identity`` against ``category``; RateLimited when over."""
    limiter = runtime_of(connection).limiter
    if not limiter.enabled:
        return  # nothing counted, no headers: as the limiter's UNLIMITED answer would say
    decision = await limiter.hit(category, identity)
    state = _state(connection)
    current = state.get("rate_limit")
    if current is None or decision.remaining <= current.remaining:
        state["rate_limit"] = decision
    if not decision.allowed:
        raise RateLimited(retry_after=decision.reset_after)


async def rate_limit_ip(connection: Connection, handler: BaseRouteHandler) -> None:
    """Every request counts against its client IP (routes may opt out with rate_limit=False).

    A route may name more per-IP categories in ``opt["per_ip"]`` (``PUBLIC`` does): they are
    counted here, after ``ip``, rather than by a guard of their own, as Litestar hands every
    guard its own copy of the route handler.
    """
    if not handler.opt.get("rate_limit", True) or not runtime_of(connection).limiter.enabled:
        return
    ip = client_ip(connection)
    await limit(connection, "ip", ip)
    for category in handler.opt.get("per_ip", ()):
        await limit(connection, category, ip)


# The ``opt`` of unauthenticated routes: the ``public`` category per client IP, counted by
# ``rate_limit_ip`` (``@get(..., opt=PUBLIC)``).
PUBLIC: dict[str, Any] = {"per_ip": ("public",)}


async def rate_limit_public(connection: Connection, handler: BaseRouteHandler) -> None:
    """Unauthenticated routes: the ``public`` category, per client IP (see also ``PUBLIC``)."""
    await limit(connection, "public", client_ip(connection))


def rate_limit(category: str, *, per: Literal["developer", "ip"] = "ip") -> Guard:
    """A guard counting a route against ``category`` per client IP or per signed developer.

    Per developer, it goes after the guard that authenticates the developer.
    """

    async def guard(connection: Connection, _: BaseRouteHandler) -> None:
        if per == "ip":
            await limit(connection, category, client_ip(connection))
            return
        principal = principal_of(connection)
        if not isinstance(principal, DeveloperPrincipal):
            raise Forbidden("This route is for developers", code="wrong_principal")
        await limit(connection, category, "developer:" + principal.developer_id)

    return guard


# Brute-force protection. An address that keeps failing is answered 429 instead of 401 and
# costs no more storage reads or audit writes. A credential that is already cached keeps
# working: one guesser behind a shared address must not lock out the game servers beside it.
_LOCKED_OUT = "Too many failed authentications from this address"


async def _refuse_if_locked_out(connection: Connection) -> None:
    decision = await runtime_of(connection).limiter.check("auth_failure", client_ip(connection))
    if not decision.allowed:
        raise RateLimited(_LOCKED_OUT, retry_after=decision.reset_after)


async def refuse_locked_out(connection: Connection, _: BaseRouteHandler) -> None:
    """Routes that authenticate from their body: an address over its failures is turned away
    before any work."""
    await _refuse_if_locked_out(connection)


async def refuse_credential(
    connection: Connection, method: str, error: GamekeeperError
) -> GamekeeperError:
    """Count and audit a refused credential; returns the error for the caller to raise.

    Audited in a transaction of its own: call it before the request opens one.
    """
    runtime = runtime_of(connection)
    ip = client_ip(connection)
    decision = await runtime.limiter.hit("auth_failure", ip)
    if not decision.allowed:
        return RateLimited(_LOCKED_OUT, retry_after=decision.reset_after)
    async with runtime.db.transaction() as uow:
        await auth.record_auth_failure(
            uow,
            method=method,
            reason=error.code,
            actor=Actor("anonymous", ip=ip),
            path=connection.scope.get("path_template", connection.url.path),
        )
    return error


def _authenticated(connection: Connection, principal: Principal) -> None:
    _state(connection)["principal"] = principal


async def resolve_key(connection: Connection, key: str) -> KeyPrincipal | None:
    """The principal of an active key, from the cache or the database."""
    runtime = runtime_of(connection)
    key_hash = hash_secret(key)
    cached: KeyPrincipal | None = runtime.cache.get("key:" + key_hash)
    if cached is None:
        await _refuse_if_locked_out(connection)
        generation = runtime.cache.generation
        async with runtime.db.transaction(write=False) as uow:
            cached = await auth.resolve_key(uow, key_hash)
        if cached is None:
            return None
        runtime.cache.put(
            "key:" + key_hash,
            cached,
            tag=f"credential:{cached.credential_id}",
            generation=generation,
        )
    runtime.usage.saw(cached.credential_id, runtime.clock())
    return cached


def require_key(
    *kinds: KeyKind,
    owner: OwnerKind = OwnerKind.GAME,
    scope: str | None = None,
    category: str = "server",
    extract: Callable[[Connection], str | None] = bearer_token,
) -> Guard:
    """A guard admitting an active key of ``owner``'s kind, of one of ``kinds``, with ``scope``.

    A dialect speaks for one kind of owner: a game's dialects admit game keys, the tournament
    operator API operator keys, the platform API platform keys.
    """
    allowed = frozenset(kinds or KeyKind)

    async def guard(connection: Connection, _: BaseRouteHandler) -> None:
        key = extract(connection)
        if not key:
            raise await refuse_credential(
                connection, "key", Unauthorized("An API key is required", code="missing_auth")
            )
        principal = await resolve_key(connection, key)
        if principal is None:
            raise await refuse_credential(connection, "key", InvalidApiKey())
        if principal.owner.kind is not owner:
            raise Forbidden(
                f"This API takes {owner.value} keys, not {principal.owner.kind.value} keys",
                code="wrong_key_owner",
            )
        if principal.kind not in allowed:
            raise Forbidden(
                f"A {principal.kind.value} key may not call this API", code="wrong_key_kind"
            )
        if scope is not None and not principal.allows(scope):
            raise Forbidden(f"The key lacks the {scope} scope", code="insufficient_scope")
        _authenticated(connection, principal)
        await limit(connection, category, principal.credential_id)

    return guard


async def require_admin(connection: Connection, _: BaseRouteHandler) -> None:
    """The admin token, compared in constant time."""
    runtime = runtime_of(connection)
    token = bearer_token(connection) or ""
    presented = hashlib.sha256(token.encode()).digest()
    if not token or not hmac.compare_digest(presented, runtime.admin_token_hash):
        raise await refuse_credential(
            connection,
            "admin",
            Unauthorized("The admin token is missing or wrong", code="invalid_auth"),
        )
    _authenticated(connection, Actor("admin", ip=client_ip(connection)))
    await limit(connection, "admin", "admin")


async def _developer_secret(connection: Connection, developer_id: str) -> str | None:
    runtime = runtime_of(connection)
    cache_key = "secret:" + developer_id
    secret: str | None = runtime.cache.get(cache_key)
    if secret is None:
        await _refuse_if_locked_out(connection)
        generation = runtime.cache.generation
        async with runtime.db.transaction(write=False) as uow:
            secret = await games.developer_secret(uow, developer_id, box=runtime.box)
        if secret is not None:
            runtime.cache.put(
                cache_key, secret, tag=f"developer:{developer_id}", generation=generation
            )
    return secret


async def require_hmac(connection: Connection, _: BaseRouteHandler) -> None:
    """An OGP request signature by a developer (HMAC-SHA256 of method, path, timestamp)."""
    runtime = runtime_of(connection)
    try:
        signed = hmac_auth.parse_header(connection.headers.get("authorization", ""))
        seconds = hmac_auth.check_timestamp(signed.timestamp, runtime.clock().timestamp())
        secret = (
            await _developer_secret(connection, signed.api_key)
            if _is_uuid(signed.api_key)
            else None
        )
        if secret is None:
            raise Unauthorized("Unknown API key", code="invalid_api_key")
        hmac_auth.verify(secret, signed, _method(connection), connection.url.path)
        if _method(connection) not in _READS and not await runtime.replays.first_use(
            f"ogp:{signed.api_key}:{signed.signature}", until=seconds + hmac_auth.WINDOW_SECONDS
        ):
            raise hmac_auth.SignatureReused()
    except Unauthorized as exc:
        raise await refuse_credential(connection, "hmac", exc) from None
    _authenticated(connection, DeveloperPrincipal(signed.api_key))
    await limit(connection, "server", "developer:" + signed.api_key)


_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def _method(connection: Connection) -> str:
    return str(connection.scope.get("method", "GET"))


def _is_uuid(value: str) -> bool:
    return len(value) == 36 and value.count("-") == 4


async def require_player(connection: Connection, _: BaseRouteHandler) -> None:
    """A player's session token (JWT) whose session is still open."""
    token = bearer_token(connection)
    if not token:
        raise await refuse_credential(
            connection, "session", Unauthorized("A session token is required", code="missing_auth")
        )
    principal = await player_of(connection, token)
    _authenticated(connection, principal)
    await limit(connection, "player", principal.player_id)


async def session_open(connection: Connection, principal: PlayerPrincipal) -> None:
    """InvalidSession unless the player's session is still open (cached until revoked)."""
    runtime = runtime_of(connection)
    cache_key = "session:" + principal.session_id
    if runtime.cache.get(cache_key) is None:
        await _refuse_if_locked_out(connection)
        generation = runtime.cache.generation
        async with runtime.db.transaction(write=False) as uow:
            await sessions.check_session(uow, principal)
        runtime.cache.put(cache_key, True, tag=cache_key, generation=generation)


async def player_of(connection: Connection, token: str) -> PlayerPrincipal:
    """The player of a session token whose session is still open (a header's, or a WebSocket
    frame's); a refused token is counted and audited as any refused credential."""
    runtime = runtime_of(connection)
    try:
        principal = sessions.read_access_token(
            token, policy=runtime.session_policy, now=runtime.clock()
        )
        await session_open(connection, principal)
    except SessionExpired:
        raise  # authentic but past its lifetime: the client refreshes, no guess
    except (InvalidSession, Unauthorized) as exc:
        raise await refuse_credential(connection, "session", exc) from None
    return principal


async def refuse_browsers(connection: Connection, _: BaseRouteHandler) -> None:
    """Server-to-server routes: a request that carries an Origin header came from a browser."""
    if "origin" in connection.headers:
        raise Forbidden(
            "This API is for game servers; browsers may not call it", code="browser_origin_refused"
        )


def principal_of(connection: Connection) -> Principal:
    principal: Principal | None = _state(connection).get("principal")
    if principal is None:
        raise Unauthorized()
    return principal


def guards(*items: Guard, server_to_server: bool = False) -> list[Guard]:
    """A guard list for a router: browsers refused first when ``server_to_server``.

    The guards are folded into one: Litestar hands each guard its own copy of the route
    handler, a cost paid per guard and request.
    """
    prefix: Iterable[Guard] = (refuse_browsers,) if server_to_server else ()
    chain = (*prefix, *items)
    if len(chain) <= 1:
        return list(chain)

    async def all_of(connection: Connection, handler: BaseRouteHandler) -> None:
        for guard in chain:
            await guard(connection, handler)

    return [all_of]
