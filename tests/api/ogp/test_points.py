"""Points over HTTP: batch saves held to the game's caps, totals, the leaderboard, the limit."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from gamekeeper.settings import DEFAULT_RATE_LIMITS

pytestmark = pytest.mark.anyio

SAVE = "/play/dev/batch-save-points"


@pytest.fixture
async def client(make_client):
    # The batch limit (3/second) is tested on its own client below.
    async with make_client(rate_limits={"points_batch": "10000/second"}) as client:
        yield client


async def save(ogp, developer: dict, game_id: str, *entries: tuple[str, int]):
    body = {"gameApiKey": game_id, "points": [{"playerId": p, "points": n} for p, n in entries]}
    return await ogp.signed(developer, "POST", SAVE, json=body)


async def saved(ogp, developer: dict, game_id: str, *entries: tuple[str, int]) -> dict:
    response = await save(ogp, developer, game_id, *entries)
    assert response.status_code == 200, response.text
    assert response.json()["error"] is None
    return response.json()["data"]


def outcomes(data: dict) -> list[tuple[int, str | None]]:
    assert all(r["clipped"] == (r["awarded"] < r["requested"]) for r in data["results"])
    return [(r["awarded"], r["reason"]) for r in data["results"]]


async def totals(ogp, developer: dict, game_id: str, player_id: str) -> dict:
    response = await ogp.signed(
        developer,
        "GET",
        "/play/dev/points",
        params={"gameId": game_id, "playerId": player_id},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_uncapped_games_award_what_is_asked(ogp):
    developer = await ogp.developer()
    game = await ogp.register(developer)
    data = await saved(ogp, developer, game["id"], ("alice", 5), ("bob", 7), ("alice", 10**9))
    assert data["saved"] == 3
    assert data["results"][0] == {
        "playerId": "alice",
        "requested": 5,
        "awarded": 5,
        "clipped": False,
        "reason": None,
    }
    assert outcomes(data) == [(5, None), (7, None), (10**9, None)]
    alice = await totals(ogp, developer, game["id"], "alice")
    assert alice["totalPoints"] == alice["todayPoints"] == 10**9 + 5
    assert alice["totalSessions"] == 2 and alice["today"] == "2026-01-01"


async def test_score_per_session_clips_each_entry(ogp):
    developer = await ogp.developer()
    game = await ogp.register(developer, maxScorePerSession=100)
    data = await saved(ogp, developer, game["id"], ("alice", 150), ("alice", 100), ("bob", 99))
    assert outcomes(data) == [(100, "maxScorePerSession"), (100, None), (99, None)]
    assert data["results"][0]["clipped"] is True
    assert (await totals(ogp, developer, game["id"], "alice"))["totalPoints"] == 200


async def test_sessions_per_day_refuses_the_extra_sessions_until_the_next_utc_day(ogp, clock):
    developer = await ogp.developer()
    game = await ogp.register(developer, maxSessionsPerDay=2)
    first = await saved(ogp, developer, game["id"], ("alice", 1), ("bob", 1), ("alice", 2))
    second = await saved(ogp, developer, game["id"], ("alice", 3), ("bob", 4))
    assert outcomes(first) == [(1, None), (1, None), (2, None)]
    assert outcomes(second) == [(0, "maxSessionsPerDay"), (4, None)]
    assert second["saved"] == 1
    alice = await totals(ogp, developer, game["id"], "alice")
    assert (alice["totalPoints"], alice["todaySessions"]) == (3, 2)

    clock.advance(12 * 3600 - 1)  # 23:59:59 UTC
    late = await saved(ogp, developer, game["id"], ("alice", 5))
    assert outcomes(late) == [(0, "maxSessionsPerDay")]
    clock.advance(1)  # midnight UTC: a new day
    fresh = await saved(ogp, developer, game["id"], ("alice", 5), ("alice", 6), ("alice", 7))
    assert outcomes(fresh) == [(5, None), (6, None), (0, "maxSessionsPerDay")]
    alice = await totals(ogp, developer, game["id"], "alice")
    assert alice["today"] == "2026-01-02"
    assert (alice["totalPoints"], alice["todayPoints"], alice["todaySessions"]) == (14, 11, 2)
    assert alice["totalSessions"] == 4


async def test_cumulative_points_clip_to_what_the_day_has_left(ogp, clock):
    developer = await ogp.developer()
    game = await ogp.register(developer, maxCumulativePointsPerDay=100, maxScorePerSession=60)
    data = await saved(ogp, developer, game["id"], ("alice", 70), ("alice", 50), ("alice", 5))
    assert outcomes(data) == [
        (60, "maxScorePerSession"),
        (40, "maxCumulativePointsPerDay"),
        (0, "maxCumulativePointsPerDay"),
    ]
    # A session clipped to nothing is still a session played.
    assert data["saved"] == 3
    more = await saved(ogp, developer, game["id"], ("alice", 1), ("bob", 100))
    assert outcomes(more) == [(0, "maxCumulativePointsPerDay"), (60, "maxScorePerSession")]
    clock.advance(24 * 3600)
    tomorrow = await saved(ogp, developer, game["id"], ("alice", 50), ("alice", 55))
    assert outcomes(tomorrow) == [(50, None), (50, "maxCumulativePointsPerDay")]
    alice = await totals(ogp, developer, game["id"], "alice")
    assert (alice["totalPoints"], alice["todayPoints"]) == (200, 100)


async def test_a_player_with_no_points_has_zero(ogp):
    developer = await ogp.developer()
    game = await ogp.register(developer)
    nobody = await totals(ogp, developer, game["id"], "nobody")
    assert (nobody["totalPoints"], nobody["todayPoints"], nobody["totalSessions"]) == (0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"gameApiKey": "G", "points": [{"playerId": "p", "points": 1}] * 1001},
        {"gameApiKey": "G", "points": [{"playerId": "p", "points": 0}]},
        {"gameApiKey": "G", "points": [{"playerId": "p", "points": -3}]},
        {"gameApiKey": "G", "points": [{"playerId": "p", "points": 1.5}]},
        {"gameApiKey": "G", "points": [{"playerId": "p", "points": "10"}]},
        {"gameApiKey": "G", "points": [{"playerId": "p", "points": True}]},
        {"gameApiKey": "G", "points": [{"playerId": "", "points": 1}]},
        {"gameApiKey": "G", "points": [{"playerId": "p" * 256, "points": 1}]},
        {"gameApiKey": "G", "points": [{"playerId": 7, "points": 1}]},
        {"gameApiKey": "G", "points": {"playerId": "p", "points": 1}},
        {"gameApiKey": "G"},
        {"points": []},
    ],
)
async def test_malformed_batches_are_refused(ogp, body):
    developer = await ogp.developer()
    game = await ogp.register(developer, maxScorePerSession=10)
    body = {**body, "gameApiKey": game["id"]} if "gameApiKey" in body else body
    response = await ogp.signed(developer, "POST", SAVE, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["statusCode"] == 400
    assert (await totals(ogp, developer, game["id"], "p"))["totalPoints"] == 0


async def test_a_full_batch_of_1000_is_accepted(ogp):
    developer = await ogp.developer()
    game = await ogp.register(developer, maxSessionsPerDay=600)
    data = await saved(ogp, developer, game["id"], *[(f"p{i % 2}", 1) for i in range(1000)])
    assert data["saved"] == 1000
    data = await saved(ogp, developer, game["id"], *[("p0", 1)] * 101)
    assert data["saved"] == 100 and outcomes(data)[-1] == (0, "maxSessionsPerDay")


async def test_only_the_owner_saves_and_reads_points(ogp):
    owner, other = await ogp.developer("Owner"), await ogp.developer("Other")
    game = await ogp.register(owner)
    refused = await save(ogp, other, game["id"], ("alice", 5))
    assert refused.status_code == 403
    assert refused.json() == {
        "statusCode": 403,
        "message": "You do not own this game",
        "error": "Forbidden",
    }
    query = {"gameId": game["id"], "playerId": "alice"}
    read = await ogp.signed(other, "GET", "/play/dev/points", params=query)
    board = await ogp.signed(other, "GET", f"/play/dev/leaderboard/{game['id']}")
    assert read.status_code == board.status_code == 403
    unknown = await save(ogp, owner, str(uuid.uuid4()), ("alice", 5))
    assert unknown.status_code == 404 and unknown.json()["statusCode"] == 404
    unsigned = await ogp.client.post(SAVE, json={"gameApiKey": game["id"], "points": []})
    assert unsigned.status_code == 401
    assert (await totals(ogp, owner, game["id"], "alice"))["totalPoints"] == 0


async def test_leaderboard_ranks_by_total_then_player_id_and_pages(ogp, clock):
    developer = await ogp.developer()
    game, other_game = await ogp.register(developer), await ogp.register(developer, name="B")
    await saved(ogp, developer, game["id"], ("carol", 30), ("alice", 10), ("bob", 30))
    clock.advance(24 * 3600)
    await saved(ogp, developer, game["id"], ("alice", 25), ("dave", 1), ("erin", 30))
    await saved(ogp, developer, other_game["id"], ("zed", 1000))
    path = f"/play/dev/leaderboard/{game['id']}"

    board = (await ogp.signed(developer, "GET", path)).json()["data"]
    ranked = [(r["rank"], r["playerId"], r["points"]) for r in board["items"]]
    assert ranked == [
        (1, "alice", 35),
        (2, "bob", 30),
        (3, "carol", 30),
        (4, "erin", 30),
        (5, "dave", 1),
    ]
    assert (board["total"], board["limit"], board["offset"], board["hasMore"]) == (5, 50, 0, False)

    page = (await ogp.signed(developer, "GET", path, params={"limit": 2, "offset": 2})).json()
    assert [(r["rank"], r["playerId"]) for r in page["data"]["items"]] == [
        (3, "carol"),
        (4, "erin"),
    ]
    assert page["data"]["hasMore"] is True
    last = (await ogp.signed(developer, "GET", path, params={"limit": 2, "offset": 4})).json()
    assert [r["playerId"] for r in last["data"]["items"]] == ["dave"]
    assert last["data"]["hasMore"] is False
    for params in ({"limit": 101}, {"limit": 0}, {"offset": -1}):
        assert (await ogp.signed(developer, "GET", path, params=params)).status_code == 400
    empty = (await ogp.signed(developer, "GET", f"/play/dev/leaderboard/{uuid.uuid4()}")).json()
    assert empty["statusCode"] == 404


async def test_concurrent_batches_never_exceed_the_daily_caps(ogp):
    developer = await ogp.developer()
    game = await ogp.register(developer, maxCumulativePointsPerDay=100, maxSessionsPerDay=13)
    await saved(ogp, developer, game["id"], ("alice", 1))
    batches = [
        save(ogp, developer, game["id"], ("alice", 7), ("bob", 9), ("alice", 7)) for _ in range(8)
    ]
    responses = await asyncio.gather(*batches)
    assert [r.status_code for r in responses] == [200] * 8
    results = [r for response in responses for r in response.json()["data"]["results"]]
    alice_awarded = sum(r["awarded"] for r in results if r["playerId"] == "alice")
    bob_awarded = sum(r["awarded"] for r in results if r["playerId"] == "bob")
    alice = await totals(ogp, developer, game["id"], "alice")
    bob = await totals(ogp, developer, game["id"], "bob")
    # alice had 1 session; she asked for 16 more of 7 points: 12 fit the 13 a day, 84 points.
    assert alice_awarded == 84 and alice["todayPoints"] == 85 and alice["todaySessions"] == 13
    # bob asked for 8 sessions of 9 (72) ... all within the caps.
    assert bob_awarded == bob["todayPoints"] == 72
    more = await saved(ogp, developer, game["id"], *[("bob", 9)] * 4)
    assert sum(a for a, _ in outcomes(more)) == 28
    assert (await totals(ogp, developer, game["id"], "bob"))["todayPoints"] == 100


async def test_concurrent_batches_never_exceed_the_cumulative_cap(ogp):
    # The test client runs requests one at a time; overlapping transactions are tested in
    # tests/integration/test_points_store.py.
    developer = await ogp.developer()
    game = await ogp.register(developer, maxCumulativePointsPerDay=50)
    # alice already has a row of totals: the batches race on reading it, not on creating it.
    await saved(ogp, developer, game["id"], ("alice", 1))
    batches = [save(ogp, developer, game["id"], ("alice", 4), ("alice", 3)) for _ in range(10)]
    responses = await asyncio.gather(*batches)
    assert [r.status_code for r in responses] == [200] * 10
    awarded = sum(r["awarded"] for x in responses for r in x.json()["data"]["results"])
    assert awarded == 49
    assert (await totals(ogp, developer, game["id"], "alice"))["totalPoints"] == 50


def test_batch_saves_are_limited_to_3_a_second_by_default():
    assert DEFAULT_RATE_LIMITS["points_batch"] == "3/second"


async def test_the_fourth_batch_in_the_window_is_refused_with_retry_after(ogp, make_client):
    developer = await ogp.developer()
    game = await ogp.register(developer)
    body = {"gameApiKey": game["id"], "points": [{"playerId": "alice", "points": 1}]}
    # A minute rather than the default second, so a slow machine cannot open a new window.
    async with make_client(rate_limits={"points_batch": "3/minute"}) as limited:
        statuses = []
        for _ in range(4):
            headers = ogp.headers(developer, "POST", SAVE)
            statuses.append((await limited.post(SAVE, json=body, headers=headers)).status_code)
        headers = ogp.headers(developer, "GET", "/play/dev/points")
        query = {"gameId": game["id"], "playerId": "alice"}
        read = await limited.get("/play/dev/points", params=query, headers=headers)
        other = await ogp.developer("Other")
        headers = ogp.headers(other, "POST", SAVE)
        elsewhere = await limited.post(SAVE, json=body, headers=headers)
        headers = ogp.headers(developer, "POST", SAVE)
        refused = await limited.post(SAVE, json=body, headers=headers)
    assert statuses == [200, 200, 200, 429]
    assert refused.json()["statusCode"] == 429 and refused.json()["error"] == "Too Many Requests"
    assert int(refused.headers["Retry-After"]) >= 1
    # Only batch saves count, and per developer: reads and other developers go on.
    assert read.status_code == 200 and read.json()["data"]["totalPoints"] == 3
    assert elsewhere.status_code == 403
