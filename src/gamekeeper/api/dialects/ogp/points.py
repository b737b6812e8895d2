"""Signed OGP points routes: a game's server saves its players' sessions and reads totals.

Batch saves count against the ``points_batch`` rate limit per developer (3/second by default),
besides the ``server`` limit every signed route counts against.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from gamekeeper.api.bodies import read_json
from gamekeeper.api.deps import DeveloperDep, ReadUow, WriteUow, body_first
from gamekeeper.api.dialects.ogp.schemas import Envelope, Wire
from gamekeeper.api.guards import rate_limit, require_hmac
from gamekeeper.core.catalog import points
from gamekeeper.core.catalog.points import MAX_BATCH
from gamekeeper.core.catalog.types import Award, Ranked

PlayerId = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
GameId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
# Large enough for any score, small enough that a day of full batches stays a BIGINT.
Points = Annotated[int, msgspec.Meta(ge=1, le=10**12)]
PlayerParam = Annotated[str, QueryParameter(name="playerId", min_length=1, max_length=255)]
GameParam = Annotated[str, QueryParameter(name="gameId", min_length=1, max_length=64)]
Limit = Annotated[int, QueryParameter(ge=1, le=100)]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000)]


class PointsIn(Wire):
    player_id: PlayerId
    points: Points


class BatchSaveIn(Wire):
    game_api_key: GameId
    points: Annotated[list[PointsIn], msgspec.Meta(max_length=MAX_BATCH)]


async def read_batch(request: Request[Any, Any, Any]) -> BatchSaveIn:
    """The body, decoded strictly: ``"10"`` or ``10.0`` is not a number of points."""
    return await read_json(request, BatchSaveIn, code="invalid_body")


class AwardOut(Wire):
    player_id: str
    requested: int
    awarded: int
    clipped: bool
    reason: str | None

    @classmethod
    def of(cls, value: Award) -> AwardOut:
        reason = None if value.reason is None else value.reason.value
        return cls(
            player_id=value.player_id,
            requested=value.requested,
            awarded=value.awarded,
            clipped=value.clipped,
            reason=reason,
        )


class BatchSaveOut(Wire):
    saved: int  # sessions recorded: entries refused by maxSessionsPerDay are not
    results: list[AwardOut]


class PlayerPointsOut(Wire):
    game_id: str
    player_id: str
    total_points: int
    total_sessions: int
    today: date
    today_points: int
    today_sessions: int


class RankOut(Wire):
    rank: int
    player_id: str
    points: int

    @classmethod
    def of(cls, value: Ranked) -> RankOut:
        return cls(rank=value.rank, player_id=value.player_id, points=value.points)


class LeaderboardOut(Wire):
    items: list[RankOut]
    total: int
    limit: int
    offset: int
    has_more: bool


@post(
    "/play/dev/batch-save-points",
    guards=[require_hmac, rate_limit("points_batch", per="developer")],
    dependencies=body_first(read_batch),
    status_code=200,
)
async def batch_save_points(
    payload: NamedDependency[BatchSaveIn], write_uow: WriteUow, principal: DeveloperDep
) -> Envelope[BatchSaveOut]:
    awards = await points.save_points(
        write_uow,
        game_id=payload.game_api_key,
        developer_id=principal.developer_id,
        entries=[(entry.player_id, entry.points) for entry in payload.points],
    )
    saved = sum(1 for award in awards if award.recorded)
    return Envelope(data=BatchSaveOut(saved=saved, results=[AwardOut.of(a) for a in awards]))


@get("/play/dev/points", guards=[require_hmac])
async def player_points(
    game_id: GameParam, player_id: PlayerParam, read_uow: ReadUow, principal: DeveloperDep
) -> Envelope[PlayerPointsOut]:
    tally, today = await points.player_points(
        read_uow, game_id=game_id, developer_id=principal.developer_id, player_id=player_id
    )
    return Envelope(
        data=PlayerPointsOut(
            game_id=game_id,
            player_id=player_id,
            total_points=tally.points,
            total_sessions=tally.sessions,
            today=today,
            today_points=tally.day_points,
            today_sessions=tally.day_sessions,
        )
    )


@get("/play/dev/leaderboard/{game_id:str}", guards=[require_hmac])
async def leaderboard(
    game_id: FromPath[str],
    read_uow: ReadUow,
    principal: DeveloperDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Envelope[LeaderboardOut]:
    ranked, total = await points.leaderboard(
        read_uow, game_id=game_id, developer_id=principal.developer_id, limit=limit, offset=offset
    )
    items = [RankOut.of(r) for r in ranked]
    has_more = offset + len(items) < total
    page = LeaderboardOut(items=items, total=total, limit=limit, offset=offset, has_more=has_more)
    return Envelope(data=page)


ROUTES = [batch_save_points, player_points, leaderboard]
