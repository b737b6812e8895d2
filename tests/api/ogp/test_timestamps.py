"""Signature timestamps are ASCII digits of bounded length; anything else is a clear 401."""

from __future__ import annotations

import pytest

from gamekeeper.core.identity import hmac_auth

pytestmark = pytest.mark.anyio
MALFORMED = {
    "statusCode": 401,
    "message": (
        "The signature timestamp must be 1 to 16 digits 0-9 (seconds or milliseconds since 1970)"
    ),
    "error": "Unauthorized",
}


@pytest.mark.parametrize(
    "timestamp",
    ["1" * 400, "9" * 5000, "²³", "1767268800¹", "-1767268800", "1e9", "12345678901234567"],
    ids=["400-digits", "5000-digits", "superscript", "trailing-superscript", "negative",
         "exponent", "17-digits"],
)  # fmt: skip
async def test_a_malformed_timestamp_is_refused_in_the_ogp_envelope(ogp, client, timestamp):
    developer = await ogp.developer()
    value = hmac_auth.header_value(
        developer["apiKey"], developer["secretKey"], "GET", "/user/me", timestamp
    )
    # Latin-1 on the wire: the server reads "²" back as a character str.isdigit() accepts.
    response = await client.get("/user/me", headers={"Authorization": value.encode("latin-1")})
    assert (response.status_code, response.json()) == (401, MALFORMED)


async def test_sixteen_digits_are_read_and_judged_by_the_clock(ogp, client):
    developer = await ogp.developer()
    value = hmac_auth.header_value(
        developer["apiKey"], developer["secretKey"], "GET", "/user/me", "9" * 16
    )
    response = await client.get("/user/me", headers={"Authorization": value})
    assert response.status_code == 401
    assert response.json()["message"] == (
        "The signature timestamp is more than 5 minutes from server time"
    )
