"""Rate limits and brute-force protection of BattlePlace client and server credentials."""

from __future__ import annotations

import pytest

from support.battleplace import bearer, client_token, new_project, request_match, server_body
from support.provision import ADMIN, audit_actions

pytestmark = pytest.mark.anyio


def _limited(response) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["status"] == "rateLimited"
    assert int(response.headers["Retry-After"]) > 0


async def test_each_client_has_its_own_request_budget(make_client):
    async with make_client(rate_limits={"player": "3/minute"}) as client:
        project = await new_project(client)
        greedy = await client_token(client, project, "greedy")
        patient = await client_token(client, project, "patient")
        match = await request_match(client, greedy)
        polls = [
            await client.get(f"/v1a/client/match/{match}", headers=bearer(greedy)) for _ in range(3)
        ]
        other = await client.get("/v1a/client/info/stats", headers=bearer(patient))

    assert [p.status_code for p in polls] == [200, 200, 429]
    _limited(polls[-1])
    assert other.status_code == 200  # another client of the same address is not held back


async def test_each_server_token_has_its_own_request_budget(make_client):
    async with make_client(rate_limits={"server": "2/minute"}) as client:
        project, other = await new_project(client), await new_project(client, name="Other")
        answers = [await client.post("/v1a/server/match", json=server_body(project)) for _ in "abc"]
        other_answer = await client.post("/v1a/server/match", json=server_body(other))

    assert [a.status_code for a in answers] == [200, 200, 429]
    _limited(answers[-1])
    assert other_answer.status_code == 200


async def test_refused_tokens_are_audited_and_lock_the_address_out(make_client):
    async with make_client(rate_limits={"auth_failure": "3/minute"}) as client:
        project, other = await new_project(client), await new_project(client, name="Other")
        token = await client_token(client, project, "honest")
        match = await request_match(client, token)
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        stolen = {**server_body(project), "projectServerToken": other["server_token"]}
        refusals = [
            await client.get(f"/v1a/client/match/{match}", headers=bearer(forged)),
            await client.post("/v1a/server/match", json=stolen),
            await client.post(
                "/v1a/server/match", json={**server_body(project), "projectServerToken": "x"}
            ),
        ]
        locked = [
            await client.get(f"/v1a/client/match/{match}", headers=bearer(forged)),
            await client.post("/v1a/server/match", json=stolen),
        ]
        # A valid client token keeps working: it needs no lookup that a lockout could refuse.
        honest = await client.get(f"/v1a/client/match/{match}", headers=bearer(token))
        audited = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]
        audit_page = (await client.get("/admin/v1/audit?limit=50", headers=ADMIN)).text

    assert [r.status_code for r in refusals] == [401, 401, 401]
    assert [r.json()["error"] for r in refusals[1:]] == ["bad project server token"] * 2
    for response in locked:
        _limited(response)
    assert honest.status_code == 200 and honest.json()["status"] == "inProgress"
    methods = sorted(e["details"]["method"] for e in audited)
    assert methods == [
        "battleplace.client_token",
        "battleplace.server_token",
        "battleplace.server_token",
    ]
    # Nothing more is written once the address is locked out; no token is ever in the log.
    assert other["server_token"] not in audit_page and forged not in audit_page


async def test_expired_client_tokens_are_not_guesses(make_client, clock):
    # Every client behind one address sees its token expire in time; none of that locks the
    # address out of signing in again.
    async with make_client(rate_limits={"auth_failure": "3/minute"}) as client:
        project = await new_project(client)
        tokens = [await client_token(client, project, n) for n in range(5)]
        clock.advance(86_401)
        expired = [
            await client.get("/v1a/client/info/stats", headers=bearer(token)) for token in tokens
        ]
        again = await client_token(client, project, 0)
        answer = await client.get("/v1a/client/info/stats", headers=bearer(again))
        audited = [e for e in await audit_actions(client) if e["action"] == "auth.failed"]

    for response in expired:
        assert response.status_code == 401
        assert (response.json()["status"], response.json()["error"]) == (
            "notAuthenticated",
            "token expired",
        )
    assert answer.status_code == 200
    assert audited == []
