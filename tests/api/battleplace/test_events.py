"""Matchmaking events reach a game's webhook: ``match.found`` and ``match.failed``."""

from __future__ import annotations

import json

import pytest

from support.battleplace import client_token, new_project, request_match, settled
from support.provision import ADMIN
from support.receiver import receiver

pytestmark = pytest.mark.anyio


def _player(client, token: str) -> str:
    runtime = client.app.state.runtime
    return runtime.match_signer.read_client_token(token, now=runtime.clock().timestamp()).player_id


async def test_sessions_and_failures_reach_the_games_webhook(make_client, clock):
    with receiver() as hooks:
        async with make_client(outbound_allowed_networks=["127.0.0.0/8"]) as client:
            project = await new_project(client)
            subscribed = await client.post(
                f"/admin/v1/games/{project['id']}/webhooks",
                json={"url": hooks.url, "eventTypes": ["match.found", "match.failed"]},
                headers=ADMIN,
            )
            assert subscribed.status_code == 201, subscribed.text
            alice, bob, carol = [await client_token(client, project, n) for n in "abc"]
            placed = [await request_match(client, t, maxMatchTime=10) for t in (alice, bob)]
            found = await settled(client, alice, placed[0])
            lonely = await request_match(client, carol, maxMatchTime=10)
            clock.advance(11)
            assert (await settled(client, carol, lonely))["reason"] == "timedOut"
            received = [json.loads(r.body) for r in hooks.wait_for(2)]
            players = {"a": alice, "b": bob, "c": carol}
            players = {name: _player(client, token) for name, token in players.items()}

    by_type = {event["type"]: event["data"] for event in received}
    assert set(by_type) == {"match.found", "match.failed"}
    match = by_type["match.found"]
    assert match["sessionId"] == found["session"]["externalSessionId"]
    assert sorted(match["teams"]) == sorted([[players["a"]], [players["b"]]])
    assert match["server"] is None
    failed = by_type["match.failed"]
    assert (failed["playerId"], failed["reason"]) == (players["c"], "timedOut")
