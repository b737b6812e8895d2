"""BattlePlace session results and ratings over HTTP, on SQLite and PostgreSQL.

Sessions are stored directly (support.matchmaking), as the matchmaker would have formed them.
"""

from __future__ import annotations

import asyncio

import pytest

from gamekeeper.core.matchmaking import results
from gamekeeper.core.matchmaking.errors import SessionClosed
from gamekeeper.core.matchmaking.ratings import default_rating
from gamekeeper.core.matchmaking.tokens import ClientPrincipal
from gamekeeper.core.matchmaking.types import CONSERVATIVE_K
from support.battleplace import client_token as auth_token
from support.battleplace import new_project, request_match, server_body, settled, tick
from support.matchmaking import (
    client_token,
    events_of,
    new_players,
    ratings_of,
    seed_session,
    server_row,
    session_row,
)
from support.provision import audit_actions, new_game, new_key

pytestmark = pytest.mark.anyio
START = default_rating("g", "p").conservative  # 25 - 3 * 25/3 = 0


class Project:
    def __init__(self, client, game_id: str, server_token: str) -> None:
        self.client = client
        self.id = game_id
        self.server_token = server_token

    def session(self, teams, *, server=None):
        return seed_session(self.client, self.id, teams, server=server)

    async def client_result(self, seat, body, *, token=None):
        return await self.client.post(
            f"/v1a/client/session/{token or seat.session_token}/result",
            json=body,
            headers={"Authorization": f"Bearer {seat.client_token}"},
        )

    async def server_result(self, session, body, *, token=None, project=None, server_token=None):
        return await self.client.post(
            f"/v1a/server/session/{token or session.server_session_token}/result",
            json={
                "projectId": project or self.id,
                "projectServerToken": server_token or self.server_token,
                **body,
            },
        )

    async def stats(self, seat_or_token):
        token = getattr(seat_or_token, "client_token", seat_or_token)
        response = await self.client.get(
            "/v1a/client/info/stats", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text
        return response.json()


async def _project(client, name: str) -> Project:
    game_id = await new_game(client, name)
    key = await new_key(client, game_id, kind="server")
    return Project(client, game_id, key["key"])


@pytest.fixture
async def bp_client(make_client):
    async with make_client() as client:
        yield client


@pytest.fixture
async def bp(bp_client) -> Project:
    return await _project(bp_client, "Arena")


def _ok(response):
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok"}


async def test_server_result_stands_rates_and_frees_the_server(bp):
    session = bp.session([1, 1], server="eu-1")
    winner, loser = session.seats
    _ok(await bp.server_result(session, {"status": "finished", "ranks": [0, 1]}))

    row = session_row(bp.client, session.id)
    assert (row["status"], row["ranks"], row["rated"]) == ("finished", [0, 1], True)
    assert server_row(bp.client, bp.id, "eu-1")["session_id"] is None
    rated = ratings_of(bp.client, bp.id)
    assert rated[winner.player_id]["mu"] > 25.0 > rated[loser.player_id]["mu"]
    assert rated[winner.player_id]["matches"] == rated[loser.player_id]["matches"] == 1
    won, lost = await bp.stats(winner), await bp.stats(loser)
    assert won["rating"] > START > lost["rating"]
    assert (won["rank"], lost["rank"]) == (1, 2)
    saved = rated[winner.player_id]
    assert won["rating"] == pytest.approx(saved["mu"] - CONSERVATIVE_K * saved["sigma"])


async def test_session_result_event_is_recorded_once_with_the_new_ratings(bp):
    session = bp.session([1, 1, 1], server="eu-1")
    _ok(await bp.server_result(session, {"status": "finished", "ranks": [2, 0, 2]}))
    [event] = events_of(bp.client, "session.result")
    payload = event["payload"]
    assert event["game_id"] == bp.id and event["aggregate_id"] == session.id
    assert payload["ranks"] == [1, 0, 1] and payload["rated"] and payload["decidedBy"] == "server"
    by_team = {p["teamIndex"]: p["rating"] for p in payload["players"]}
    assert by_team[1] > by_team[0] == pytest.approx(by_team[2])


async def test_stats_before_any_rated_session_show_the_start_and_no_rank(bp):
    [player] = new_players(bp.client, 1)
    assert await bp.stats(client_token(bp.client.app.state.runtime, bp.id, player)) == {
        "rating": START,
        "rank": None,
    }


async def test_ranks_order_players_across_sessions_and_ties_share_a_rank(bp):
    a, b, c, d = new_players(bp.client, 4)
    first = bp.session([[a], [b]], server="s1")
    _ok(await bp.server_result(first, {"status": "finished", "ranks": [0, 1]}))
    second = bp.session([[c], [d]], server="s2")
    _ok(await bp.server_result(second, {"status": "finished", "ranks": [0, 1]}))
    ranks = [(await bp.stats(seat))["rank"] for seat in first.seats + second.seats]
    assert ranks == [1, 3, 1, 3]  # a and c tie on top; b and d after both


async def test_agreeing_client_reports_rate_the_session(bp):
    session = bp.session([2, 2])
    reports = [(seat, {"status": "finished", "ranks": [1, 0]}) for seat in session.seats]
    for seat, body in reports[:-1]:
        _ok(await bp.client_result(seat, body))
        assert session_row(bp.client, session.id)["status"] == "open"
    _ok(await bp.client_result(*reports[-1]))
    row = session_row(bp.client, session.id)
    assert (row["status"], row["ranks"], row["rated"]) == ("finished", [1, 0], True)
    rated = ratings_of(bp.client, bp.id)
    losers, winners = session.teams
    assert all(rated[s.player_id]["mu"] > 25 for s in winners)
    assert all(rated[s.player_id]["mu"] < 25 for s in losers)


async def test_conflicting_client_reports_close_the_session_unrated(bp):
    session = bp.session([1, 1, 1])
    first, second, third = session.seats
    _ok(await bp.client_result(first, {"status": "finished", "ranks": [0, 1, 2]}))
    _ok(await bp.client_result(second, {"status": "finished", "ranks": [1, 0, 2]}))
    row = session_row(bp.client, session.id)
    assert (row["status"], row["ranks"], row["rated"]) == ("finished", None, False)
    assert ratings_of(bp.client, bp.id) == {}
    assert (await bp.stats(first))["rank"] is None
    late = await bp.client_result(third, {"status": "finished", "ranks": [0, 1, 2]})
    assert late.status_code == 409
    assert late.json()["status"] == "conflict" and late.json()["code"] == "session_closed"
    [event] = events_of(bp.client, "session.result")
    assert not event["payload"]["rated"] and event["payload"]["decidedBy"] == "clients"


async def test_same_order_with_other_numbers_agrees(bp):
    session = bp.session([1, 1])
    _ok(await bp.client_result(session.seats[0], {"status": "finished", "ranks": [0, 1]}))
    _ok(await bp.client_result(session.seats[1], {"status": "finished", "ranks": [3, 7]}))
    row = session_row(bp.client, session.id)
    assert (row["ranks"], row["rated"]) == ([0, 1], True)


async def test_a_client_may_correct_its_report_while_the_session_is_open(bp):
    session = bp.session([1, 1])
    one, two = session.seats
    _ok(await bp.client_result(one, {"status": "finished", "ranks": [0, 1]}))
    _ok(await bp.client_result(one, {"status": "finished", "ranks": [1, 0]}))
    _ok(await bp.client_result(two, {"status": "finished", "ranks": [1, 0]}))
    row = session_row(bp.client, session.id)
    assert (row["ranks"], row["rated"]) == ([1, 0], True)
    assert ratings_of(bp.client, bp.id)[two.player_id]["mu"] > 25


async def test_clients_do_not_decide_a_session_that_has_a_server(bp):
    session = bp.session([1, 1], server="eu-1")
    for seat in session.seats:
        _ok(await bp.client_result(seat, {"status": "finished", "ranks": [0, 1]}))
    assert session_row(bp.client, session.id)["status"] == "open"
    _ok(await bp.server_result(session, {"status": "finished", "ranks": [1, 0]}))
    row = session_row(bp.client, session.id)
    assert (row["ranks"], row["rated"]) == ([1, 0], True)


@pytest.mark.parametrize("reporter", ["server", "clients"])
async def test_cancelled_sessions_are_unrated(bp, reporter):
    session = bp.session([1, 1], server="eu-1" if reporter == "server" else None)
    if reporter == "server":
        _ok(await bp.server_result(session, {"status": "cancelled"}))
        assert server_row(bp.client, bp.id, "eu-1")["session_id"] is None
    else:
        for seat in session.seats:
            _ok(await bp.client_result(seat, {"status": "cancelled", "ranks": [0, 0]}))
    row = session_row(bp.client, session.id)
    assert (row["status"], row["ranks"], row["rated"]) == ("cancelled", None, False)
    assert ratings_of(bp.client, bp.id) == {}


async def test_another_clients_session_token_is_forbidden(bp):
    mine = bp.session([1, 1])
    theirs = bp.session([1, 1])
    response = await bp.client_result(
        mine.seats[0], {"status": "finished", "ranks": [0, 1]}, token=theirs.seats[0].session_token
    )
    assert response.status_code == 403 and response.json()["status"] == "forbidden"
    assert session_row(bp.client, theirs.id)["status"] == "open"


async def test_forged_and_missing_tokens_are_refused(bp):
    session = bp.session([1, 1], server="eu-1")
    seat = session.seats[0]
    forged = seat.session_token.rsplit(".", 1)[0] + "." + "A" * 22  # a MAC never issued
    body = {"status": "finished", "ranks": [0, 1]}
    refused = [
        await bp.client_result(seat, body, token=forged),
        await bp.client_result(seat, body, token=session.server_session_token),
        await bp.client.post(f"/v1a/client/session/{seat.session_token}/result", json=body),
        await bp.server_result(session, body, token=seat.session_token),
        await bp.client.get("/v1a/client/info/stats", headers={"Authorization": "Bearer c1.x.y"}),
    ]
    assert [r.status_code for r in refused] == [401] * 5
    assert all(r.json()["status"] == "notAuthenticated" for r in refused)
    assert session_row(bp.client, session.id)["status"] == "open"


async def test_another_projects_server_token_is_refused(bp):
    other = await _project(bp.client, "Other")
    session = bp.session([1, 1], server="eu-1")
    body = {"status": "finished", "ranks": [0, 1]}
    with_other_token = await bp.server_result(session, body, server_token=other.server_token)
    assert with_other_token.status_code == 401
    assert with_other_token.json()["code"] == "bad_server_token"
    as_other = await bp.server_result(
        session, body, project=other.id, server_token=other.server_token
    )
    assert as_other.status_code == 403 and as_other.json()["status"] == "forbidden"
    test_key = (await new_key(bp.client, bp.id, kind="test"))["key"]
    with_test_key = await bp.server_result(session, body, server_token=test_key)
    assert with_test_key.status_code == 401
    assert session_row(bp.client, session.id)["status"] == "open"


async def test_a_server_result_needs_only_status_and_ranks_as_in_the_v1a_reference(bp):
    # The signed server session token in the path is the credential: no project id, no key.
    session = bp.session([1, 1], server="eu-1")
    seat_0, seat_1 = session.seats
    response = await bp.client.post(
        f"/v1a/server/session/{session.server_session_token}/result",
        json={"status": "finished", "ranks": [1, 0]},
    )
    _ok(response)
    row = session_row(bp.client, session.id)
    assert (row["status"], row["ranks"], row["rated"]) == ("finished", [1, 0], True)
    assert server_row(bp.client, bp.id, "eu-1")["session_id"] is None
    assert ((await bp.stats(seat_1))["rank"], (await bp.stats(seat_0))["rank"]) == (1, 2)
    cancelled = bp.session([1, 1], server="eu-2")
    bare = {"status": "cancelled"}
    _ok(
        await bp.client.post(
            f"/v1a/server/session/{cancelled.server_session_token}/result", json=bare
        )
    )
    assert session_row(bp.client, cancelled.id)["status"] == "cancelled"


async def test_extra_project_fields_in_a_server_result_must_name_the_sessions_project(bp):
    other = await _project(bp.client, "Other")
    session = bp.session([1, 1], server="eu-1")
    url = f"/v1a/server/session/{session.server_session_token}/result"
    body = {"status": "finished", "ranks": [0, 1]}
    wrong_project = await bp.client.post(url, json={**body, "projectId": other.id})
    assert wrong_project.status_code == 403 and wrong_project.json()["status"] == "forbidden"
    other_key_alone = await bp.client.post(
        url, json={**body, "projectServerToken": other.server_token}
    )
    assert other_key_alone.status_code == 403 and other_key_alone.json()["status"] == "forbidden"
    revoked = await bp.client.post(url, json={**body, "projectServerToken": "gk_nope"})
    assert revoked.status_code == 401 and revoked.json()["code"] == "bad_server_token"
    assert session_row(bp.client, session.id)["status"] == "open"
    _ok(await bp.client.post(url, json={**body, "projectId": bp.id}))  # the right one alone
    assert session_row(bp.client, session.id)["status"] == "finished"
    both = bp.session([1, 1], server="eu-2")
    _ok(await bp.server_result(both, body))  # both fields, as before
    assert session_row(bp.client, both.id)["status"] == "finished"


async def test_a_forged_server_session_token_is_refused_counted_and_audited(bp):
    session = bp.session([1, 1], server="eu-1")
    forged = session.server_session_token.rsplit(".", 1)[0] + "." + "A" * 22
    refused = await bp.client.post(
        f"/v1a/server/session/{forged}/result", json={"status": "finished", "ranks": [0, 1]}
    )
    assert refused.status_code == 401
    assert refused.json() == {
        "status": "notAuthenticated",
        "error": "bad session token",
        "code": "bad_session_token",
    }
    failures = [e for e in await audit_actions(bp.client) if e["action"] == "auth.failed"]
    assert [e["details"]["method"] for e in failures] == ["battleplace.server_session_token"]
    assert session_row(bp.client, session.id)["status"] == "open"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "finished", "ranks": [0]},
        {"status": "finished", "ranks": [0, 1, 2]},
        {"status": "finished", "ranks": [0, -1]},
        {"status": "finished", "ranks": [0, 1.5]},
        {"status": "finished", "ranks": [0, "1"]},
        {"status": "finished", "ranks": list(range(100_000))},
        {"status": "finished"},
        {"status": "won", "ranks": [0, 1]},
        {"status": "cancelled", "ranks": [0]},
    ],
    ids=["short", "long", "negative", "fraction", "string", "huge", "no-ranks", "status", "cx"],
)
async def test_malformed_results_are_refused_and_change_nothing(bp, body):
    session = bp.session([1, 1])
    response = await bp.client_result(session.seats[0], body)
    assert response.status_code == 400, response.text
    assert response.json()["status"] == "invalidRequest" and response.json()["error"]
    _ok(await bp.client_result(session.seats[1], {"status": "finished", "ranks": [0, 1]}))
    assert session_row(bp.client, session.id)["status"] == "open"


async def test_server_report_after_the_end_is_a_conflict(bp):
    session = bp.session([1, 1], server="eu-1")
    _ok(await bp.server_result(session, {"status": "finished", "ranks": [0, 1]}))
    again = await bp.server_result(session, {"status": "finished", "ranks": [1, 0]})
    assert again.status_code == 409 and again.json()["code"] == "session_closed"
    late_client = await bp.client_result(session.seats[0], {"status": "cancelled"})
    assert late_client.status_code == 409
    assert ratings_of(bp.client, bp.id)[session.seats[0].player_id]["matches"] == 1
    assert len(events_of(bp.client, "session.result")) == 1


async def test_a_player_in_two_places_is_not_rated(bp):
    [me] = new_players(bp.client, 1)
    session = bp.session([[me], [me]], server="eu-1")
    _ok(await bp.server_result(session, {"status": "finished", "ranks": [0, 1]}))
    row = session_row(bp.client, session.id)
    assert (row["status"], row["ranks"], row["rated"]) == ("finished", [0, 1], False)
    assert ratings_of(bp.client, bp.id) == {}


# --- Concurrency: reports racing for one session, straight through the core -----------------


async def _race(runtime, session, reports):
    async def one(reporter, body):
        try:
            async with runtime.db.transaction() as uow:
                if reporter == "server":
                    await results.report_by_server(
                        uow, project_id=session.game_id, session_id=session.id, **body
                    )
                else:
                    await results.report_by_client(
                        uow,
                        client=reporter[0],
                        request_id=reporter[1],
                        **body,
                    )
            return "ok"
        except SessionClosed:
            return "closed"

    return await asyncio.gather(*(one(r, b) for r, b in reports))


def _principal(session, seat):
    return (ClientPrincipal(session.game_id, seat.player_id), seat.request_id)


async def test_concurrent_reports_close_a_session_exactly_once(bp):
    runtime = bp.client.app.state.runtime
    agreed = {"status": "finished", "ranks": [0, 1]}
    p2p = bp.session([1, 1])
    hosted = bp.session([1, 1], server="eu-1")
    reports = [(_principal(p2p, seat), agreed) for seat in p2p.seats]
    outcome = bp.client.blocking_portal.call(_race, runtime, p2p, reports)
    assert outcome == ["ok", "ok"]
    servers = [("server", agreed), ("server", {"status": "finished", "ranks": [1, 0]})]
    outcome = bp.client.blocking_portal.call(_race, runtime, hosted, servers)
    assert sorted(outcome) == ["closed", "ok"]

    for session in (p2p, hosted):
        row = session_row(bp.client, session.id)
        assert row["status"] == "finished" and row["rated"]
    rated = ratings_of(bp.client, bp.id)
    assert all(rated[s.player_id]["matches"] == 1 for s in p2p.seats + hosted.seats)
    assert len(events_of(bp.client, "session.result")) == 2


# --- Through the queue: sessions the matchmaker formed ---------------------------------------


async def test_peer_to_peer_players_report_and_see_their_new_standing(make_client):
    async with make_client() as client:
        project = await new_project(client)
        alice, bob = [await auth_token(client, project, str(i)) for i in range(2)]
        tokens = [await request_match(client, t) for t in (alice, bob)]
        seen = [await settled(client, t, m) for t, m in zip((alice, bob), tokens, strict=True)]
        assert [s["status"] for s in seen] == ["matched", "matched"]
        sessions = [s["session"] for s in seen]
        # Both say Alice's team came first.
        ranks = [0, 1] if sessions[0]["teamIndex"] == 0 else [1, 0]
        for token, session in zip((alice, bob), sessions, strict=True):
            response = await client.post(
                f"/v1a/client/session/{session['sessionToken']}/result",
                json={"status": "finished", "ranks": ranks},
                headers={"Authorization": f"Bearer {token}"},
            )
            _ok(response)
        project_view = Project(client, project["id"], project["server_token"])
        won, lost = await project_view.stats(alice), await project_view.stats(bob)
    assert (won["rank"], lost["rank"]) == (1, 2)
    assert won["rating"] > START > lost["rating"]


async def test_a_servers_result_frees_it_for_the_next_session(make_client):
    async with make_client(server_poll_seconds=0.5) as client:
        project = await new_project(client)
        register = await client.post("/v1a/server/match", json=server_body(project, timeout=60))
        assert register.status_code == 200, register.text
        players = [await auth_token(client, project, str(i)) for i in range(4)]
        first = [await request_match(client, t) for t in players[:2]]
        for token, match in zip(players[:2], first, strict=True):
            assert (await settled(client, token, match))["status"] == "matched"
        second = [await request_match(client, t, maxMatchTime=30) for t in players[2:]]
        fetched = await client.post("/v1a/server/match/sessions", json=server_body(project))
        [hosted] = fetched.json()["sessions"]
        # The one server is busy: the second pair waits for it.
        assert tick(client) == 0
        waiting = await client.get(
            f"/v1a/client/match/{second[0]}", headers={"Authorization": f"Bearer {players[2]}"}
        )
        assert waiting.json() == {"status": "inProgress"}

        result = await client.post(
            f"/v1a/server/session/{hosted['serverSessionToken']}/result",
            json={**server_body(project), "status": "finished", "ranks": [1, 0]},
        )
        _ok(result)
        after = [await settled(client, t, m) for t, m in zip(players[2:], second, strict=True)]
    assert [a["status"] for a in after] == ["matched", "matched"]
    assert after[0]["session"]["server"] is not None
