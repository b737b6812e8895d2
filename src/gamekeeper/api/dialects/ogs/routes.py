"""The OGS accounts API under ``/api/v1/auth``: the spec's endpoints and the account routes.

- Game servers (``Authorization: Bearer <game key>``, no browser origins):
  ``account-link-token``, ``verify-link-token``, ``verify-token``.
- Players (``Authorization: Bearer <session token>``): ``web-code``, ``logout``, ``me``,
  ``verify-email``, ``password``, ``email``, ``links``.
- Anyone: ``signup``, ``login``, ``login/code``, ``login/code/verify``, ``device``, ``refresh``.

Sign-ins answer with the session token, the refresh token and the spec's cookies. Links are
removed by game id (``DELETE /links/{gameId}``): a player has at most one link per game.
Errors use the OGS envelope.
"""

from __future__ import annotations

from litestar import Router

from gamekeeper.api.dialects.ogs import accounts, linking, profile, tokens
from gamekeeper.api.dialects.ogs.context import DEPENDENCIES
from gamekeeper.api.dialects.ogs.errors import render
from gamekeeper.api.errors import exception_handlers

router = Router(
    "/api/v1/auth",
    route_handlers=[*accounts.ROUTES, *profile.ROUTES, *tokens.ROUTES, *linking.ROUTES],
    dependencies=DEPENDENCIES,
    exception_handlers=exception_handlers(render),
    tags=["ogs"],
)
