"""``/openapi.json`` says what the server does: bodies, credentials, error envelopes, limits.

Each claim of the document is checked against the server's behaviour, operation by operation:
a route that reads a body refuses a broken one (and declares it); a route that wants a
credential refuses a request without one (and names its scheme); every error a route answers
is in its dialect's envelope, which the document references.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
from typing import Any

import msgspec
import pytest
from PIL import Image

from gamekeeper.api.dialects.battleplace.errors import BattlePlaceError
from gamekeeper.api.dialects.ogp.errors import OgpError
from gamekeeper.api.openapi import ErrorOut
from gamekeeper.core.identity import hmac_auth
from support.provision import ADMIN, new_developer, new_game, new_key

pytestmark = pytest.mark.anyio

METHODS = ("get", "post", "put", "patch", "delete")
WRITES = ("post", "put", "patch", "delete")
OGP = ("/user", "/games", "/play")


def envelope_of(path: str) -> type[msgspec.Struct]:
    """The dialect's envelope, by the dialect's paths."""
    if path.startswith("/v1a/"):
        return BattlePlaceError
    if path.split("/")[1] in {p.strip("/") for p in OGP}:
        return OgpError
    return ErrorOut


class Caller:
    """Sends an operation's request with the credential of one of its schemes, or none."""

    def __init__(self, client, clock, credentials: dict[str, Any]) -> None:
        self.client, self.clock, self.credentials = client, clock, credentials
        self.signed = 0

    def headers(self, operation: dict[str, Any], method: str, path: str) -> dict[str, str]:
        for item in operation.get("security") or []:
            scheme = next(iter(item))
            if scheme == "developerHmac":
                return {"Authorization": self.sign(method, path)}
            if scheme in self.credentials:
                return {"Authorization": f"Bearer {self.credentials[scheme]}"}
        return {}

    def sign(self, method: str, path: str) -> str:
        """Signed as the document's developerHmac scheme describes, with no help from core."""
        self.signed += 1  # a write's signature is good for one request
        timestamp = str(int(self.clock().timestamp()) * 1000 + self.signed)
        developer = self.credentials["developer"]
        message = f"{method.lower()}\n{path.lower()}\n{timestamp}".encode()
        signature = hmac.new(developer["secretKey"].encode(), message, hashlib.sha256).hexdigest()
        key = developer["apiKey"]
        return f"HMAC-SHA256 apiKey={key}, signature={signature}, timestamp={timestamp}"

    async def call(self, method: str, path: str, *, headers: dict[str, str], content: bytes | None):
        sent = {**headers, "Content-Type": "application/json"} if content is not None else headers
        return await self.client.request(method.upper(), path, headers=sent, content=content)


@pytest.fixture
async def setup(make_client, clock):
    # Without rate limits: a hundred refused credentials from one address would lock it out.
    async with make_client(rate_limits_enabled=False) as client:
        game = await new_game(client)
        server_key = (await new_key(client, game))["key"]
        test_key = (await new_key(client, game, kind="test"))["key"]
        player = await client.post("/api/v1/auth/device", json={"deviceId": "document-device"})
        auth = {"projectId": game, "auth": {"testKey": test_key, "testId": "doc"}}
        bp_client = await client.post("/v1a/client/auth", json=auth)
        credentials = {
            "adminToken": ADMIN["Authorization"].removeprefix("Bearer "),
            "gameKey": server_key,
            "playerSession": player.json()["sessionToken"],
            "clientToken": bp_client.json()["clientToken"],
            "developer": await new_developer(client),
        }
        document = (await client.get("/openapi.json")).json()
        yield document, Caller(client, clock, credentials)


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method], re.sub(r"\{[^}]+\}", "x", path)


async def test_every_route_that_reads_a_body_declares_it(setup):
    document, caller = setup
    wrong = []
    for path, method, operation, concrete in operations(document):
        if method not in WRITES or concrete in ("/api/v1/auth/logout", "/user/reset-secret"):
            continue  # these two end the credential the next operations use
        headers = caller.headers(operation, method, concrete)
        answer = await caller.call(method, concrete, headers=headers, content=b'{"broken": ')
        if "requestBody" in operation:
            # A body read after a credential in its path is checked: 401 comes first.
            credential_first = answer.status_code == 401 and not operation.get("security")
            if answer.status_code != 400 and not credential_first:
                wrong.append(f"{method.upper()} {path} ignores a broken body: {answer.text}")
            continue
        headers = caller.headers(operation, method, concrete)
        without = await caller.call(method, concrete, headers=headers, content=None)
        if answer.status_code != without.status_code:  # the body made a difference
            wrong.append(f"{method.upper()} {path} reads an undeclared body: {answer.text}")
    assert not wrong, "\n".join(wrong)


async def test_a_route_that_wants_a_credential_names_its_scheme(setup):
    document, caller = setup
    wrong = []
    for path, method, operation, concrete in operations(document):
        body = b"{}" if "requestBody" in operation else None
        answer = await caller.call(method, concrete, headers={}, content=body)
        secured = bool(operation.get("security"))
        if secured and answer.status_code != 401:
            wrong.append(f"{method.upper()} {path} names a scheme, answers {answer.status_code}")
        if answer.status_code == 401 and not secured and "401" not in operation["responses"]:
            wrong.append(f"{method.upper()} {path} answers 401 but names no credential")
        if answer.status_code >= 400:
            shape = envelope_of(path)
            msgspec.json.decode(answer.content, type=shape)  # raises if off the envelope
            assert set(answer.json()) == set(shape.__struct_encode_fields__), answer.text
    assert not wrong, "\n".join(wrong)


async def test_errors_are_documented_in_the_dialects_envelope(setup):
    document, _ = setup
    schemas = document["components"]["schemas"]
    for path, method, operation, _ in operations(document):
        name = envelope_of(path).__name__
        errors = {s: r for s, r in operation["responses"].items() if s.startswith("4")}
        assert "429" in errors, (method, path)  # every route is rate limited
        if operation.get("security"):
            assert {"401", "403"} <= set(errors), (method, path)
        for status, response in errors.items():
            schema = response["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{name}"}, (method, path, status)
    assert set(schemas["OgpError"]["required"]) == {"statusCode", "message", "error"}
    assert set(schemas["BattlePlaceError"]["required"]) == {"status", "error", "code"}
    assert set(schemas["ErrorOut"]["required"]) == {"error"}


async def test_the_bodies_the_dialects_read_by_hand_are_documented(setup):
    document, _ = setup
    paths = document["paths"]

    def body(path: str, method: str = "post") -> dict[str, Any]:
        return paths[path][method]["requestBody"]["content"]

    assert set(body("/games")) == {"application/json", "multipart/form-data"}
    for path, method in [
        ("/games", "post"),
        ("/games/update/{game_id}", "post"),
        ("/play/dev/batch-save-points", "post"),
        ("/v1a/client/match", "post"),
        ("/v1a/server/match", "post"),
        ("/v1a/server/match", "delete"),
        ("/v1a/server/match/sessions", "post"),
        ("/v1a/client/session/{session_token}/result", "post"),
        ("/v1a/server/session/{server_session_token}/result", "post"),
    ]:
        ref = body(path, method)["application/json"]["schema"]["$ref"]
        assert ref.rpartition("/")[2] in document["components"]["schemas"], (path, ref)
    result = body("/v1a/server/session/{server_session_token}/result")["application/json"]
    schema = document["components"]["schemas"][result["schema"]["$ref"].rpartition("/")[2]]
    assert schema["required"] == ["status"]  # projectId and projectServerToken are optional


async def test_the_hmac_scheme_gives_the_exact_string_to_sign(setup):
    document, caller = setup
    scheme = document["components"]["securitySchemes"]["developerHmac"]
    assert "`<method>\\n<path>\\n<timestamp>`" in scheme["description"]
    assert repr(hmac_auth.string_to_sign("GET", "/user/me", "1735689600")) in scheme["description"]
    assert document["paths"]["/user/me"]["get"]["security"] == [{"developerHmac": []}]
    # Signing by the description alone is accepted (Caller.sign uses no Gamekeeper code).
    answer = await caller.client.get(
        "/user/me", headers={"Authorization": caller.sign("GET", "/user/me")}
    )
    assert answer.status_code == 200, answer.text


async def test_the_documented_limits_are_the_enforced_ones(setup):
    document, caller = setup
    schemas = document["components"]["schemas"]
    device = schemas["DeviceIn"]["properties"]["deviceId"]
    assert (device["minLength"], device["maxLength"]) == (10, 128)
    for length, accepted in [(9, False), (10, True), (128, True), (129, False)]:
        answer = await caller.client.post("/api/v1/auth/device", json={"deviceId": "d" * length})
        assert (answer.status_code in (200, 201)) is accepted, (length, answer.text)

    game = schemas[
        document["paths"]["/games"]["post"]["requestBody"]["content"]["application/json"]["schema"][
            "$ref"
        ].rpartition("/")[2]
    ]["properties"]
    name, description = game["name"], game["description"]
    png = io.BytesIO()
    Image.new("RGB", (4, 3), "red").save(png, "PNG")
    image = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    fields = {"gameUrl": "https://game.example", "platform": "web", "base64Image": image}
    for text, field, status in [
        ("n" * name["maxLength"], "name", 201),
        ("n" * (name["maxLength"] + 1), "name", 400),
        ("d" * description["maxLength"], "description", 201),
        ("d" * (description["maxLength"] + 1), "description", 400),
    ]:
        body = {"name": "Game", "description": "About", **fields, field: text}
        headers = {"Authorization": caller.sign("POST", "/games")}
        answer = await caller.client.post("/games", json=body, headers=headers)
        assert answer.status_code == status, (field, len(text), answer.text)
    assert (name["maxLength"], description["maxLength"]) == (120, 5000)
