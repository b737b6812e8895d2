"""Input refused at the edge (issue 15, items 5-8 and 13), each in its dialect's envelope.

Every case here used to be a 500 with a traceback at error level: a non-ASCII MAC, JSON nested
a thousand deep, an integer too large for SQL, a NUL byte that PostgreSQL refuses in text, and
JSON read from a body that says it is something else. Each runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
import json

import msgspec
import pytest
from litestar.params import KwargDefinition
from PIL import Image

from gamekeeper.api import edge
from gamekeeper.api import errors as api_errors
from gamekeeper.core.identity import hmac_auth
from gamekeeper.core.secrets import constant_time_equal
from support.battleplace import bearer, client_token, new_project
from support.provision import ADMIN, audit_actions, new_developer, new_game, new_key

pytestmark = pytest.mark.anyio
DEEP = 1000
AUTH = "/api/v1/auth"


@pytest.fixture
async def client(make_client):
    async with make_client() as client:
        yield client


class _Log:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def error(self, event: str, **_: object) -> None:
        self.errors.append(event)


@pytest.fixture(autouse=True)
def no_unhandled_errors(monkeypatch):
    """None of these requests reaches the 500 path, which logs a traceback at error level."""
    log = _Log()
    monkeypatch.setattr(api_errors, "log", log)
    yield
    assert log.errors == []


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


class Signer:
    """OGP signatures, a fresh millisecond timestamp for each (a write's is good once)."""

    def __init__(self, clock) -> None:
        self.clock, self.count = clock, 0

    def __call__(self, developer: dict, method: str, path: str) -> dict[str, str]:
        self.count += 1
        timestamp = str(int(self.clock().timestamp()) * 1000 + self.count)
        value = hmac_auth.header_value(
            developer["apiKey"], developer["secretKey"], method, path, timestamp
        )
        return {"Authorization": value}


@pytest.fixture
def sign(clock) -> Signer:
    return Signer(clock)


# --- 5: a MAC that is not ASCII is a bad credential --------------------------------------------


def test_constant_time_equal_takes_any_text():
    assert constant_time_equal("abc", "abc")
    assert not constant_time_equal("abc", "abé")
    assert not constant_time_equal("é", "e")
    assert not constant_time_equal("\ud800", "x")  # a lone surrogate, as JSON may carry


async def test_a_client_token_with_a_non_ascii_mac_is_a_bad_credential(client):
    project = await new_project(client)
    good = await client_token(client, project, "1")
    forged = good.rsplit(".", 1)[0] + ".\xe9\xe9\xe9"
    response = await client.get(
        "/v1a/client/match/x", headers={"Authorization": f"Bearer {forged}".encode("latin-1")}
    )
    assert response.status_code == 401
    assert response.json()["status"] == "notAuthenticated"
    failures = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
    assert [e["details"]["method"] for e in failures] == ["battleplace.client_token"]


async def test_session_tokens_with_a_non_ascii_mac_are_refused(client):
    project = await new_project(client)
    token = await client_token(client, project, "1")
    body = {"status": "finished", "ranks": [0, 1]}
    client_side = await client.post(
        "/v1a/client/session/s1.abc.%C3%A9/result", json=body, headers=bearer(token)
    )
    assert client_side.status_code == 401, client_side.text
    assert client_side.json()["status"] == "notAuthenticated"
    server_body = {
        **body,
        "projectId": project["id"],
        "projectServerToken": project["server_token"],
    }
    server_side = await client.post("/v1a/server/session/v1.abc.%C3%A9/result", json=server_body)
    assert server_side.status_code == 401, server_side.text
    assert server_side.json()["status"] == "notAuthenticated"


async def test_an_ogp_signature_that_is_not_ascii_is_refused(client, clock):
    developer = await new_developer(client)
    timestamp = str(int(clock().timestamp()))
    header = f"HMAC-SHA256 apiKey={developer['apiKey']}, signature=\xe9\xe9, timestamp={timestamp}"
    response = await client.get("/user/me", headers={"Authorization": header.encode("latin-1")})
    assert response.status_code == 401, response.text
    assert response.json()["statusCode"] == 401


async def test_a_non_ascii_link_page_csrf_token_is_refused(make_client):
    async with make_client() as browser:
        browser.base_url = "http://127.0.0.1"
        game = await new_game(browser, allowedOrigins=["https://play.example.com"])
        key = {"Authorization": f"Bearer {(await new_key(browser, game))['key']}"}
        issued = await browser.post(
            f"{AUTH}/account-link-token",
            json={"gameUserId": "u-1", "redirectUrl": "https://play.example.com/back"},
            headers=key,
        )
        token = issued.json()["linkToken"]
        page = await browser.get("/link-account", params={"token": token})
        assert page.status_code == 200
        refused = await browser.post(
            "/link-account/confirm", data={"token": token, "csrf_token": "\u00e9\u00e9"}
        )
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"].startswith("text/html")
        assert "could not be verified" in refused.text


# --- 6: nesting is bounded on every route ------------------------------------------------------


async def test_json_nested_a_thousand_deep_is_refused_in_each_envelope(client, sign):
    project = await new_project(client)
    token = await client_token(client, project, "1")
    developer = await new_developer(client)
    deep = nested(DEEP)
    json_type = {"Content-Type": "application/json"}
    cases = {
        "admin": ("/admin/v1/games", ADMIN),
        "ogs": (f"{AUTH}/signup", {}),
        "battleplace auth": ("/v1a/client/auth", {}),
        "battleplace match": ("/v1a/client/match", bearer(token)),
        "ogp public": ("/games/batch/ids", {}),
        "ogp signed": ("/play/dev/batch-save-points", None),
        "ogp register": ("/games", None),
    }
    for name, (path, headers) in cases.items():
        for body in (deep, '{"info": ' + deep + "}"):
            sent = {**(headers or sign(developer, "POST", path)), **json_type}
            response = await client.post(path, content=body, headers=sent)
            assert response.status_code == 400, (name, response.text)
            assert "nested more than 32 levels" in response.text, name
            payload = response.json()
            match name.split()[0]:
                case "admin" | "ogs":
                    assert payload["error"]["code"] == "invalid_body"
                case "battleplace":
                    assert payload["status"] == "invalidRequest"
                case "ogp":
                    assert payload["statusCode"] == 400 and payload["error"] == "Bad Request"


async def test_nesting_up_to_the_bound_is_accepted(client):
    project = await new_project(client)
    token = await client_token(client, project, "1")
    info = json.loads(nested(edge.MAX_DEPTH - 1))
    accepted = await client.post(
        "/v1a/client/match",
        json={"teamSizes": [1, 1], "maxMatchTime": 30, "info": info},
        headers=bearer(token),
    )
    assert accepted.status_code == 200, accepted.text
    refused = await client.post(
        "/v1a/client/match",
        json={"teamSizes": [1, 1], "maxMatchTime": 30, "info": json.loads(nested(edge.MAX_DEPTH))},
        headers=bearer(token),
    )
    assert refused.status_code == 400
    assert "nested more than 32 levels" in refused.json()["error"]


async def test_a_nested_rewards_split_in_a_multipart_form_is_refused(client, sign):
    developer = await new_developer(client)
    fields = {
        "name": "Deep",
        "description": "Nested",
        "gameUrl": "https://deep.example/play",
        "platform": "WEB",
        "orgRewardsSplit": '{"a": ' + nested(DEEP) + "}",
    }
    response = await client.post(
        "/games",
        data=fields,
        files={"x": ("x.txt", b"x")},
        headers=sign(developer, "POST", "/games"),
    )
    assert response.status_code == 400, response.text
    assert response.json()["statusCode"] == 400
    assert "nested more than 32 levels" in response.json()["message"]


def test_ordinary_bodies_are_checked_without_decoding(monkeypatch):
    """A body of few brackets, no ``\\u0000`` and no 19-digit run is passed by byte scans in C;
    only one that has them is decoded and walked."""
    decoded = []
    decode = msgspec.json.decode
    monkeypatch.setattr(edge.msgspec.json, "decode", lambda b: decoded.append(b) or decode(b))
    match = msgspec.json.encode({"teamSizes": [1, 1], "maxMatchTime": 30, "info": {"n": "x"}})
    edge.check_json(match)
    assert decoded == []
    batch = msgspec.json.encode(
        {"gameApiKey": "g", "points": [{"playerId": f"p{i}", "points": i} for i in range(100)]}
    )
    edge.check_json(batch)  # many brackets, all shallow
    assert decoded == [batch]


# --- 7: integers that reach SQL are bounded -----------------------------------------------------


async def test_an_audit_cursor_beyond_64_bits_is_a_400(client):
    for before in ("99999999999999999999", "-1"):
        response = await client.get(f"/admin/v1/audit?before={before}", headers=ADMIN)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] == "invalid_body"
        assert "before" in response.json()["error"]["message"]
    fine = await client.get(f"/admin/v1/audit?before={2**63 - 1}", headers=ADMIN)
    assert fine.status_code == 200


async def test_integers_in_json_bodies_must_fit_64_bits(client):
    developer = await new_developer(client)
    body = {"name": "Big", "settings": {"score": 2**63}}
    response = await client.post("/admin/v1/games", json=body, headers=ADMIN)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith("settings.score:")
    assert developer  # the app is otherwise fine: a developer was made before


def test_every_integer_query_parameter_is_bounded(make_client):
    """Each int a query string can carry, to a handler or a dependency, is bounded within the
    signed 64-bit range (the audit cursor was not)."""
    app = make_client().app
    seen, unbounded = [], []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            signatures = [handler.parsed_fn_signature]
            signatures += [p.parsed_fn_signature for p in handler.resolve_dependencies().values()]
            for signature in signatures:
                for name, parameter in signature.parameters.items():
                    types = {parameter.annotation, *(t.annotation for t in parameter.inner_types)}
                    kwarg = parameter.kwarg_definition
                    if int not in types or not isinstance(kwarg, KwargDefinition | None):
                        continue
                    seen.append(name)
                    kwarg = kwarg or KwargDefinition()
                    low = kwarg.ge if kwarg.ge is not None else kwarg.gt
                    high = kwarg.le if kwarg.le is not None else kwarg.lt
                    if low is None or high is None or low < edge.INT64_MIN or high > edge.INT64_MAX:
                        unbounded.append(f"{route.path} {name}")
    assert "before" in seen and "limit" in seen
    assert unbounded == []


# --- 8: NUL is refused in every text the request carries ---------------------------------------


async def test_nul_in_json_text_is_refused(client):
    game = await new_game(client, allowedOrigins=["https://play.example.com"])
    key = {"Authorization": f"Bearer {(await new_key(client, game))['key']}"}
    project = await new_project(client)
    cases = [
        ("/admin/v1/games", {"name": "a\x00b"}, ADMIN, "name"),
        ("/admin/v1/developers", {"name": "dev\x00"}, ADMIN, "name"),
        (f"{AUTH}/signup", {"email": "a\x00@example.com", "password": "x" * 12}, {}, "email"),
        (
            f"{AUTH}/account-link-token",
            {"gameUserId": "u\x00", "redirectUrl": "https://play.example.com/b"},
            key,
            "gameUserId",
        ),
        (
            "/v1a/client/auth",
            {
                "projectId": project["id"],
                "auth": {"testKey": project["test_key"], "testId": "\x00"},
            },
            {},
            "auth.testId",
        ),
        ("/admin/v1/games", {"name": "ok", "settings": {"tag\x00": 1}}, ADMIN, "settings"),
    ]
    for path, body, headers, field in cases:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 400, (path, response.text)
        message = response.text
        assert field in message and "NUL" in message, message


async def test_an_escaped_backslash_before_u0000_is_not_a_nul(client):
    response = await client.post(
        "/admin/v1/developers",
        content=b'{"name": "a\\\\u0000"}',
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "a\\u0000"


async def test_nul_in_paths_queries_and_headers_is_refused(client, clock):
    project = await new_project(client)
    token = await client_token(client, project, "1")
    path = await client.get("/admin/v1/games/a%00b", headers=ADMIN)
    assert path.status_code == 400, path.text
    assert path.json()["error"]["code"] == "invalid_characters"
    query = await client.get("/admin/v1/games?cursor=%00", headers=ADMIN)
    assert query.status_code == 400, query.text
    assert "cursor" in query.json()["error"]["message"]
    ogp = await client.get("/games/by-token-id/x%00")
    assert (ogp.status_code, ogp.json()["statusCode"]) == (400, 400)
    bp = await client.get("/v1a/client/match/%00", headers=bearer(token))
    assert (bp.status_code, bp.json()["status"]) == (400, "invalidRequest")
    media = await client.get("/media/" + "0" * 64 + ".png%00")
    assert (media.status_code, media.json()["error"]["code"]) == (400, "invalid_characters")
    # Checked before the guards: a uuid-shaped OGP api key with a NUL never reaches a lookup.
    api_key = "00000000-0000-0000-0000-00000000000\x00"
    signed = f"HMAC-SHA256 apiKey={api_key}, signature=ab, timestamp={int(clock().timestamp())}"
    refused = await client.get("/user/me", headers={"Authorization": signed})
    assert (refused.status_code, refused.json()["statusCode"]) == (400, 400), refused.text
    assert "authorization header" in refused.json()["message"]
    header = await client.get("/admin/v1/games", headers={**ADMIN, "X-Thing": "a\x00b"})
    assert header.status_code == 400, header.text
    assert "x-thing" in header.json()["error"]["message"].lower()


async def test_nul_in_form_fields_is_refused(client, sign):
    page = await client.post("/link-account/sign-up", data={"token": "t", "email": "a\x00@b.c"})
    assert page.status_code == 400, page.text
    assert page.headers["content-type"].startswith("text/html")
    developer = await new_developer(client)
    fields = {
        "name": "Nul\x00",
        "description": "d",
        "gameUrl": "https://nul.example/play",
        "platform": "WEB",
    }
    ogp = await client.post(
        "/games",
        data=fields,
        files={"x": ("x.txt", b"\x00")},
        headers=sign(developer, "POST", "/games"),
    )
    assert ogp.status_code == 400, ogp.text
    assert "name" in ogp.json()["message"]


# --- 13: JSON only where JSON is read ---------------------------------------------------------


async def test_json_routes_refuse_other_media_types(client, sign):
    project = await new_project(client)
    token = await client_token(client, project, "1")
    developer = await new_developer(client)
    body = json.dumps({"email": "ada@example.com", "password": "correct horse battery"})
    cases = {
        "ogs": (f"{AUTH}/signup", {}),
        "admin": ("/admin/v1/developers", ADMIN),
        "battleplace": ("/v1a/client/match", bearer(token)),
        "ogp": ("/play/dev/batch-save-points", None),
    }
    for name, (path, headers) in cases.items():
        for media_type in ("text/plain", "application/x-www-form-urlencoded", None):
            sent = dict(headers or sign(developer, "POST", path))
            if media_type:
                sent["Content-Type"] = media_type
            response = await client.post(path, content=body, headers=sent)
            assert response.status_code == 415, (name, media_type, response.text)
            assert "application/json" in response.text
    for media_type in ("application/json; charset=utf-8", "application/vnd.gamekeeper+json"):
        response = await client.post(
            f"{AUTH}/signup", content=body, headers={"Content-Type": media_type}
        )
        assert response.status_code in (201, 409), (media_type, response.text)


async def test_the_refresh_cookie_is_read_only_from_a_json_request(client):
    signed_up = await client.post(
        f"{AUTH}/signup", json={"email": "ada@example.com", "password": "correct horse battery"}
    )
    cookies = signed_up.headers.get_list("set-cookie")
    assert [c.split("=", 1)[0] for c in cookies] == ["refresh"]  # no session cookie
    cookie = {"Cookie": f"refresh={signed_up.json()['refreshToken']}"}
    for headers in ({}, {"Content-Type": "text/plain"}):
        refused = await client.post(f"{AUTH}/refresh", headers={**cookie, **headers})
        assert refused.status_code == 415, refused.text
    accepted = await client.post(
        f"{AUTH}/refresh", headers={**cookie, "Content-Type": "application/json"}
    )
    assert accepted.status_code == 200, accepted.text


async def test_the_sdk_s_multipart_register_still_works(client, sign):
    developer = await new_developer(client)
    fields = {
        "name": "Form",
        "description": "Sent as FormData",
        "gameUrl": "https://form.example/play",
        "platform": "WEB",
        "orgRewardsSplit": json.dumps({"email:ada@example.com": 10000}),
    }
    image = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(image, "PNG")
    response = await client.post(
        "/games",
        data=fields,
        files={"image": ("i.png", image.getvalue(), "image/png")},
        headers=sign(developer, "POST", "/games"),
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["name"] == "Form"
