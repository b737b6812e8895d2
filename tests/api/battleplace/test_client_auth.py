"""``POST /v1a/client/auth`` over HTTP: every backend, against loopback itch.io and Steam."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gamekeeper.core.matchmaking.errors import ClientTokenInvalid
from support.battleplace import bearer, new_project
from support.provision import ADMIN, audit_actions, new_game, new_key
from support.standins import ItchStandIn, SteamStandIn, serving
from support.steam import TEST_APP_ID, TEST_STEAM_ID, build_ticket
from support.steam import new_key as new_app_key
from support.waiting import until

pytestmark = pytest.mark.anyio

PUBLISHER_KEY = "0123456789ABCDEF0123456789ABCDEF"
ALICE = {
    "id": 42,
    "username": "alice",
    "display_name": "Alice",
    "cover_url": "https://img.itch.zone/alice.png",
}


@pytest.fixture
def itch():
    with serving(ItchStandIn(jwt_users={"jwt-alice": ALICE}, key_users={"key-alice": ALICE})) as s:
        yield s


@pytest.fixture
def steam():
    with serving(SteamStandIn(publisher_key=PUBLISHER_KEY, app_id=TEST_APP_ID)) as stand_in:
        yield stand_in


@pytest.fixture
async def client(make_client, itch, steam):
    async with make_client(
        itch_base_url=itch.url, steam_api_base_url=steam.url, external_auth_timeout=5
    ) as client:
        yield client


@pytest.fixture
async def project(client):
    return await new_project(client)


@pytest.fixture
def app_key():
    return new_app_key()


async def configure(client, project, **settings):
    response = await client.put(
        f"/admin/v1/games/{project['id']}/battleplace", json=settings, headers=ADMIN
    )
    assert response.status_code == 200, response.text


async def sign_in(client, project, **auth):
    return await client.post("/v1a/client/auth", json={"projectId": project["id"], "auth": auth})


def principal(client, token, *, after=0.0):
    runtime = client.app.state.runtime
    now = runtime.clock().timestamp() + after
    return runtime.match_signer.read_client_token(token, now=now)


def refused(response, error, code=None):
    assert response.status_code == 401, response.text
    body = response.json()
    assert (body["status"], body["error"]) == ("notAuthenticated", error)
    assert code is None or body["code"] == code


# --- test keys ------------------------------------------------------------------------------


async def test_test_key_makes_one_player_per_test_id(client, project):
    first = await sign_in(client, project, testKey=project["test_key"], testId="7")
    assert first.status_code == 200, first.text
    body = first.json()
    assert set(body) == {"status", "clientToken", "name", "pictureUrl"}
    assert (body["status"], body["name"], body["pictureUrl"]) == ("authenticated", "test 7", None)
    again = await sign_in(client, project, testKey=project["test_key"], testId=7)  # int too
    other = await sign_in(client, project, testKey=project["test_key"], testId=8)
    seven, seven_again = (
        principal(client, body["clientToken"]),
        principal(client, again.json()["clientToken"]),
    )
    assert seven == seven_again and seven.game_id == project["id"]
    assert principal(client, other.json()["clientToken"]).player_id != seven.player_id
    # The token works on the match API and lasts a day.
    answer = await client.get("/v1a/client/match/unknown", headers=bearer(body["clientToken"]))
    assert answer.json() == {"status": "notFound"}
    principal(client, body["clientToken"], after=86_399)
    with pytest.raises(ClientTokenInvalid):
        principal(client, body["clientToken"], after=86_401)


async def test_concurrent_first_sign_ins_make_one_player(client, project):
    # Several devices of one new player sign in at once: all pass, as the same player.
    answers = await asyncio.gather(
        *(sign_in(client, project, testKey=project["test_key"], testId="new") for _ in range(6))
    )
    assert [a.status_code for a in answers] == [200] * 6, [a.text for a in answers]
    players = {principal(client, a.json()["clientToken"]).player_id for a in answers}
    assert len(players) == 1
    created = [e for e in await audit_actions(client) if e["action"] == "player.created"]
    assert len(created) == 1


async def test_client_token_lifetime_is_a_setting(make_client, itch, steam):
    async with make_client(battleplace_client_token_ttl=60) as client:
        project = await new_project(client)
        response = await sign_in(client, project, testKey=project["test_key"], testId=1)
        token = response.json()["clientToken"]
        principal(client, token, after=59)
        with pytest.raises(ClientTokenInvalid):
            principal(client, token, after=61)


async def test_only_a_live_test_key_of_the_project_passes(client, project):
    other = await new_project(client, name="Other")
    refused(
        await sign_in(client, project, testKey=other["test_key"], testId=1),
        "bad test key",
        "bad_test_key",
    )
    refused(
        await sign_in(client, project, testKey=project["server_token"], testId=1), "bad test key"
    )
    refused(await sign_in(client, project, testKey="gk_test_guess", testId=1), "bad test key")
    revoked = await new_key(client, project["id"], kind="test")
    await client.delete(f"/admin/v1/keys/{revoked['id']}", headers=ADMIN)
    refused(await sign_in(client, project, testKey=revoked["key"], testId=1), "bad test key")
    failures = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
    assert len(failures) == 4
    assert {(e["details"]["method"], e["details"]["reason"], e["gameId"]) for e in failures} == {
        ("battleplace.test", "bad_test_key", project["id"])
    }
    assert other["test_key"] not in str(failures) and revoked["key"] not in str(failures)


# --- itch.io --------------------------------------------------------------------------------


async def test_itch_jwt_and_api_key_are_one_player(client, project, itch):
    await configure(client, project, itchEnabled=True)
    by_jwt = await sign_in(client, project, itchJwtToken="jwt-alice")
    assert by_jwt.status_code == 200, by_jwt.text
    assert by_jwt.json()["name"] == "Alice"
    assert by_jwt.json()["pictureUrl"] == "https://img.itch.zone/alice.png"
    by_key = await sign_in(client, project, itchApiKey="key-alice")
    assert principal(client, by_key.json()["clientToken"]) == principal(
        client, by_jwt.json()["clientToken"]
    )
    assert [(r.path, r.headers["authorization"]) for r in itch.requests] == [
        ("/api/1/jwt/me", "Bearer jwt-alice"),
        ("/api/1/key/me", "Bearer key-alice"),
    ]


async def test_a_slow_provider_holds_up_no_other_sign_in(client, project, itch):
    # While itch.io takes its time, the server keeps no transaction open: on SQLite one would
    # hold up every other writer until itch.io answered.
    await configure(client, project, itchEnabled=True)
    itch.delay = 4.0
    slow = asyncio.create_task(sign_in(client, project, itchJwtToken="jwt-alice"))
    await until(lambda: len(itch.requests) == 1, what="itch.io holds the first sign-in's request")
    quick = await sign_in(client, project, testKey=project["test_key"], testId="new")
    assert quick.status_code == 200, quick.text
    assert not slow.done()  # signed in and stored while itch.io still had not answered
    itch.release()
    assert (await slow).status_code == 200


async def test_itch_refusals_and_outages(client, project, itch):
    refused(
        await sign_in(client, project, itchJwtToken="jwt-alice"),
        "itch.io sign-in is not enabled for this project",
        "backend_not_enabled",
    )
    assert itch.requests == []  # a backend the project does not use costs no request
    await configure(client, project, itchEnabled=True)
    refused(await sign_in(client, project, itchJwtToken="jwt-forged"), "bad token")
    refused(await sign_in(client, project, itchApiKey="key-forged"), "bad token")
    audited = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
    assert [e["details"]["method"] for e in audited] == [
        "battleplace.itchApiKey",
        "battleplace.itchJwtToken",
    ]  # the disabled backend was not audited: nothing was checked
    assert "forged" not in str(audited)
    itch.status, itch.body = 500, b"<html>oops</html>"
    down = await sign_in(client, project, itchJwtToken="jwt-alice")
    assert down.status_code == 503
    assert down.json()["status"] == "unavailable" and "itch.io" in down.json()["error"]


# --- Steam ----------------------------------------------------------------------------------


async def test_steam_encrypted_ticket(client, project, app_key, clock):
    await configure(client, project, steamAppId=TEST_APP_ID, steamAppKey=app_key.hex())
    ticket = build_ticket(app_key, issued_at=clock.now - timedelta(seconds=30))
    first = await sign_in(client, project, steamEncryptedTicket=ticket.hex())
    assert first.status_code == 200, first.text
    assert first.json()["name"] == f"steam {TEST_STEAM_ID}"
    fresh = build_ticket(app_key, issued_at=clock.now)
    again = await sign_in(client, project, steamEncryptedTicket=fresh.hex().upper())
    assert principal(client, again.json()["clientToken"]) == principal(
        client, first.json()["clientToken"]
    )


@pytest.mark.parametrize(
    ("ticket_args", "error"),
    [
        ({"app_id": TEST_APP_ID + 1}, "wrong app"),
        ({"issued_at_ago": 601}, "ticket expired"),
        ({"other_key": True}, "ticket does not decrypt"),
    ],
)
async def test_steam_encrypted_ticket_refusals(client, project, app_key, clock, ticket_args, error):
    await configure(client, project, steamAppId=TEST_APP_ID, steamAppKey=app_key.hex())
    key = new_app_key() if ticket_args.get("other_key") else app_key
    issued_at = clock.now - timedelta(seconds=ticket_args.get("issued_at_ago", 0))
    ticket = build_ticket(key, issued_at=issued_at, app_id=ticket_args.get("app_id", TEST_APP_ID))
    refused(await sign_in(client, project, steamEncryptedTicket=ticket.hex()), error)
    [entry] = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
    assert entry["details"]["method"] == "battleplace.steamEncryptedTicket"
    assert entry["details"]["detail"] == error and ticket.hex() not in str(entry)


async def test_steam_encrypted_ticket_needs_the_app_key(client, project, app_key, clock):
    ticket = build_ticket(app_key, issued_at=clock.now).hex()
    refused(
        await sign_in(client, project, steamEncryptedTicket=ticket),
        "Steam encrypted app ticket sign-in is not enabled for this project",
    )
    await configure(client, project, steamAppId=TEST_APP_ID, steamAppKey=app_key.hex())
    refused(await sign_in(client, project, steamEncryptedTicket="not hex"), "malformed ticket")
    # A longer window, set per project, admits the older ticket.
    old = build_ticket(app_key, issued_at=clock.now - timedelta(seconds=1200)).hex()
    refused(await sign_in(client, project, steamEncryptedTicket=old), "ticket expired")
    await configure(client, project, steamTicketMaxAge=1800)
    assert (await sign_in(client, project, steamEncryptedTicket=old)).status_code == 200


async def test_steam_web_api_ticket(client, project, steam, app_key, clock):
    steam.add_ticket("ab" * 40, str(TEST_STEAM_ID))
    steam.add_ticket("cd" * 40, "76561197960287931", publisher_banned=True)
    refused(
        await sign_in(client, project, steamAuthTicket="ab" * 40),
        "Steam Web API ticket sign-in is not enabled for this project",
    )
    await configure(
        client,
        project,
        steamAppId=TEST_APP_ID,
        steamPublisherKey=PUBLISHER_KEY,
        steamAppKey=app_key.hex(),
    )
    good = await sign_in(client, project, steamAuthTicket="ab" * 40)
    assert good.status_code == 200, good.text
    asked = [r.path.split("?")[0] for r in steam.requests]
    assert asked == [
        "/ISteamUserAuth/AuthenticateUserTicket/v1/",
        "/ISteamUser/GetPlayerSummaries/v2/",
    ]
    # The same Steam account through an encrypted ticket is the same player.
    encrypted = build_ticket(app_key, issued_at=clock.now).hex()
    same = await sign_in(client, project, steamEncryptedTicket=encrypted)
    assert principal(client, same.json()["clientToken"]) == principal(
        client, good.json()["clientToken"]
    )
    refused(await sign_in(client, project, steamAuthTicket="cd" * 40), "banned")
    refused(await sign_in(client, project, steamAuthTicket="ef" * 40), "bad ticket")
    steam.status, steam.body = 503, b""
    down = await sign_in(client, project, steamAuthTicket="ab" * 40)
    assert (down.status_code, down.json()["status"]) == (503, "unavailable")


async def test_steam_players_carry_their_profile_name_and_avatar(
    client, project, steam, app_key, clock
):
    avatar = "https://avatars.steamstatic.com/0123456789abcdef_full.jpg"
    steam.profiles[str(TEST_STEAM_ID)] = {"personaname": "Gordon", "avatarfull": avatar}
    steam.add_ticket("ab" * 40, str(TEST_STEAM_ID))
    await configure(
        client, project, steamAppId=TEST_APP_ID, steamPublisherKey=PUBLISHER_KEY,
        steamAppKey=app_key.hex(),
    )  # fmt: skip
    web_api = await sign_in(client, project, steamAuthTicket="ab" * 40)
    encrypted = build_ticket(app_key, issued_at=clock.now).hex()
    by_ticket = await sign_in(client, project, steamEncryptedTicket=encrypted)
    # Steam cannot say who a new player is: the sign-in goes on, named by the SteamID.
    steam.add_ticket("cd" * 40, "76561197960287931")
    steam.profiles_status = 500
    nameless = await sign_in(client, project, steamAuthTicket="cd" * 40)

    for answer in (web_api, by_ticket):
        assert answer.status_code == 200, answer.text
        assert (answer.json()["name"], answer.json()["pictureUrl"]) == ("Gordon", avatar)
    assert nameless.status_code == 200, nameless.text
    assert (nameless.json()["name"], nameless.json()["pictureUrl"]) == (
        "steam 76561197960287931",
        None,
    )
    summaries = [r for r in steam.requests if "GetPlayerSummaries" in r.path]
    assert len(summaries) == 3 and f"steamids={TEST_STEAM_ID}" in summaries[0].path


# --- what the request must look like --------------------------------------------------------


async def test_exactly_one_backend(client, project, itch):
    await configure(client, project, itchEnabled=True)
    both = await sign_in(
        client, project, testKey=project["test_key"], testId=1, itchJwtToken="jwt-alice"
    )
    refused(
        both,
        "auth holds credentials for several backends (testKey with testId, itchJwtToken); "
        "send exactly one",
        "several_auth_backends",
    )
    none = await sign_in(client, project)
    refused(none, none.json()["error"], "no_auth_backend")
    assert "testKey with testId, itchJwtToken, itchApiKey" in none.json()["error"]
    assert "steamAuthTicket" in none.json()["error"]
    refused(
        await sign_in(client, project, testKey=project["test_key"]),
        "testKey and testId go together",
    )
    assert itch.requests == []
    # null counts as absent; fields this version does not know are ignored.
    ok = await sign_in(
        client, project, testKey=project["test_key"], testId=1, itchJwtToken=None, extra="x"
    )
    assert ok.status_code == 200, ok.text
    # Shape refusals are not audited; they are counted (below), not logged for a human.
    assert not [e for e in await audit_actions(client) if e["action"] == "auth.failed"]


@pytest.mark.parametrize(
    "body",
    [
        {"projectId": "p", "auth": {"testKey": "k", "testId": {"n": 1}}},
        {"projectId": "p", "auth": {"testKey": "k", "testId": [1]}},
        {"projectId": "p", "auth": "testKey"},
        {"projectId": "p", "auth": None},
        {"auth": {"itchJwtToken": "x"}},
        {"projectId": 5, "auth": {"itchJwtToken": "x"}},
        [],
    ],
)
async def test_malformed_bodies(client, body):
    response = await client.post("/v1a/client/auth", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "invalidRequest" and response.json()["error"]


async def test_empty_test_id_and_huge_body(client, project):
    empty = await sign_in(client, project, testKey=project["test_key"], testId=" ")
    assert (empty.status_code, empty.json()["code"]) == (400, "invalid_test_id")
    huge = await sign_in(client, project, itchJwtToken="x" * 20_000)
    assert (huge.status_code, huge.json()["status"]) == (413, "invalidRequest")
    not_json = await client.post(
        "/v1a/client/auth", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert (not_json.status_code, not_json.json()["status"]) == (400, "invalidRequest")


async def test_unknown_project(client, project):
    stranger = {"id": "no-such-project"}
    refused(
        await sign_in(client, stranger, testKey=project["test_key"], testId=1),
        "unknown project",
        "project_not_found",
    )
    game_without_keys = {"id": await new_game(client, "Bare")}
    refused(
        await sign_in(client, game_without_keys, testKey=project["test_key"], testId=1),
        "bad test key",
    )


async def test_refusals_lock_out_the_address(make_client, itch, steam):
    async with make_client(rate_limits={"auth_failure": "3/minute"}) as client:
        project = await new_project(client)
        for _ in range(3):
            refused(
                await sign_in(client, project, testKey="gk_test_guess", testId=1), "bad test key"
            )
        locked = await sign_in(client, project, testKey=project["test_key"], testId=1)
        assert locked.status_code == 429
        assert locked.json()["status"] == "rateLimited" and "Retry-After" in locked.headers
        audited = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
        assert len(audited) == 3  # nothing more is written once the address is locked out
