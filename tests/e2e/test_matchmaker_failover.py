"""Matchmaker failover: two replicas on one PostgreSQL; the leader is killed mid-stream."""

from __future__ import annotations

import os
import re
import secrets
import signal
import threading
import time

import httpx
import pytest

from support.processes import execute_sql
from support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

TAKEOVER_LIMIT = 5.0


def _shards_led(url: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    found = re.search(r"^gamekeeper_matchmaking_shards_led(?:\{[^}]*\})? (\S+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def _wait_for(predicate, within: float, what: str):
    return wait_until(predicate, what=what, within=within, every=0.05)


class Players:
    """Test clients of one project, placing 1v1 requests through one replica."""

    def __init__(self, http: httpx.Client, project: str, test_key: str) -> None:
        self.http, self.project, self.test_key = http, project, test_key
        self.placed: list[tuple[str, str, float]] = []  # client token, match token, when

    def place(self, test_id: str) -> tuple[str, str]:
        auth = {"projectId": self.project, "auth": {"testKey": self.test_key, "testId": test_id}}
        token = self.http.post("/v1a/client/auth", json=auth).json()["clientToken"]
        response = self.http.post(
            "/v1a/client/match",
            json={"teamSizes": [1, 1], "maxMatchTime": 60},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        placed = (token, response.json()["matchToken"])
        self.placed.append((*placed, time.monotonic()))
        return placed

    def status(self, token: str, match_token: str) -> dict:
        headers = {"Authorization": f"Bearer {token}"}
        return self.http.get(f"/v1a/client/match/{match_token}", headers=headers).json()


def test_a_standby_takes_over_when_the_leader_dies(
    start_server, fresh_database, redis_url, tmp_path
):
    shared = {
        "GAMEKEEPER_DATABASE_URL": fresh_database,
        "GAMEKEEPER_REDIS_URL": redis_url,
        "GAMEKEEPER_SECRET_KEY": secrets.token_urlsafe(32),
        "GAMEKEEPER_ADMIN_TOKEN": "gk_admin_" + secrets.token_urlsafe(24),
        "GAMEKEEPER_RATE_LIMITS_ENABLED": "false",
    }
    admin = {"Authorization": f"Bearer {shared['GAMEKEEPER_ADMIN_TOKEN']}"}
    leader = start_server(tmp_path / "a", **shared)
    _wait_for(lambda: _shards_led(leader.url) == 1, 10, "the first replica leading")
    standby = start_server(tmp_path / "b", **shared)
    assert _shards_led(standby.url) == 0

    game = httpx.post(f"{standby.url}/admin/v1/games", json={"name": "Arena"}, headers=admin).json()
    key = httpx.post(
        f"{standby.url}/admin/v1/games/{game['id']}/keys", json={"kind": "test"}, headers=admin
    ).json()["key"]
    with httpx.Client(base_url=standby.url, timeout=10) as http:
        _stream_through_a_failover(leader, standby, Players(http, game["id"], key), fresh_database)


def _stream_through_a_failover(leader, standby, players: Players, database_url: str) -> None:

    # A stream of requests through the standby's API, while the leader dies in the middle.
    stop = threading.Event()

    def stream() -> None:
        number = 0
        while not stop.is_set():
            players.place(f"p{number}")
            number += 1
            time.sleep(0.02)  # pacing of the load, not synchronisation

    feeder = threading.Thread(target=stream)
    feeder.start()
    try:
        _wait_for(lambda: len(players.placed) >= 40, 30, "40 requests placed")
        os.killpg(leader.process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        leader.process.wait(10)
        _wait_for(lambda: _shards_led(standby.url) == 1, TAKEOVER_LIMIT, "the standby leading")
        # A pair placed after the leader died is matched within the limit.
        first, second = players.place("after-1"), players.place("after-2")
        _wait_for(
            lambda: (
                players.status(*first)["status"] == "matched"
                and players.status(*second)["status"] == "matched"
            ),
            TAKEOVER_LIMIT - (time.monotonic() - killed_at),
            "a new pair matched after the leader died",
        )
        _wait_for(lambda: len(players.placed) >= 120, 30, "the stream going on")
    finally:
        stop.set()
        feeder.join()

    # Everything placed is matched (an odd one out may wait for a partner), each exactly once.
    # The last requests were placed just before the stream stopped: give them a few ticks.
    def answers_when_settled() -> list[dict] | None:
        answers = [players.status(token, match) for token, match, _ in players.placed]
        unmatched = [a for a in answers if a["status"] != "matched"]
        return answers if len(unmatched) <= 1 else None

    answers = _wait_for(answers_when_settled, 5, "every request but an odd one out matched")
    matched = [a for a in answers if a["status"] == "matched"]
    sessions: dict[str, int] = {}
    for answer in matched:
        session_id = answer["session"]["externalSessionId"]
        sessions[session_id] = sessions.get(session_id, 0) + 1
    assert set(sessions.values()) == {2}
    rows = execute_sql(
        re.sub(r"\+asyncpg", "", database_url),
        "SELECT r.id, r.session_id, m.session_id AS member_of FROM match_request r "
        "LEFT JOIN match_member m ON m.request_id = r.id WHERE r.status = 'matched'",
    )
    assert len(rows) == len(matched)
    assert all(row["session_id"] == row["member_of"] for row in rows)
