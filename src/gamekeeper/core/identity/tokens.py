"""Player access tokens: HS256 JWTs that carry the session id."""

from __future__ import annotations

from datetime import datetime

import jwt

from gamekeeper.core.identity.errors import InvalidSession
from gamekeeper.core.identity.types import PlayerPrincipal

ISSUER = "gamekeeper"
_ALGORITHMS = ["HS256"]


def encode_access_token(
    *, signing_key: bytes, player_id: str, session_id: str, now: datetime, ttl: int
) -> str:
    issued = int(now.timestamp())
    claims = {
        "iss": ISSUER,
        "sub": player_id,
        "sid": session_id,
        "typ": "access",
        "iat": issued,
        "exp": issued + ttl,
    }
    return jwt.encode(claims, signing_key, algorithm="HS256")


def decode_access_token(token: str, *, signing_key: bytes, now: datetime) -> PlayerPrincipal:
    """Verify signature, issuer, type and expiry against ``now``; InvalidSession otherwise."""
    try:
        claims = jwt.decode(
            token,
            signing_key,
            algorithms=_ALGORITHMS,
            issuer=ISSUER,
            options={
                "require": ["exp", "iat", "sub", "sid"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidSession() from exc
    if claims.get("typ") != "access" or int(claims["exp"]) <= now.timestamp():
        raise InvalidSession()
    return PlayerPrincipal(player_id=str(claims["sub"]), session_id=str(claims["sid"]))
