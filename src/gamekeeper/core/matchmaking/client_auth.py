"""BattlePlace client authentication: one backend's credentials in, a client token out.

The backends, by the field that names them in ``auth``:

    testKey + testId        a ``test`` key of the project; any test id is a test client
    itchJwtToken            the JWT the itch app gives a game it launches (itch.io verifies it)
    itchApiKey              an itch.io API key (itch.io verifies it)
    steamEncryptedTicket    a Steam Encrypted App Ticket as hex, decrypted with the app's key
    steamAuthTicket         a Steam Web API session ticket as hex (``GetAuthTicketForWebApi``),
                            checked with ``ISteamUserAuth/AuthenticateUserTicket``

Exactly one backend per request; none, several or a refused credential is ``NotAuthenticated``
(or the verifier's ``ExternalAuthRefused``), whose message is the reason shown to the client. An
unknown project is refused the same way: project ids are random and every copy of the game
carries its own, so naming the problem helps a developer and tells a stranger nothing. The
client becomes a player identity of the project (``test``, ``itch`` or ``steam``), created on
first sight.

``authenticate_client`` runs three steps, so that no transaction stays open while itch.io or
Steam is asked (on SQLite an open write transaction holds up every other writer):
``check_client`` reads what storage holds (the project's settings, the test key named),
``verify_client`` decides on the credentials without storage, ``sign_in_client`` writes the
player and issues the token in a short transaction. A refusal of the second step is audited
with ``audit_refusal``, in a transaction of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING

from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput, Unauthorized
from gamekeeper.core.identity.auth import record_auth_failure, resolve_key
from gamekeeper.core.identity.players import player_for_identity
from gamekeeper.core.identity.types import KeyKind, KeyPrincipal
from gamekeeper.core.matchmaking import projects
from gamekeeper.core.matchmaking.errors import NotAuthenticated
from gamekeeper.core.matchmaking.external import ExternalUser, ItchVerifier, SteamVerifier
from gamekeeper.core.matchmaking.steam_ticket import decrypt_app_ticket, ticket_from_hex
from gamekeeper.core.matchmaking.store import MatchmakingUow
from gamekeeper.core.secrets import SecretBox, hash_secret
from gamekeeper.core.transactions import Transactions

if TYPE_CHECKING:
    from gamekeeper.core.matchmaking.tokens import Signer

__all__ = [
    "AuthenticatedClient",
    "ClientAuthServices",
    "ClientCheck",
    "ClientCredentials",
    "ClientIdentity",
    "audit_refusal",
    "authenticate_client",
    "check_client",
    "is_audited",
    "sign_in_client",
    "verify_client",
]

MAX_TEST_ID = 64
MAX_NAME = 120
# The wire name of each credential field, for the reasons shown to clients.
WIRE_NAMES = {
    "test_key": "testKey",
    "test_id": "testId",
    "itch_jwt_token": "itchJwtToken",
    "itch_api_key": "itchApiKey",
    "steam_encrypted_ticket": "steamEncryptedTicket",
    "steam_auth_ticket": "steamAuthTicket",
}
_ONE_BACKEND = (
    "auth must hold credentials for exactly one backend: testKey with testId, itchJwtToken, "
    "itchApiKey, steamEncryptedTicket or steamAuthTicket"
)


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """What the client sent in ``auth``; None where a field was absent."""

    test_key: str | None = None
    test_id: str | int | None = None
    itch_jwt_token: str | None = None
    itch_api_key: str | None = None
    steam_encrypted_ticket: str | None = None
    steam_auth_ticket: str | None = None


@dataclass(frozen=True, slots=True)
class ClientAuthServices:
    """What authentication needs besides storage: verifiers, sealing, token signing."""

    itch: ItchVerifier
    steam: SteamVerifier
    box: SecretBox
    signer: Signer
    token_ttl: int  # seconds a client token stays valid


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    """Who the credentials prove the client to be."""

    provider: str  # a player identity provider: test, itch, steam
    subject: str
    name: str | None
    picture_url: str | None

    @classmethod
    def of(cls, user: ExternalUser) -> ClientIdentity:
        return cls(user.provider, user.subject, user.name, user.picture_url)


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    client_token: str
    player_id: str
    name: str
    picture_url: str | None
    created: bool  # the player was created by this call


@dataclass(frozen=True, slots=True)
class ClientCheck:
    """What a sign-in needs from storage, read before any provider is asked."""

    backend: str  # the ClientCredentials field that names it ("test" for a test key)
    settings: projects.ProjectSettings
    test_key: KeyPrincipal | None = None  # the live key a testKey names, if any


async def authenticate_client(
    db: Transactions[MatchmakingUow],
    *,
    project_id: str,
    auth: ClientCredentials,
    services: ClientAuthServices,
    actor: Actor,
    now: datetime,
) -> AuthenticatedClient:
    """A client token for the credentials, or the refusal (audited if it is the client's)."""
    async with db.read() as uow:
        check = await check_client(uow, project_id=project_id, auth=auth)
    try:
        identity = await verify_client(check, auth, services, now=now)
    except Unauthorized as exc:
        if is_audited(exc):
            async with db.transaction() as uow:
                await audit_refusal(uow, check=check, refusal=exc, actor=actor)
        raise
    async with db.transaction() as uow:
        return await sign_in_client(
            uow, check=check, identity=identity, services=services, actor=actor
        )


async def check_client(
    uow: MatchmakingUow, *, project_id: str, auth: ClientCredentials
) -> ClientCheck:
    """Step one, reads only: the backend asked for, the project's settings, a test key."""
    backend = _backend(auth)
    game = await uow.identity.get_game(project_id)
    if game is None:
        raise NotAuthenticated("unknown project", code="project_not_found")
    test_key = None
    if backend == "test":
        test_key = await resolve_key(uow, hash_secret(auth.test_key or ""))
    return ClientCheck(backend, projects.project_settings(game), test_key)


async def verify_client(
    check: ClientCheck,
    auth: ClientCredentials,
    services: ClientAuthServices,
    *,
    now: datetime,
) -> ClientIdentity:
    """Step two, without storage: the identity the credentials prove, or a refusal (itch.io
    and Steam are asked here)."""
    settings = check.settings
    match check.backend:
        case "test":
            return _test_client(check, auth)
        case "itch_jwt_token" | "itch_api_key" if not settings.itch_enabled:
            raise _not_enabled("itch.io sign-in")
        case "itch_jwt_token":
            return ClientIdentity.of(await services.itch.jwt_me(auth.itch_jwt_token or ""))
        case "itch_api_key":
            return ClientIdentity.of(await services.itch.key_me(auth.itch_api_key or ""))
        case "steam_encrypted_ticket":
            key = settings.steam_app_key(services.box)
            if settings.steam_app_id is None or key is None:
                raise _not_enabled("Steam encrypted app ticket sign-in")
            ticket = ticket_from_hex(auth.steam_encrypted_ticket or "")
            user = decrypt_app_ticket(
                ticket, key, app_id=settings.steam_app_id, now=now, max_age=settings.max_age
            )
            publisher_key = settings.steam_publisher_key(services.box)
        case _:
            publisher_key = settings.steam_publisher_key(services.box)
            if settings.steam_app_id is None or publisher_key is None:
                raise _not_enabled("Steam Web API ticket sign-in")
            user = await services.steam.authenticate_user_ticket(
                auth.steam_auth_ticket or "",
                app_id=settings.steam_app_id,
                publisher_key=publisher_key,
            )
    # A Steam user: its persona name and avatar, when the project has a publisher key to ask.
    if publisher_key is not None:
        user = await services.steam.with_profile(user, publisher_key=publisher_key)
    return ClientIdentity.of(user)


async def sign_in_client(
    uow: MatchmakingUow,
    *,
    check: ClientCheck,
    identity: ClientIdentity,
    services: ClientAuthServices,
    actor: Actor,
) -> AuthenticatedClient:
    """Step three, one write transaction: the project's player for the identity (created on
    first sight) and its client token."""
    game_id = check.settings.game_id
    player, created = await player_for_identity(
        uow,
        provider=identity.provider,
        subject=identity.subject,
        game_id=game_id,
        display_name=_display(identity.name),
        actor=actor,
    )
    expires_at = int(uow.now().timestamp()) + services.token_ttl
    token = services.signer.client_token(
        game_id=game_id, player_id=player.id, expires_at=expires_at
    )
    name = (
        _display(identity.name) or player.display_name or f"{identity.provider} {identity.subject}"
    )
    return AuthenticatedClient(
        client_token=token,
        player_id=player.id,
        name=name,
        picture_url=identity.picture_url,
        created=created,
    )


def is_audited(refusal: Unauthorized) -> bool:
    """Whether a refusal of ``verify_client`` is a failed authentication to audit (a backend
    the project did not enable is the project's setting, not the client's failure)."""
    return refusal.code != "backend_not_enabled"


async def audit_refusal(
    uow: MatchmakingUow, *, check: ClientCheck, refusal: Unauthorized, actor: Actor
) -> None:
    """Audit a refused credential; the reason is ours ("ticket expired", "bad token") and the
    credential never goes in."""
    backend = check.backend
    method = "battleplace." + ("test" if backend == "test" else WIRE_NAMES[backend])
    await record_auth_failure(
        uow,
        method=method,
        reason=refusal.code,
        actor=actor,
        game_id=check.settings.game_id,
        detail=refusal.message,
    )


def _backend(credentials: ClientCredentials) -> str:
    given = [f.name for f in fields(credentials) if getattr(credentials, f.name) is not None]
    test_parts = {"test_key", "test_id"} & set(given)
    if test_parts and test_parts != {"test_key", "test_id"}:
        raise NotAuthenticated("testKey and testId go together", code="incomplete_test_auth")
    backends = ["test"] if test_parts else []
    backends += [name for name in given if name not in test_parts]
    if not backends:
        raise NotAuthenticated(_ONE_BACKEND, code="no_auth_backend")
    if len(backends) > 1:
        named = ", ".join(WIRE_NAMES.get(name, "testKey with testId") for name in backends)
        raise NotAuthenticated(
            f"auth holds credentials for several backends ({named}); send exactly one",
            code="several_auth_backends",
        )
    return backends[0]


def _test_client(check: ClientCheck, auth: ClientCredentials) -> ClientIdentity:
    test_id = _test_id(auth.test_id)
    key = check.test_key
    if key is None or key.kind is not KeyKind.TEST or key.game_id != check.settings.game_id:
        raise NotAuthenticated("bad test key", code="bad_test_key")
    return ClientIdentity("test", test_id, f"test {test_id}", None)


def _test_id(value: str | int | None) -> str:
    """``testId`` is a string or an integer; 7 and "7" are the same test client."""
    text = str(value).strip() if value is not None else ""
    if not text or len(text) > MAX_TEST_ID:
        raise InvalidInput(f"testId must be 1 to {MAX_TEST_ID} characters", code="invalid_test_id")
    return text


def _not_enabled(backend: str) -> NotAuthenticated:
    return NotAuthenticated(
        f"{backend} is not enabled for this project", code="backend_not_enabled"
    )


def _display(name: str | None) -> str | None:
    name = (name or "").strip()[:MAX_NAME].strip()
    return name or None
