"""Unknown paths and wrong methods answer in the envelope of the dialect the path belongs to.

A client written for one API parses that API's errors: an unknown OGP path must not answer
in OGS's envelope. Kongregate and the tournament platform have no routes yet, only their
envelopes, and their paths answer in them already.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.anyio


def ogs(body, status):
    return body["error"]["status"] == status and body["error"]["code"] and body["error"]["message"]


def ogp(body, status):
    reasons = {404: "Not Found", 405: "Method Not Allowed"}
    return body["statusCode"] == status and body["error"] == reasons[status] and body["message"]


def battleplace(body, status):
    return body["status"] in {"notFound", "invalidRequest"} and body["error"] and body["code"]


def kongregate(body, status):
    return body["success"] is False and body["error"] == status and body["error_description"]


def tournaments(body, status):
    return body["success"] is False and body["error"]["status"] == status


UNKNOWN = [
    ("/games/id/x/extra", ogp),
    ("/user/someone/else/entirely", ogp),
    ("/play/dev/nope", ogp),
    ("/play", ogp),
    ("/v1a/client/nope", battleplace),
    ("/v1a", battleplace),
    ("/api/v1/auth/nope", ogs),
    ("/api/v1/nope.json", ogs),  # OGS's prefix is longer than Kongregate's
    ("/admin/v1/nope", ogs),
    ("/admin", ogs),
    ("/api/authenticate.json", kongregate),
    ("/api/high_scores/lifetime/7.json", kongregate),
    ("/api/tournaments", tournaments),
    ("/api/tournaments/t1/results", tournaments),
    ("/api/players/u1/tournaments", tournaments),
    ("/internal/tournaments/t1/config", tournaments),
    ("/internal/auth/validate-token", tournaments),
    ("/api/internal/auth/validate-token", tournaments),
    ("/nowhere", ogs),  # no dialect claims it: the default envelope
    ("/gamesx", ogs),  # prefixes match whole segments
    ("/api/nope", ogs),  # under /api but not *.json
]


@pytest.fixture
async def client(make_client):
    async with make_client() as client:
        yield client


@pytest.mark.parametrize(("path", "shape"), UNKNOWN, ids=[path for path, _ in UNKNOWN])
async def test_an_unknown_path_answers_404_in_its_dialects_envelope(client, path, shape):
    response = await client.get(path)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert shape(response.json(), 404), response.json()
    assert path in response.text  # the message names what was asked for


WRONG_METHOD = [
    ("DELETE", "/games/batch/ids", ogp, "POST"),
    ("PUT", "/user/me", ogp, "GET"),
    ("GET", "/play/dev/batch-save-points", ogp, "POST"),
    ("PUT", "/v1a/client/auth", battleplace, "POST"),
    ("GET", "/api/v1/auth/login", ogs, "POST"),
    ("PUT", "/admin/v1/audit", ogs, "GET"),
]


@pytest.mark.parametrize(
    ("method", "path", "shape", "allowed"), WRONG_METHOD, ids=[m + p for m, p, _, _ in WRONG_METHOD]
)
async def test_a_wrong_method_answers_405_in_its_dialects_envelope(
    client, method, path, shape, allowed
):
    response = await client.request(method, path)
    assert response.status_code == 405, response.text
    assert shape(response.json(), 405), response.json()
    assert allowed in response.headers["allow"]
    assert f"{method} is not allowed on {path}; allowed: {allowed}" in response.text


async def test_errors_inside_a_known_route_keep_their_dialects_envelope(client):
    # Not found by the route itself (no such game), not by the router: still OGP's shape.
    response = await client.get("/games/id/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert ogp(response.json(), 404)
    assert "Nothing is served" not in response.text
