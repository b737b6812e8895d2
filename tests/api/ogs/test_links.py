"""Account linking over HTTP: link tokens, their verification, the player's links.

The link page (another module) answers tokens; here the player's answer goes through the same
core functions the page calls.
"""

from __future__ import annotations

import pytest

from gamekeeper.core import accounts
from gamekeeper.core.accounts.errors import (
    GameUserLinkedElsewhere,
    LinkTokenExpired,
    LinkTokenNotFound,
    LinkTokenUsed,
    PlayerLinkedElsewhere,
)
from gamekeeper.core.audit import Actor
from support.provision import audit_actions, in_app

pytestmark = pytest.mark.anyio
AUTH = "/api/v1/auth"
CALLBACK = "https://play.example.com/auth/callback"


def answer(client, token: str, player_id: str, *, confirm: bool = True):
    """The player's answer on the link page, through the core functions the page calls."""

    async def run(runtime):
        async with runtime.db.transaction() as uow:
            act = accounts.confirm_link if confirm else accounts.decline_link
            return await act(
                uow, token=token, player_id=player_id, actor=Actor("player", player_id)
            )

    return in_app(client, run)


def describe(client, token: str):
    async def run(runtime):
        async with runtime.db.transaction(write=False) as uow:
            return await accounts.describe_link(uow, token=token)

    return in_app(client, run)


async def test_link_token_then_confirm_then_verify(ogs, client):
    _, key = await ogs.game()
    issued = await ogs.link_token(key)
    assert issued["linkUrl"] == f"http://127.0.0.1:8000/link-account?token={issued['linkToken']}"
    assert issued["expiresAt"] == "2026-01-01T12:30:00Z"  # 30 minutes by default
    assert await ogs.verify_link(key, issued["linkToken"]) == {"valid": True, "status": "pending"}
    request = describe(client, issued["linkToken"])
    assert (request.game_name, request.game_user_id, request.redirect_url) == (
        "Trivia Jam",
        "user-123",
        CALLBACK,
    )
    player = await ogs.sign_up()
    linked = answer(client, issued["linkToken"], player["user"]["id"])
    assert linked.status == "linked"
    verified = await ogs.verify_link(key, issued["linkToken"])
    assert verified == {
        "valid": True,
        "userId": player["user"]["id"],
        "status": "linked",
        "linkedAt": "2026-01-01T12:00:00Z",
    }  # no email: the address is not verified yet
    actions = [e["action"] for e in await audit_actions(client)]
    assert "account.linked" in actions


async def test_link_url_uses_the_public_url(make_client, ogs):
    async with make_client(public_url="https://games.example.org/") as client:
        ogs.client = client
        _, key = await ogs.game()
        issued = await ogs.link_token(key)
        assert issued["linkUrl"].startswith("https://games.example.org/link-account?token=")


async def test_a_declined_token_says_so_and_cannot_be_answered_again(ogs, client):
    _, key = await ogs.game()
    token = (await ogs.link_token(key))["linkToken"]
    player = await ogs.sign_up()
    assert answer(client, token, player["user"]["id"], confirm=False).status == "declined"
    assert await ogs.verify_link(key, token) == {"valid": True, "status": "declined"}
    with pytest.raises(LinkTokenUsed):
        answer(client, token, player["user"]["id"])
    with pytest.raises(LinkTokenUsed):
        describe(client, token)


async def test_redirect_url_must_be_on_the_games_origins(ogs, client):
    _, key = await ogs.game()
    for url in (
        "https://evil.example.com/cb",
        "https://play.example.com.evil.example/cb",
        "https://user@play.example.com/cb",
        "http://play.example.com/cb",  # another scheme is another origin
        "javascript:alert(1)",
    ):
        response = await client.post(
            f"{AUTH}/account-link-token",
            json={"gameUserId": "user-123", "redirectUrl": url},
            headers=key,
        )
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] in {"invalid_redirect_url", "invalid_url"}, url


async def test_expired_forged_malformed_and_other_games_tokens(ogs, client, clock):
    _, key = await ogs.game()
    _, other_key = await ogs.game("Other Game")
    token = (await ogs.link_token(key))["linkToken"]
    assert await ogs.verify_link(other_key, token) == {"valid": False}
    assert await ogs.verify_link(key, "forged-" + token[7:]) == {"valid": False}
    assert await ogs.verify_link(key, "x" * 400) == {"valid": False}
    for body in ({}, {"token": ""}, {"token": 42}, {"token": "x" * 600}):
        response = await client.post(f"{AUTH}/verify-link-token", json=body, headers=key)
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "invalid_body"
    with pytest.raises(LinkTokenNotFound):
        describe(client, "forged")
    clock.advance(1801)
    assert await ogs.verify_link(key, token) == {"valid": False}
    with pytest.raises(LinkTokenExpired):
        describe(client, token)


async def test_game_routes_need_the_games_server_key(ogs, client):
    _, key = await ogs.game()
    body = {"gameUserId": "user-123", "redirectUrl": CALLBACK}
    missing = await client.post(f"{AUTH}/account-link-token", json=body)
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_auth"
    wrong = await client.post(
        f"{AUTH}/account-link-token", json=body, headers=ogs.bearer("gk_srv_forged")
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "invalid_api_key"
    player = await ogs.sign_up()
    as_player = await client.post(
        f"{AUTH}/verify-link-token", json={"token": "x"}, headers=ogs.bearer(player["sessionToken"])
    )
    assert as_player.status_code == 401
    browser = await client.post(
        f"{AUTH}/account-link-token", json=body, headers={**key, "Origin": "https://x.example"}
    )
    assert browser.status_code == 403
    assert browser.json()["error"]["code"] == "browser_origin_refused"


async def test_relinking_the_same_pair_is_idempotent(ogs, client):
    _, key = await ogs.game()
    player_id = (await ogs.sign_up())["user"]["id"]
    first = (await ogs.link_token(key))["linkToken"]
    second = (await ogs.link_token(key))["linkToken"]
    answer(client, first, player_id)
    assert answer(client, second, player_id).status == "linked"
    for token in (first, second):
        assert (await ogs.verify_link(key, token))["status"] == "linked"
    links = await client.get(
        f"{AUTH}/links", headers=ogs.bearer((await ogs.device())["sessionToken"])
    )
    assert links.json() == {"links": []}


async def test_a_game_user_links_to_one_player_and_a_player_to_one_game_user(ogs, client):
    _, key = await ogs.game()
    ada = (await ogs.sign_up())["user"]["id"]
    bob = (await ogs.sign_up("bob@example.com"))["user"]["id"]
    answer(client, (await ogs.link_token(key, "user-123"))["linkToken"], ada)
    token = (await ogs.link_token(key, "user-123"))["linkToken"]
    with pytest.raises(GameUserLinkedElsewhere) as refused:
        answer(client, token, bob)
    assert refused.value.message == "This game account is already linked to another player"
    assert (await ogs.verify_link(key, token))["status"] == "pending"
    other_user = (await ogs.link_token(key, "user-456"))["linkToken"]
    with pytest.raises(PlayerLinkedElsewhere):
        answer(client, other_user, ada)


async def test_players_list_and_remove_links(ogs, client, clock):
    game_id, key = await ogs.game()
    other_id, other_key = await ogs.game("Other Game")
    player = await ogs.sign_up()
    headers = ogs.bearer(player["sessionToken"])
    token = (await ogs.link_token(key))["linkToken"]
    answer(client, token, player["user"]["id"])
    clock.advance(60)  # listed oldest first
    answer(client, (await ogs.link_token(other_key, "u-9"))["linkToken"], player["user"]["id"])
    listed = (await client.get(f"{AUTH}/links", headers=headers)).json()["links"]
    assert [(x["gameId"], x["gameName"], x["gameUserId"]) for x in listed] == [
        (game_id, "Trivia Jam", "user-123"),
        (other_id, "Other Game", "u-9"),
    ]
    removed = await client.delete(f"{AUTH}/links/{game_id}", headers=headers)
    assert removed.status_code == 204
    assert await ogs.verify_link(key, token) == {"valid": True, "status": "unlinked"}
    again = await client.delete(f"{AUTH}/links/{game_id}", headers=headers)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "link_not_found"
    listed = (await client.get(f"{AUTH}/links", headers=headers)).json()["links"]
    assert [x["gameId"] for x in listed] == [other_id]
    assert "account.unlinked" in [e["action"] for e in await audit_actions(client)]


async def test_verified_email_is_shared_with_the_game(mail_client, ogs):
    client, inbox = mail_client
    ogs.client = client
    _, key = await ogs.game()
    player = await ogs.sign_up()
    code = await inbox.code_for("ada@example.com")
    verified = await client.post(
        f"{AUTH}/verify-email", json={"code": code}, headers=ogs.bearer(player["sessionToken"])
    )
    assert verified.status_code == 200
    token = (await ogs.link_token(key))["linkToken"]
    answer(client, token, player["user"]["id"])
    assert (await ogs.verify_link(key, token))["email"] == "ada@example.com"
