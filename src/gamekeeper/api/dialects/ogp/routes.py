"""The OGP market API at the root of the server: users, games, batches, claims, points, sessions.

- OGP users are Gamekeeper developers: the API key is the developer id, the secret key the
  developer's HMAC secret. Wallets, emails, Privy and Twitter ids named in a rewards split
  become placeholder developers until someone claims them.
- An OGP game is a Gamekeeper game plus its listing. Games are approved on registration
  (nothing reviews them yet). There is no rewards economy yet: the reward amounts, market cap
  and player count stay 0 until one feeds them; they sort and page like any other value.
- Platforms are stored lower-case (``WEB`` and ``web`` are one platform). Unknown fields in a
  game body are ignored: the Node client sends fields Gamekeeper does not keep.

Public routes count against the ``public`` rate limit per client IP (60/minute by default);
signed routes against the ``server`` limit per developer. Errors use the OGP envelope.
"""

from __future__ import annotations

from litestar import Router

from gamekeeper.api.dialects.ogp import games, manage, points, sessions, users
from gamekeeper.api.dialects.ogp.errors import OgpError, render
from gamekeeper.api.errors import exception_handlers

router = Router(
    "/",
    route_handlers=[
        *users.ROUTES,
        *manage.ROUTES,
        *games.ROUTES,
        *points.ROUTES,
        *sessions.ROUTES,
    ],
    exception_handlers=exception_handlers(render),
    tags=["ogp"],
    opt={"envelope": OgpError},  # errors in the OpenAPI document (api/openapi.py)
)
