"""Identity errors, each a subclass of a core category."""

from __future__ import annotations

from gamekeeper.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized


class DeveloperNotFound(NotFound):
    code = "developer_not_found"
    message = "No developer with that id"


class GameNotFound(NotFound):
    code = "game_not_found"
    message = "No game with that id"


class OperatorNotFound(NotFound):
    code = "operator_not_found"
    message = "No operator with that id"


class PlatformNotFound(NotFound):
    code = "platform_not_found"
    message = "No platform with that id"


class NotAGameKey(Forbidden):
    code = "wrong_key_owner"
    message = "This key does not belong to a game"


class KeyKindNotAllowed(InvalidInput):
    code = "invalid_key_kind"


class CredentialNotFound(NotFound):
    code = "key_not_found"
    message = "No key with that id"


class PlayerNotFound(NotFound):
    code = "player_not_found"
    message = "No player with that id"


class SlugTaken(Conflict):
    code = "slug_taken"
    message = "Another game already uses that slug"


class EmailTaken(Conflict):
    code = "email_taken"
    message = "Another player already uses that email"


class IdentityTaken(Conflict):
    code = "identity_taken"
    message = "That identity is already linked to a player"


class TooManyKeys(Conflict):
    code = "too_many_keys"
    message = "The owner has reached its limit of active keys; revoke one first"


class InvalidApiKey(Unauthorized):
    code = "invalid_api_key"
    message = "The API key is invalid or revoked"


class InvalidSession(Unauthorized):
    code = "invalid_token"
    message = "The provided token is invalid or expired"


class SessionExpired(InvalidSession):
    """An authentic access token past its lifetime: answered as any invalid token (the
    spec's one error), but not a guess, so not counted as a failed authentication."""


class RefreshTokenReused(Unauthorized):
    code = "invalid_token"
    message = "The refresh token was already used; the session has been revoked"
