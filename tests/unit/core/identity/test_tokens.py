"""Access tokens are standard HS256 JWTs: any JWT library verifies what we sign."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt
import pytest

from gamekeeper.core.identity.errors import InvalidSession
from gamekeeper.core.identity.tokens import decode_access_token, encode_access_token

KEY = b"k" * 32
NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_signed_tokens_are_what_a_jwt_library_signs_and_verifies():
    token = encode_access_token(
        signing_key=KEY, player_id="p-1", session_id="s-1", now=NOW, ttl=900
    )
    issued = int(NOW.timestamp())
    claims = {"iss": "gamekeeper", "sub": "p-1", "sid": "s-1", "typ": "access"}
    claims |= {"iat": issued, "exp": issued + 900}
    assert token == jwt.encode(claims, KEY, algorithm="HS256")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    verified = jwt.decode(
        token, KEY, algorithms=["HS256"], issuer="gamekeeper", options={"verify_exp": False}
    )
    assert verified == claims
    assert decode_access_token(token, signing_key=KEY, now=NOW).session_id == "s-1"


def test_a_token_signed_with_another_key_or_altered_is_refused():
    token = encode_access_token(
        signing_key=KEY, player_id="p-1", session_id="s-1", now=NOW, ttl=900
    )
    with pytest.raises(InvalidSession):
        decode_access_token(token, signing_key=b"z" * 32, now=NOW)
    head, _payload, signature = token.split(".")
    forged = jwt.encode({"sub": "p-2"}, b"z" * 32, algorithm="HS256").split(".")[1]
    with pytest.raises(InvalidSession):
        decode_access_token(f"{head}.{forged}.{signature}", signing_key=KEY, now=NOW)
