"""Cast errors, each a subclass of a core category."""

from __future__ import annotations

from gamekeeper.core.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized


class CastSessionNotFound(NotFound):
    code = "cast_session_not_found"
    message = "No cast session with that id"


class CastSessionEnded(Conflict):
    code = "cast_session_terminated"
    message = "This cast session has ended; the game must create a new one"


class WrongJoinCode(Forbidden):
    code = "invalid_join_code"
    message = "The join code is wrong for this cast session"


class NotAController(Forbidden):
    code = "not_a_controller"
    message = "Join the cast session with its code before sending input"


class SessionFull(Conflict):
    code = "cast_session_full"
    message = "Every seat of this cast session is taken"


class InvalidReceiverKey(Unauthorized):
    code = "invalid_receiver_key"
    message = "The receiver key is wrong for this cast session"


class GameUrlNotAllowed(InvalidInput):
    code = "game_url_not_allowed"
    message = "gameUrl must be on one of the game's allowed origins"
