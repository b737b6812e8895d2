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
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from gamekeeper.core.audit import Actor
from gamekeeper.core.errors import InvalidInput, Unauthorized
from gamekeeper.core.identity import auth
from gamekeeper.core.identity.players import player_for_identity
from gamekeeper.core.identity.secrets import SecretBox, hash_secret
from gamekeeper.core.identity.types import KeyKind
from gamekeeper.core.matchmaking import projects
from gamekeeper.core.matchmaking.errors import NotAuthenticated
from gamekeeper.core.matchmaking.external import ExternalUser, ItchVerifier, SteamVerifier
from gamekeeper.core.matchmaking.steam_ticket import decrypt_app_ticket, ticket_from_hex

if TYPE_CHECKING:
    from gamekeeper.core.matchmaking.tokens import Signer
    from gamekeeper.core.uow import UnitOfWork

__all__ = ["AuthenticatedClient", "ClientAuthServices", "ClientCredentials", "authenticate_client"]

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
class _Identity:
    provider: str  # a player identity provider: test, itch, steam
    subject: str
    name: str | None
    picture_url: str | None

    @classmethod
    def of(cls, user: ExternalUser) -> _Identity:
        return cls(user.provider, user.subject, user.name, user.picture_url)


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    client_token: str
    player_id: str
    name: str
    picture_url: str | None
    created: bool  # the player was created by this call


async def authenticate_client(
    uow: UnitOfWork,
    *,
    project_id: str,
    auth: ClientCredentials,
    services: ClientAuthServices,
    actor: Actor,
) -> AuthenticatedClient:
    """Check one backend's credentials and issue a client token for the project's player."""
    backend = _backend(auth)
    game = await uow.identity.get_game(project_id)
    if game is None:
        raise NotAuthenticated("unknown project", code="project_not_found")
    settings = projects.project_settings(game)
    try:
        user = await _verify(uow, backend, auth, settings, services)
    except Unauthorized as exc:
        if exc.code != "backend_not_enabled":
            await _audit_refusal(uow, backend=backend, refusal=exc, game_id=game.id, actor=actor)
        raise
    player, created = await player_for_identity(
        uow,
        provider=user.provider,
        subject=user.subject,
        game_id=game.id,
        display_name=_display(user.name),
        actor=actor,
    )
    expires_at = int(uow.now().timestamp()) + services.token_ttl
    token = services.signer.client_token(
        game_id=game.id, player_id=player.id, expires_at=expires_at
    )
    name = _display(user.name) or player.display_name or f"{user.provider} {user.subject}"
    return AuthenticatedClient(
        client_token=token,
        player_id=player.id,
        name=name,
        picture_url=user.picture_url,
        created=created,
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


async def _verify(
    uow: UnitOfWork,
    backend: str,
    credentials: ClientCredentials,
    settings: projects.ProjectSettings,
    services: ClientAuthServices,
) -> _Identity:
    match backend:
        case "test":
            return await _test_client(uow, credentials, settings.game_id)
        case "itch_jwt_token" | "itch_api_key" if not settings.itch_enabled:
            raise _not_enabled("itch.io sign-in")
        case "itch_jwt_token":
            return _Identity.of(await services.itch.jwt_me(credentials.itch_jwt_token or ""))
        case "itch_api_key":
            return _Identity.of(await services.itch.key_me(credentials.itch_api_key or ""))
        case "steam_encrypted_ticket":
            key = settings.steam_app_key(services.box)
            if settings.steam_app_id is None or key is None:
                raise _not_enabled("Steam encrypted app ticket sign-in")
            ticket = ticket_from_hex(credentials.steam_encrypted_ticket or "")
            user = decrypt_app_ticket(
                ticket, key, app_id=settings.steam_app_id, now=uow.now(), max_age=settings.max_age
            )
            return _Identity.of(user)
        case _:
            publisher_key = settings.steam_publisher_key(services.box)
            if settings.steam_app_id is None or publisher_key is None:
                raise _not_enabled("Steam Web API ticket sign-in")
            user = await services.steam.authenticate_user_ticket(
                credentials.steam_auth_ticket or "",
                app_id=settings.steam_app_id,
                publisher_key=publisher_key,
            )
            return _Identity.of(user)


async def _test_client(uow: UnitOfWork, credentials: ClientCredentials, game_id: str) -> _Identity:
    test_id = _test_id(credentials.test_id)
    principal = await auth.resolve_key(uow, hash_secret(credentials.test_key or ""))
    if principal is None or principal.kind is not KeyKind.TEST or principal.game_id != game_id:
        raise NotAuthenticated("bad test key", code="bad_test_key")
    return _Identity("test", test_id, f"test {test_id}", None)


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


async def _audit_refusal(
    uow: UnitOfWork, *, backend: str, refusal: Unauthorized, game_id: str, actor: Actor
) -> None:
    # The reason is ours ("ticket expired", "bad token"); the credential never goes in.
    method = "battleplace." + ("test" if backend == "test" else WIRE_NAMES[backend])
    await auth.record_auth_failure(
        uow,
        method=method,
        reason=refusal.code,
        actor=actor,
        game_id=game_id,
        detail=refusal.message,
    )
