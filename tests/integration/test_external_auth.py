"""The itch.io and Steam Web API verifiers against loopback stand-ins of both APIs."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from gamekeeper.core.matchmaking.external import (
    ExternalAuthRefused,
    ExternalAuthUnavailable,
    ExternalUser,
    ItchVerifier,
    SteamVerifier,
)
from gamekeeper.infra.itch import HttpItchVerifier
from gamekeeper.infra.steam import HttpSteamVerifier
from gamekeeper.settings import load_settings
from support.standins import ItchStandIn, SteamStandIn, serving

pytestmark = pytest.mark.anyio

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl"
API_KEY = "itch-api-key-0123456789abcdef"
TIMEOUT = 0.3
PUBLISHER_KEY = "0123456789ABCDEF0123456789ABCDEF"
TICKET = "14000000aabbccdd" * 8
STEAM_ID = "76561197960287930"


@pytest.fixture
def itch() -> Iterator[ItchStandIn]:
    stand_in = ItchStandIn(
        jwt_users={
            JWT: {
                "id": 1234,
                "username": "leafo",
                "display_name": "Leaf",
                "cover_url": "https://img.itch.zone/leafo.png",
            }
        },
        key_users={API_KEY: {"id": 99, "username": "plain", "url": "https://plain.itch.io"}},
    )
    with serving(stand_in):
        yield stand_in


@pytest.fixture
async def itch_verifier(itch: ItchStandIn) -> AsyncIterator[HttpItchVerifier]:
    verifier = HttpItchVerifier(itch.url, timeout=TIMEOUT)
    yield verifier
    await verifier.aclose()


@pytest.fixture
def steam() -> Iterator[SteamStandIn]:
    with serving(SteamStandIn(publisher_key=PUBLISHER_KEY, app_id=480)) as stand_in:
        yield stand_in


@pytest.fixture
async def steam_verifier(steam: SteamStandIn) -> AsyncIterator[HttpSteamVerifier]:
    verifier = HttpSteamVerifier(steam.url, timeout=TIMEOUT)
    yield verifier
    await verifier.aclose()


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


# --- itch.io ------------------------------------------------------------------------------


async def test_an_itch_jwt_names_its_user(itch: ItchStandIn, itch_verifier: ItchVerifier):
    user = await itch_verifier.jwt_me(JWT)
    assert user == ExternalUser("itch", "1234", "Leaf", "https://img.itch.zone/leafo.png")
    (request,) = itch.requests
    assert urlsplit(request.path).path == "/api/1/jwt/me"
    assert request.headers["authorization"] == f"Bearer {JWT}"


async def test_an_itch_api_key_names_its_user_by_username_without_a_cover(
    itch: ItchStandIn, itch_verifier: ItchVerifier
):
    assert await itch_verifier.key_me(API_KEY) == ExternalUser("itch", "99", "plain", None)
    assert urlsplit(itch.requests[0].path).path == "/api/1/key/me"


@pytest.mark.parametrize("refusal_status", [200, 401, 403])
async def test_a_token_itch_refuses_is_a_bad_token(
    itch: ItchStandIn, itch_verifier: ItchVerifier, refusal_status: int
):
    itch.refusal_status = refusal_status
    for attempt in (itch_verifier.jwt_me("not-a-real-jwt"), itch_verifier.key_me(JWT)):
        with pytest.raises(ExternalAuthRefused) as caught:
            await attempt
        assert caught.value.message == "bad token"
    assert len(itch.requests) == 2


@pytest.mark.parametrize("token", ["", "two words", "line\nbreak", "é-accent", "x" * 5000])
async def test_a_token_that_cannot_be_one_is_refused_without_asking_itch(
    itch: ItchStandIn, itch_verifier: ItchVerifier, token: str
):
    with pytest.raises(ExternalAuthRefused, match="bad token"):
        await itch_verifier.jwt_me(token)
    assert itch.requests == []


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"errors": ["internal"]}'),
        (503, b"<html>maintenance</html>"),
        (200, b"<html>a captive portal</html>"),
        (200, b'{"unexpected": true}'),
        (200, b'{"user": {"username": "no id"}}'),
    ],
)
async def test_itch_failing_or_answering_nonsense_is_unavailable(
    itch: ItchStandIn, itch_verifier: ItchVerifier, status: int, body: bytes
):
    itch.status, itch.body = status, body
    with pytest.raises(ExternalAuthUnavailable, match="try again later"):
        await itch_verifier.jwt_me(JWT)


async def test_a_slow_itch_is_unavailable_once_the_timeout_passes(
    itch: ItchStandIn, itch_verifier: ItchVerifier
):
    itch.delay = 30.0
    started = time.monotonic()
    with pytest.raises(ExternalAuthUnavailable, match="did not answer in time"):
        await itch_verifier.jwt_me(JWT)
    assert TIMEOUT <= time.monotonic() - started < TIMEOUT + 2


async def test_an_unreachable_itch_is_unavailable():
    verifier = HttpItchVerifier(_closed_port_url(), timeout=TIMEOUT)
    try:
        with pytest.raises(ExternalAuthUnavailable, match="cannot be reached"):
            await verifier.key_me(API_KEY)
    finally:
        await verifier.aclose()


async def test_itch_credentials_stay_out_of_errors_and_logs(
    itch: ItchStandIn, itch_verifier: ItchVerifier, capsys: pytest.CaptureFixture[str]
):
    itch.status, itch.body = 502, b"bad gateway"
    with pytest.raises(ExternalAuthUnavailable) as caught:
        await itch_verifier.jwt_me(JWT)
    assert "itch_unavailable" in capsys.readouterr().out  # the failure is logged...
    itch.status = None
    with pytest.raises(ExternalAuthRefused) as refused:
        await itch_verifier.key_me("wrong-key-0123")
    logged = capsys.readouterr()
    for text in (str(caught.value), str(refused.value), logged.out, logged.err):
        assert JWT not in text and "wrong-key-0123" not in text  # ...without the credential


# --- Steam Web API ------------------------------------------------------------------------


async def test_a_steam_session_ticket_names_its_user(
    steam: SteamStandIn, steam_verifier: SteamVerifier
):
    steam.add_ticket(TICKET, STEAM_ID)
    user = await steam_verifier.authenticate_user_ticket(
        TICKET, app_id=480, publisher_key=PUBLISHER_KEY
    )
    assert user == ExternalUser("steam", STEAM_ID, None, None)
    (request,) = steam.requests
    query = parse_qs(urlsplit(request.path).query)
    assert urlsplit(request.path).path == "/ISteamUserAuth/AuthenticateUserTicket/v1/"
    assert query == {"key": [PUBLISHER_KEY], "appid": ["480"], "ticket": [TICKET]}


async def test_a_ticket_steam_does_not_know_or_for_another_app_is_a_bad_ticket(
    steam: SteamStandIn, steam_verifier: SteamVerifier
):
    with pytest.raises(ExternalAuthRefused, match="bad ticket"):
        await steam_verifier.authenticate_user_ticket(
            TICKET, app_id=480, publisher_key=PUBLISHER_KEY
        )
    steam.add_ticket(TICKET, STEAM_ID)
    with pytest.raises(ExternalAuthRefused, match="bad ticket"):
        await steam_verifier.authenticate_user_ticket(
            TICKET, app_id=730, publisher_key=PUBLISHER_KEY
        )


async def test_a_publisher_banned_player_is_refused_but_a_vac_ban_alone_is_not(
    steam: SteamStandIn, steam_verifier: SteamVerifier
):
    steam.add_ticket(TICKET, STEAM_ID, publisher_banned=True, vac_banned=True)
    with pytest.raises(ExternalAuthRefused) as caught:
        await steam_verifier.authenticate_user_ticket(
            TICKET, app_id=480, publisher_key=PUBLISHER_KEY
        )
    assert caught.value.message == "banned"
    steam.add_ticket(TICKET, STEAM_ID, vac_banned=True)
    user = await steam_verifier.authenticate_user_ticket(
        TICKET, app_id=480, publisher_key=PUBLISHER_KEY
    )
    assert user.subject == STEAM_ID


async def test_a_family_shared_copy_is_refused_and_says_so(
    steam: SteamStandIn, steam_verifier: SteamVerifier
):
    steam.add_ticket(TICKET, STEAM_ID, owner="76561197960265729")
    with pytest.raises(ExternalAuthRefused) as caught:
        await steam_verifier.authenticate_user_ticket(
            TICKET, app_id=480, publisher_key=PUBLISHER_KEY
        )
    assert "family-shared" in caught.value.message


@pytest.mark.parametrize("ticket", ["", "abc", "zz" * 8, "14 00", "ab" * 5000])
async def test_a_ticket_that_is_not_hex_is_refused_without_asking_steam(
    steam: SteamStandIn, steam_verifier: SteamVerifier, ticket: str
):
    with pytest.raises(ExternalAuthRefused, match="malformed ticket"):
        await steam_verifier.authenticate_user_ticket(
            ticket, app_id=480, publisher_key=PUBLISHER_KEY
        )
    assert steam.requests == []


async def test_a_publisher_key_steam_rejects_is_unavailable_and_never_shown(
    steam: SteamStandIn, steam_verifier: SteamVerifier, capsys: pytest.CaptureFixture[str]
):
    steam.add_ticket(TICKET, STEAM_ID)
    with pytest.raises(ExternalAuthUnavailable, match="publisher key") as caught:
        await steam_verifier.authenticate_user_ticket(
            TICKET, app_id=480, publisher_key="WRONGKEY0123456789"
        )
    logged = capsys.readouterr()
    assert "steam_unavailable" in logged.out
    for text in (str(caught.value), logged.out, logged.err):
        assert "WRONGKEY0123456789" not in text and TICKET not in text


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b"<html>Internal Server Error</html>"),
        (200, b"<html>not json</html>"),
        (200, b'{"response": {}}'),
        (200, b'{"response": {"params": {"result": "OK"}}}'),
    ],
)
async def test_steam_failing_or_answering_nonsense_is_unavailable(
    steam: SteamStandIn, steam_verifier: SteamVerifier, status: int, body: bytes
):
    steam.status, steam.body = status, body
    with pytest.raises(ExternalAuthUnavailable, match="try again later"):
        await steam_verifier.authenticate_user_ticket(
            TICKET, app_id=480, publisher_key=PUBLISHER_KEY
        )


async def test_a_slow_or_unreachable_steam_is_unavailable(
    steam: SteamStandIn, steam_verifier: SteamVerifier
):
    steam.delay = 30.0
    started = time.monotonic()
    with pytest.raises(ExternalAuthUnavailable, match="did not answer in time"):
        await steam_verifier.authenticate_user_ticket(
            TICKET, app_id=480, publisher_key=PUBLISHER_KEY
        )
    assert time.monotonic() - started < TIMEOUT + 2
    unreachable = HttpSteamVerifier(_closed_port_url(), timeout=TIMEOUT)
    try:
        with pytest.raises(ExternalAuthUnavailable, match="cannot be reached"):
            await unreachable.authenticate_user_ticket(
                TICKET, app_id=480, publisher_key=PUBLISHER_KEY
            )
    finally:
        await unreachable.aclose()


async def test_verifiers_take_their_base_urls_and_timeout_from_settings(
    itch: ItchStandIn, steam: SteamStandIn
):
    settings = load_settings(
        env={}, itch_base_url=itch.url, steam_api_base_url=steam.url, external_auth_timeout=2.0
    )
    steam.add_ticket(TICKET, STEAM_ID)
    itch_verifier = HttpItchVerifier.from_settings(settings)
    steam_verifier = HttpSteamVerifier.from_settings(settings)
    try:
        assert (await itch_verifier.jwt_me(JWT)).subject == "1234"
        user = await steam_verifier.authenticate_user_ticket(
            TICKET, app_id=480, publisher_key=PUBLISHER_KEY
        )
        assert user.subject == STEAM_ID
    finally:
        await itch_verifier.aclose()
        await steam_verifier.aclose()
