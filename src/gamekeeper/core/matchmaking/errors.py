"""Matchmaking errors, each a subclass of a core category."""

from __future__ import annotations

from gamekeeper.core.errors import Conflict, InvalidInput, NotFound, Unauthorized


class ClientTokenInvalid(Unauthorized):
    code = "bad_client_token"
    message = "bad token"


class ClientTokenExpired(ClientTokenInvalid):
    """Authentic but past its lifetime: the client signs in again (not a guess)."""

    code = "client_token_expired"
    message = "token expired"


class SessionTokenInvalid(Unauthorized):
    code = "bad_session_token"
    message = "bad session token"


class ServerTokenInvalid(Unauthorized):
    code = "bad_server_token"
    message = "bad project server token"


class NotAuthenticated(Unauthorized):
    """A client auth attempt refused; the message is the reason shown to the client."""

    code = "not_authenticated"
    message = "bad token"


class InvalidMatchRequest(InvalidInput):
    code = "invalid_match_request"


class ServerNotRegistered(NotFound):
    code = "server_not_registered"
    message = "No server of that name is registered"


class SessionClosed(Conflict):
    code = "session_closed"
    message = "The session already has its result"
