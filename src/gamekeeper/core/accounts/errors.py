"""Account errors, each a subclass of a core category."""

from __future__ import annotations

from gamekeeper.core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    Unauthorized,
)


class InvalidCredentials(Unauthorized):
    code = "invalid_credentials"
    message = "The email or password is wrong"


class InvalidCode(Unauthorized):
    code = "invalid_code"
    message = "The code is wrong, expired or already used"


class TooManyAttempts(RateLimited):
    code = "rate_limited"
    message = "Too many failed attempts; wait before trying again"


class WrongPassword(Forbidden):
    code = "invalid_credentials"
    message = "The current password is wrong"


class AccountHasEmail(Conflict):
    code = "email_already_set"
    message = "This account already has an email address"


class NoEmail(InvalidInput):
    code = "no_email"
    message = "This account has no email address to verify"


class AlreadyVerified(Conflict):
    code = "already_verified"
    message = "This email address is already verified"


class RedirectNotAllowed(InvalidInput):
    code = "invalid_redirect_url"
    message = "redirectUrl must be on one of the game's allowed origins"


class LinkTokenNotFound(NotFound):
    code = "link_token_not_found"
    message = "This link request does not exist"


class LinkTokenExpired(Unauthorized):
    code = "link_token_expired"
    message = "This link request has expired; ask the game for a new one"


class LinkTokenUsed(Conflict):
    code = "link_token_used"
    message = "This link request was already answered"


class GameUserLinkedElsewhere(Conflict):
    code = "game_user_linked_elsewhere"
    message = "This game account is already linked to another player"


class PlayerLinkedElsewhere(Conflict):
    code = "player_linked_elsewhere"
    message = "You already linked another account of this game; remove that link first"


class LinkNotFound(NotFound):
    code = "link_not_found"
    message = "You have no link with that game"


class DeviceSignInRaced(Conflict):
    """The device's player went away between registering it and reading it back (deleted)."""

    code = "device_conflict"
    message = "The account of this device changed during sign-in; try again"
