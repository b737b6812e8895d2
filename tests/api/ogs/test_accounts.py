"""Signing in and out over HTTP: email and password, device ids, password changes, limits."""

from __future__ import annotations

import asyncio

import pytest

from support.provision import audit_actions

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
EMAIL, PASSWORD = "ada@example.com", "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cookies(response) -> dict[str, str]:
    return {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}


async def login(client, email=EMAIL, password=PASSWORD):
    return await client.post(f"{AUTH}/login", json={"email": email, "password": password})


async def test_sign_up_then_sign_in_with_the_spec_cookies(ogs, client):
    created = await ogs.sign_up()
    assert created["success"] is True
    assert created["expiresIn"] == 900
    assert created["user"]["email"] == EMAIL and created["user"]["hasPassword"] is True
    response = await login(client, email="Ada@Example.com")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user"]["id"] == created["user"]["id"]
    set_cookies = cookies(response)
    assert "session" not in set_cookies  # the session token is a bearer header, never a cookie
    assert set_cookies["refresh"].startswith(f"refresh={body['refreshToken']};")
    for cookie in set_cookies.values():
        for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
            assert attribute in cookie
    assert "Max-Age=604800" in set_cookies["refresh"]
    me = await client.get(f"{AUTH}/me", headers=bearer(body["sessionToken"]))
    assert me.json()["email"] == EMAIL


async def test_cookies_are_not_secure_on_plain_local_http(make_client):
    async with make_client() as client:
        client.base_url = "http://localhost:8000"
        response = await client.post(f"{AUTH}/device", json={"deviceId": "local-device-0001"})
        assert response.status_code == 201
        for cookie in response.headers.get_list("set-cookie"):
            assert "Secure" not in cookie and "HttpOnly" in cookie


async def test_sign_up_refusals(ogs, client):
    await ogs.sign_up()
    taken = await client.post(f"{AUTH}/signup", json={"email": EMAIL, "password": PASSWORD})
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "email_taken"
    short = await client.post(f"{AUTH}/signup", json={"email": "b@example.com", "password": "x"})
    assert short.status_code == 400
    assert short.json()["error"]["code"] == "invalid_password"
    missing = await client.post(f"{AUTH}/signup", json={"email": "b@example.com"})
    assert missing.status_code == 400
    assert missing.json()["error"] == {
        "code": "invalid_body",
        "message": missing.json()["error"]["message"],
        "status": 400,
    }
    assert "password" in missing.json()["error"]["message"]


async def test_wrong_password_and_unknown_email_look_alike_and_are_audited(ogs, client):
    await ogs.sign_up()
    wrong = await login(client, password="not the password")
    unknown = await login(client, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    failures = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
    assert len(failures) == 2
    assert all(e["details"]["method"] == "password" for e in failures)


async def test_an_account_is_locked_after_ten_failures(ogs, client):
    await ogs.sign_up()
    for _ in range(10):
        assert (await login(client, password="guess guess")).status_code == 401
    locked = await login(client)  # even the right password
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert int(locked.headers["Retry-After"]) >= 1


async def test_an_address_is_locked_after_its_failures(make_client, ogs):
    async with make_client(rate_limits={"auth_failure": "3/minute"}) as client:
        for n in range(3):
            response = await login(client, email=f"guess{n}@example.com")
            assert response.status_code == 401
        locked = await login(client, email="another@example.com")
        assert locked.status_code == 429


async def test_expired_session_tokens_are_not_guesses(make_client, clock):
    # Access tokens last 15 minutes: every player behind one address sends an expired one now
    # and then. They are refused as the spec says, but lock nobody out and fill no audit log.
    async with make_client(rate_limits={"auth_failure": "3/minute"}) as client:
        devices = [
            (await client.post(f"{AUTH}/device", json={"deviceId": f"device-{n:012d}"})).json()
            for n in range(5)
        ]
        clock.advance(901)
        expired = [
            await client.get(f"{AUTH}/me", headers=bearer(d["sessionToken"])) for d in devices
        ]
        refreshed = await client.post(
            f"{AUTH}/refresh", json={"refreshToken": devices[0]["refreshToken"]}
        )
        me = await client.get(f"{AUTH}/me", headers=bearer(refreshed.json()["sessionToken"]))
        audited = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]

    for response in expired:
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "invalid_token"
    assert me.status_code == 200
    assert audited == []


async def test_logout_ends_the_session_and_clears_cookies(ogs, client):
    session = await ogs.sign_up()
    headers = bearer(session["sessionToken"])
    response = await client.post(f"{AUTH}/logout", headers=headers)
    assert response.status_code == 200
    assert all("Max-Age=0" in c for c in cookies(response).values())
    assert (await client.get(f"{AUTH}/me", headers=headers)).status_code == 401
    refresh = await client.post(f"{AUTH}/refresh", json={"refreshToken": session["refreshToken"]})
    assert refresh.status_code == 401


async def test_device_sign_in_creates_the_guest_once(ogs, client):
    first = await client.post(f"{AUTH}/device", json={"deviceId": "device-0123456789"})
    assert first.status_code == 201
    assert first.json()["created"] is True
    assert first.json()["user"]["email"] is None
    again = await client.post(f"{AUTH}/device", json={"deviceId": "device-0123456789"})
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert again.json()["user"]["id"] == first.json()["user"]["id"]
    other = await ogs.device("device-9876543210")
    assert other["user"]["id"] != first.json()["user"]["id"]
    short = await client.post(f"{AUTH}/device", json={"deviceId": "short"})
    assert short.status_code == 400
    # Refused at the edge, with the core's limits (10 to 128), as the OpenAPI document says.
    assert short.json()["error"]["message"] == "deviceId: Expected `str` of length >= 10"


async def test_simultaneous_first_sign_ins_of_one_device_all_succeed_as_one_player(client):
    body = {"deviceId": "device-raced-0123456789"}
    answers = await asyncio.gather(*(client.post(f"{AUTH}/device", json=body) for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201], [a.text for a in answers]
    assert len({a.json()["user"]["id"] for a in answers}) == 1
    assert len({a.json()["refreshToken"] for a in answers}) == 6
    assert [a.json()["created"] for a in answers].count(True) == 1


async def test_a_guest_adds_email_and_password_then_signs_in_with_them(ogs, client):
    guest = await ogs.device()
    headers = bearer(guest["sessionToken"])
    body = {"email": EMAIL, "password": PASSWORD}
    response = await client.post(f"{AUTH}/email", json=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["email"] == EMAIL and response.json()["isVerified"] is False
    signed_in = await login(client)
    assert signed_in.json()["user"]["id"] == guest["user"]["id"]
    twice = await client.post(
        f"{AUTH}/email", json={"email": "b@example.com", "password": PASSWORD}, headers=headers
    )
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "email_already_set"
    other = await ogs.device("device-9876543210")
    taken = await client.post(f"{AUTH}/email", json=body, headers=bearer(other["sessionToken"]))
    assert taken.status_code == 409
    assert taken.json()["error"]["code"] == "email_taken"


async def test_password_change_ends_the_other_sessions(ogs, client):
    first = await ogs.sign_up()
    second = (await login(client)).json()
    headers = bearer(first["sessionToken"])
    wrong = await client.post(
        f"{AUTH}/password",
        json={"currentPassword": "not it at all", "newPassword": "a new passphrase"},
        headers=headers,
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    changed = await client.post(
        f"{AUTH}/password",
        json={"currentPassword": PASSWORD, "newPassword": "a new passphrase"},
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert (await client.get(f"{AUTH}/me", headers=headers)).status_code == 200
    assert (
        await client.get(f"{AUTH}/me", headers=bearer(second["sessionToken"]))
    ).status_code == 401
    assert (await login(client)).status_code == 401
    assert (await login(client, password="a new passphrase")).status_code == 200
    assert "password.changed" in [e["action"] for e in await audit_actions(client)]


async def test_player_routes_need_a_session_token(client):
    for method, path in (("GET", "/me"), ("POST", "/logout"), ("POST", "/web-code")):
        response = await client.request(method, AUTH + path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "missing_auth"
        forged = await client.request(method, AUTH + path, headers=bearer("eyJhbGciOi.forged.x"))
        assert forged.status_code == 401
        assert forged.json()["error"]["code"] == "invalid_token"
