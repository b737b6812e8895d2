"""Mailed codes over HTTP, delivered by a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio

import pytest

from support.provision import audit_actions

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
EMAIL = "ada@example.com"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def sign_up(client, email: str = EMAIL) -> dict:
    response = await client.post(
        f"{AUTH}/signup", json={"email": email, "password": "correct horse battery"}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_sign_up_mails_a_code_that_verifies_the_address(mail_client):
    client, inbox = mail_client
    session = await sign_up(client)
    assert session["user"]["isVerified"] is False
    message = await inbox.wait_for(EMAIL)
    assert message["Subject"] == "Confirm your email address"
    assert message["From"] == "Gamekeeper <noreply@gamekeeper.test>"
    code = await inbox.code_for(EMAIL)
    headers = bearer(session["sessionToken"])
    response = await client.post(f"{AUTH}/verify-email", json={"code": code}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["isVerified"] is True
    again = await client.post(f"{AUTH}/verify-email", json={"code": code}, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_verified"


async def test_a_resent_verification_code_replaces_the_first(mail_client):
    client, inbox = mail_client
    headers = bearer((await sign_up(client))["sessionToken"])
    first = await inbox.code_for(EMAIL)
    response = await client.post(f"{AUTH}/verify-email/send", headers=headers)
    assert response.status_code == 202
    second = await inbox.code_for(EMAIL, count=2)
    if first != second:  # one chance in a million that they are equal
        old = await client.post(f"{AUTH}/verify-email", json={"code": first}, headers=headers)
        assert old.status_code == 401
        assert old.json()["error"]["code"] == "invalid_code"
    ok = await client.post(f"{AUTH}/verify-email", json={"code": second}, headers=headers)
    assert ok.status_code == 200


async def test_sign_in_with_a_mailed_code(mail_client):
    client, inbox = mail_client
    await sign_up(client)
    response = await client.post(f"{AUTH}/login/code", json={"email": EMAIL.upper()})
    assert response.status_code == 202
    message = await inbox.wait_for(EMAIL, count=2)  # the first is the verification code
    assert message["Subject"] == "Your sign-in code"
    code = await inbox.code_for(EMAIL, count=2)
    body = {"email": EMAIL, "code": code}
    signed_in = await client.post(f"{AUTH}/login/code/verify", json=body)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["user"]["isVerified"] is True  # the code proved the mailbox
    me = await client.get(f"{AUTH}/me", headers=bearer(signed_in.json()["sessionToken"]))
    assert me.json()["email"] == EMAIL
    reused = await client.post(f"{AUTH}/login/code/verify", json=body)
    assert reused.status_code == 401
    assert reused.json()["error"] == {
        "code": "invalid_code",
        "message": "The code is wrong, expired or already used",
        "status": 401,
    }


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(mail_client):
    client, inbox = mail_client
    await sign_up(client)
    unknown = await client.post(f"{AUTH}/login/code", json={"email": "nobody@example.com"})
    known = await client.post(f"{AUTH}/login/code", json={"email": EMAIL})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    await inbox.wait_for(EMAIL, count=2)
    assert [m["To"] for m in inbox.messages] == [EMAIL, EMAIL]


async def test_an_expired_code_is_refused(mail_client, clock):
    client, inbox = mail_client
    await sign_up(client)
    await client.post(f"{AUTH}/login/code", json={"email": EMAIL})
    code = await inbox.code_for(EMAIL, count=2)
    clock.advance(601)  # email codes live 10 minutes by default
    response = await client.post(f"{AUTH}/login/code/verify", json={"email": EMAIL, "code": code})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_code"


async def test_a_code_is_burnt_after_five_wrong_guesses(mail_client):
    client, inbox = mail_client
    await sign_up(client)
    await client.post(f"{AUTH}/login/code", json={"email": EMAIL})
    code = await inbox.code_for(EMAIL, count=2)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        response = await client.post(
            f"{AUTH}/login/code/verify", json={"email": EMAIL, "code": wrong}
        )
        assert response.status_code == 401
    right = await client.post(f"{AUTH}/login/code/verify", json={"email": EMAIL, "code": code})
    assert right.status_code == 401  # burnt, though now guessed right
    actions = [entry["action"] for entry in await audit_actions(client)]
    assert actions.count("auth.failed") == 6


async def test_two_concurrent_uses_of_one_code_let_exactly_one_in(mail_client):
    client, inbox = mail_client
    await sign_up(client)
    await client.post(f"{AUTH}/login/code", json={"email": EMAIL})
    body = {"email": EMAIL, "code": await inbox.code_for(EMAIL, count=2)}
    answers = await asyncio.gather(
        *(client.post(f"{AUTH}/login/code/verify", json=body) for _ in range(2))
    )
    assert sorted(a.status_code for a in answers) == [200, 401]


async def test_malformed_code_bodies_are_refused_in_the_envelope(mail_client):
    client, _ = mail_client
    for body in ({"email": EMAIL}, {"email": EMAIL, "code": 123456}, {"code": "123456"}):
        response = await client.post(f"{AUTH}/login/code/verify", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid_body"
    bad = await client.post(f"{AUTH}/login/code", json={"email": "not an address"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_email"


async def test_mail_to_one_address_is_capped(mail_client):
    client, inbox = mail_client
    await sign_up(client)  # one mail
    answers = [
        (await client.post(f"{AUTH}/login/code", json={"email": EMAIL})).status_code
        for _ in range(5)
    ]
    assert answers == [202, 202, 202, 202, 429]
    await inbox.wait_for(EMAIL, count=5)


async def test_without_smtp_the_code_is_written_to_the_data_dir(make_client, tmp_path):
    async with make_client() as client:
        await sign_up(client)
        mail_dir = tmp_path / "data0" / "mail"
        files = list(mail_dir.glob("*.eml"))
        assert len(files) == 1
        text = files[0].read_text()
        assert "To: ada@example.com" in text
        assert "Confirm your email address" in text
