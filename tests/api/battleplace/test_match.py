"""Matchmaking over HTTP: peer to peer, teams with a dedicated server, failures, cancels."""

from __future__ import annotations

import itertools

import pytest

from support.battleplace import (
    bearer,
    client_token,
    new_project,
    request_match,
    server_body,
    settled,
    status,
    tick,
)

pytestmark = pytest.mark.anyio


async def _clients(client, project, count, start=0) -> list[str]:
    return [await client_token(client, project, str(i)) for i in range(start, start + count)]


def _seats(session):
    return [seat for team in session["teams"] for seat in team]


async def test_one_against_one_peer_to_peer(make_client):
    async with make_client() as client:
        project = await new_project(client)
        alice, bob = await _clients(client, project, 2)
        a = await request_match(client, alice, info={"ip": "1.2.3.4", "port": 1234})
        b = await request_match(client, bob, info={"ip": "5.6.7.8", "port": 5678})
        seen_a = await settled(client, alice, a)
        seen_b = await settled(client, bob, b)

    assert seen_a["status"] == seen_b["status"] == "matched"
    sa, sb = seen_a["session"], seen_b["session"]
    assert sa["externalSessionId"] == sb["externalSessionId"]
    assert sa["server"] is None and sb["server"] is None
    assert sa["sessionToken"] != sb["sessionToken"]
    assert [len(team) for team in sa["teams"]] == [1, 1]
    assert {sa["teamIndex"], sb["teamIndex"]} == {0, 1}
    me_a = sa["teams"][sa["teamIndex"]][sa["mateIndex"]]
    assert me_a["ourTicket"] is None and me_a["theirTicket"] is None
    # Each sees the other's info, and the tickets pair up: my ourTicket is their theirTicket.
    other_a = sa["teams"][sb["teamIndex"]][sb["mateIndex"]]
    other_b = sb["teams"][sa["teamIndex"]][sa["mateIndex"]]
    assert other_a["info"] == {"ip": "5.6.7.8", "port": 5678}
    assert other_b["info"] == {"ip": "1.2.3.4", "port": 1234}
    assert other_a["ourTicket"] == other_b["theirTicket"]
    assert other_a["theirTicket"] == other_b["ourTicket"]
    assert other_a["ourTicket"] != other_a["theirTicket"]


async def _server_session(client, project, name, *, within=5.0) -> list[dict]:
    response = await client.post("/v1a/server/match/sessions", json=server_body(project, name))
    assert response.status_code == 200, response.text
    return response.json()["sessions"]


@pytest.mark.parametrize("team_sizes", [[2, 2], [3, 3, 3]])
async def test_teams_with_a_dedicated_server(make_client, team_sizes):
    async with make_client(server_poll_seconds=0.5) as client:
        project = await new_project(client)
        register = server_body(project, info={"ip": "9.10.11.12", "port": 4321}, timeout=60)
        response = await client.post("/v1a/server/match", json=register)
        assert response.json() == {"status": "registered"}
        tokens = await _clients(client, project, sum(team_sizes))
        matches = [
            await request_match(client, t, teamSizes=team_sizes, info={"n": i})
            for i, t in enumerate(tokens)
        ]
        seen = [await settled(client, t, m) for t, m in zip(tokens, matches, strict=True)]
        sessions = await _server_session(client, project, "EU_WEST_1")
        again = await _server_session(client, project, "EU_WEST_1")

    assert {s["status"] for s in seen} == {"matched"}
    assert len({s["session"]["externalSessionId"] for s in seen}) == 1
    assert [len(team) for team in seen[0]["session"]["teams"]] == team_sizes
    places = {(s["session"]["teamIndex"], s["session"]["mateIndex"]) for s in seen}
    assert len(places) == sum(team_sizes)  # everyone has a place of their own
    assert len(sessions) == 1 and again == []  # handed to the server once
    server_view = sessions[0]
    assert server_view["externalSessionId"] == seen[0]["session"]["externalSessionId"]
    for answer in seen:
        session = answer["session"]
        assert session["server"]["info"] == {"ip": "9.10.11.12", "port": 4321}
        mine = server_view["teams"][session["teamIndex"]][session["mateIndex"]]
        assert mine["theirTicket"] == session["server"]["ourTicket"]
        assert mine["ourTicket"] == session["server"]["theirTicket"]
    # Every pair of players shares a ticket pair.
    for first, second in itertools.combinations(seen, 2):
        s1, s2 = first["session"], second["session"]
        seat_of_2 = s1["teams"][s2["teamIndex"]][s2["mateIndex"]]
        seat_of_1 = s2["teams"][s1["teamIndex"]][s1["mateIndex"]]
        assert seat_of_2["ourTicket"] == seat_of_1["theirTicket"]


async def test_no_free_server_fails_with_no_server(make_client, clock):
    async with make_client() as client:
        project = await new_project(client)
        await client.post("/v1a/server/match", json=server_body(project, timeout=600))
        tokens = await _clients(client, project, 4)
        first = [await request_match(client, t, maxMatchTime=5) for t in tokens[:2]]
        assert {
            (await settled(client, t, m))["status"] for t, m in zip(tokens, first, strict=False)
        } == {"matched"}
        # The only server is busy with that session: the next pair cannot get one.
        late = [await request_match(client, t, maxMatchTime=5) for t in tokens[2:]]
        assert tick(client) == 0  # the engine has seen them, and has no server for them
        assert (await status(client, tokens[2], late[0]))["status"] == "inProgress"
        clock.advance(6)
        outcome = [await settled(client, t, m) for t, m in zip(tokens[2:], late, strict=True)]

    assert outcome == [{"status": "failed", "reason": "noServer"}] * 2


async def test_alone_in_the_queue_times_out(make_client, clock):
    async with make_client() as client:
        project = await new_project(client)
        (token,) = await _clients(client, project, 1)
        match = await request_match(client, token, maxMatchTime=10)
        assert tick(client) == 0  # seen by the engine: alone, it waits
        assert (await status(client, token, match))["status"] == "inProgress"
        clock.advance(11)
        outcome = await settled(client, token, match)

    assert outcome == {"status": "failed", "reason": "timedOut"}


async def test_cancel_before_and_after_the_match(make_client):
    async with make_client() as client:
        project = await new_project(client)
        alone, a, b = await _clients(client, project, 3)
        waiting = await request_match(client, alone, teamSizes=[1, 1, 1])
        response = await client.delete(f"/v1a/client/match/{waiting}", headers=bearer(alone))
        assert response.status_code == 200
        cancelled = await status(client, alone, waiting)

        ma = await request_match(client, a)
        mb = await request_match(client, b)
        matched = await settled(client, a, ma)
        await client.delete(f"/v1a/client/match/{ma}", headers=bearer(a))
        still = await status(client, a, ma)
        other = await settled(client, b, mb)

    assert cancelled == {"status": "failed", "reason": "cancelled"}
    assert matched["status"] == still["status"] == other["status"] == "matched"


async def test_pools_never_mix(make_client):
    async with make_client() as client:
        project = await new_project(client)
        other_project = await new_project(client, name="Other")
        a, b, c, e = await _clients(client, project, 4)
        (d,) = await _clients(client, other_project, 1)
        ma = await request_match(client, a, matchTag="ranked")
        mb = await request_match(client, b, matchTag="casual")
        mc = await request_match(client, c, teamSizes=[2, 2])
        md = await request_match(client, d, matchTag="ranked")
        # A partner for the first arrives last: once they are matched, the engine has seen
        # all the others and left them waiting; and a tick more changes nothing.
        me = await request_match(client, e, matchTag="ranked")
        paired = [await settled(client, e, me), await status(client, a, ma)]
        assert tick(client) == 0
        answers = [await status(client, t, m) for t, m in ((b, mb), (c, mc), (d, md))]

    assert [x["status"] for x in paired] == ["matched", "matched"]
    assert [x["status"] for x in answers] == ["inProgress"] * 3


async def test_match_tokens_are_private_to_their_client(make_client):
    async with make_client() as client:
        project = await new_project(client)
        other_project = await new_project(client, name="Other")
        a, b = await _clients(client, project, 2)
        (stranger,) = await _clients(client, other_project, 1)
        match = await request_match(client, a)
        by_b = await status(client, b, match)
        by_stranger = await status(client, stranger, match)
        unknown = await status(client, a, "no-such-token")
        cancel = await client.delete(f"/v1a/client/match/{match}", headers=bearer(b))
        mine = await status(client, a, match)

    assert by_b == by_stranger == unknown == {"status": "notFound"}
    assert cancel.status_code == 200 and mine == {"status": "inProgress"}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"teamSizes": [], "maxMatchTime": 30}, "teamSizes"),
        ({"teamSizes": [1, 0], "maxMatchTime": 30}, "team size"),
        ({"teamSizes": [1] * 1000, "maxMatchTime": 30}, "teamSizes"),
        ({"teamSizes": [1000, 1000], "maxMatchTime": 30}, "players"),
        ({"teamSizes": [1, 1], "maxMatchTime": -5}, "maxMatchTime"),
        ({"teamSizes": [1, 1], "maxMatchTime": "30"}, "maxMatchTime"),
        ({"teamSizes": ["1", 1], "maxMatchTime": 30}, "teamSizes"),
        ({"teamSizes": [1, 1], "maxMatchTime": 30, "info": "x" * 10_000}, "info"),
        ({"maxMatchTime": 30}, "teamSizes"),
    ],
)
async def test_malformed_requests_are_refused(make_client, body, fragment):
    async with make_client() as client:
        project = await new_project(client)
        (token,) = await _clients(client, project, 1)
        response = await client.post("/v1a/client/match", json=body, headers=bearer(token))

    assert response.status_code == 400
    assert response.json()["status"] == "invalidRequest"
    assert fragment in response.json()["error"]


async def test_bad_client_tokens_are_refused(make_client):
    async with make_client() as client:
        project = await new_project(client)
        (token,) = await _clients(client, project, 1)
        forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        answers = [
            await client.post(
                "/v1a/client/match", json={"teamSizes": [1, 1], "maxMatchTime": 5}, headers=h
            )
            for h in ({}, bearer("nonsense"), bearer(forged))
        ]

    assert [r.status_code for r in answers] == [401, 401, 401]
    assert {r.json()["status"] for r in answers} == {"notAuthenticated"}


async def test_server_calls_need_their_own_projects_token(make_client):
    async with make_client() as client:
        project = await new_project(client)
        other = await new_project(client, name="Other")
        stolen = {**server_body(project), "projectServerToken": other["server_token"]}
        wrong_kind = {**server_body(project), "projectServerToken": project["test_key"]}
        answers = [
            await client.post("/v1a/server/match", json=body)
            for body in (stolen, wrong_kind, {**server_body(project), "timeout": -1})
        ]
        from_browser = await client.post(
            "/v1a/server/match", json=server_body(project), headers={"Origin": "https://x.test"}
        )
        cancel_unknown = await client.request(
            "DELETE", "/v1a/server/match", json=server_body(project, "NOPE")
        )

    assert [r.status_code for r in answers] == [401, 401, 400]
    assert answers[0].json()["status"] == "notAuthenticated"
    assert from_browser.status_code == 403
    assert cancel_unknown.status_code == 404


async def test_server_leaves_and_sessions_go_peer_to_peer(make_client):
    async with make_client() as client:
        project = await new_project(client)
        await client.post("/v1a/server/match", json=server_body(project))
        response = await client.request("DELETE", "/v1a/server/match", json=server_body(project))
        assert response.json() == {"status": "cancelled"}
        a, b = await _clients(client, project, 2)
        ma = await request_match(client, a)
        await request_match(client, b)
        seen = await settled(client, a, ma)

    assert seen["status"] == "matched" and seen["session"]["server"] is None


async def test_waiting_requests_survive_a_restart(make_client):
    async with make_client() as client:
        project = await new_project(client)
        first, second = await _clients(client, project, 2)
        waiting = await request_match(client, first, teamSizes=[1, 1], matchTag="restart")
    # A new process on the same database: the engine is rebuilt from storage.
    async with make_client() as client:
        late = await request_match(client, second, teamSizes=[1, 1], matchTag="restart")
        seen = [await settled(client, first, waiting), await settled(client, second, late)]

    assert [s["status"] for s in seen] == ["matched", "matched"]
    assert seen[0]["session"]["externalSessionId"] == seen[1]["session"]["externalSessionId"]


async def test_a_busy_server_stays_busy_across_a_restart(make_client, clock):
    async with make_client() as client:
        project = await new_project(client)
        await client.post("/v1a/server/match", json=server_body(project, timeout=600))
        tokens = await _clients(client, project, 4)
        first = [await request_match(client, t, maxMatchTime=5) for t in tokens[:2]]
        assert (await settled(client, tokens[0], first[0]))["session"]["server"] is not None
    async with make_client() as client:
        late = [await request_match(client, t, maxMatchTime=5) for t in tokens[2:]]
        clock.advance(6)
        outcome = [await settled(client, t, m) for t, m in zip(tokens[2:], late, strict=True)]

    assert outcome == [{"status": "failed", "reason": "noServer"}] * 2


async def test_a_session_nobody_reports_on_ends_and_frees_its_server(make_client, clock):
    async with make_client(match_session_timeout=60) as client:
        project = await new_project(client)
        await client.post("/v1a/server/match", json=server_body(project, timeout=3600))
        tokens = await _clients(client, project, 4)
        first = [await request_match(client, t, maxMatchTime=600) for t in tokens[:2]]
        hosted = await settled(client, tokens[0], first[0])
        late = [await request_match(client, t, maxMatchTime=600) for t in tokens[2:]]
        clock.advance(61)  # the first session's server never reports
        second = await settled(client, tokens[2], late[0])
        report = await client.post(
            f"/v1a/client/session/{hosted['session']['sessionToken']}/result",
            json={"status": "finished", "ranks": [0, 1]},
            headers=bearer(tokens[0]),
        )

    assert second["status"] == "matched" and second["session"]["server"] is not None
    assert report.status_code == 409 and report.json()["status"] == "conflict"
