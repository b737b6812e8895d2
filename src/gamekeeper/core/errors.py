"""The one error tree of Gamekeeper.

    GamekeeperError
    ├── InvalidInput      the request is malformed or breaks a rule
    ├── Unauthorized      no credential, or one that is unknown, expired or revoked
    ├── Forbidden         a valid credential that may not do this
    ├── NotFound          the thing does not exist (or is not visible to the caller)
    ├── Conflict          the request clashes with the current state
    ├── RateLimited       too many requests; ``retry_after`` seconds to wait
    └── Unavailable       a dependency is down; try again later

Each error carries a stable machine ``code`` (snake_case) and a human ``message``. Dialects map
the category to a status through one table and render their own envelope.
"""

from __future__ import annotations


class GamekeeperError(Exception):
    code = "error"
    message = "Something went wrong"

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message or type(self).message
        self.code = code or type(self).code
        super().__init__(self.message)


class InvalidInput(GamekeeperError):
    code = "invalid_input"
    message = "The request is invalid"


class Unauthorized(GamekeeperError):
    code = "invalid_auth"
    message = "Authentication is missing or invalid"


class Forbidden(GamekeeperError):
    code = "forbidden"
    message = "This credential may not do that"


class NotFound(GamekeeperError):
    code = "not_found"
    message = "Not found"


class Conflict(GamekeeperError):
    code = "conflict"
    message = "The request conflicts with the current state"


class RateLimited(GamekeeperError):
    code = "rate_limited"
    message = "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Unavailable(GamekeeperError):
    code = "unavailable"
    message = "A service Gamekeeper depends on is unavailable"
