"""Signed OGP points routes: a game's server saves its players' sessions and reads totals.

Batch saves count against the ``points_batch`` rate limit per developer (3/second by default),
besides the ``server`` limit every signed route counts against.

The Node SDK reads ``savedCount`` and ``playerIdToOgpId`` from a save, and ``points`` (a list of
``{playerId, points}``, today's points as a decimal string) from a player's points, which it
asks at ``/play/dev/points/{gameId}/{playerId}``; the documented ``?gameId&playerId`` form
answers the same. Player ids are kept as the game sends them: each maps to itself.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter, QueryParameter

from gamekeeper.api.bodies import read_json
from gamekeeper.api.deps import DeveloperDep, ReadUow, WriteUow, body_first
from gamekeeper.api.dialects.ogp.schemas import Envelope, Wire
from gamekeeper.api.guards import rate_limit, require_hmac
from gamekeeper.core.catalog import points
from gamekeeper.core.catalog.points import MAX_BATCH
from gamekeeper.core.catalog.store import CatalogUow
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
    saved_count: int  # the same, under the SDK's name
    player_id_to_ogp_id: dict[str, str] = msgspec.field(name="playerIdToOgpId")
    results: list[AwardOut]


class PointsEntryOut(Wire):
    player_id: str
    points: str  # today's points; a string, as the SDK types it (points may outgrow a double)


class PlayerPointsOut(Wire):
    game_id: str
    player_id: str
    points: list[PointsEntryOut]
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
    out = BatchSaveOut(
        saved=saved,
        saved_count=saved,
        player_id_to_ogp_id={award.player_id: award.player_id for award in awards},
        results=[AwardOut.of(a) for a in awards],
    )
    return Envelope(data=out)


@get("/play/dev/points", guards=[require_hmac])
async def player_points(
    game_id: GameParam, player_id: PlayerParam, read_uow: ReadUow, principal: DeveloperDep
) -> Envelope[PlayerPointsOut]:
    return await _player_points(read_uow, game_id, player_id, principal.developer_id)


@get("/play/dev/points/{game_id:str}/{player_id:str}", guards=[require_hmac])
async def player_points_by_path(
    game_id: Annotated[str, Parameter(min_length=1, max_length=64)],
    player_id: Annotated[str, Parameter(min_length=1, max_length=255)],
    read_uow: ReadUow,
    principal: DeveloperDep,
) -> Envelope[PlayerPointsOut]:
    """The SDK's ``play.getPoints``: the same answer as ``?gameId&playerId``."""
    return await _player_points(read_uow, game_id, player_id, principal.developer_id)


async def _player_points(
    uow: CatalogUow, game_id: str, player_id: str, developer_id: str
) -> Envelope[PlayerPointsOut]:
    tally, today = await points.player_points(
        uow, game_id=game_id, developer_id=developer_id, player_id=player_id
    )
    return Envelope(
        data=PlayerPointsOut(
            game_id=game_id,
            player_id=player_id,
            points=[PointsEntryOut(player_id=player_id, points=str(tally.day_points))],
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


ROUTES = [batch_save_points, player_points, player_points_by_path, leaderboard]
