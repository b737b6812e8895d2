"""A matchmaking shard this process leads: its engine and what the engine's entries stand for.

The engine knows requests and servers by id and by numbers; the shard keeps the stored request
and server behind each entry, takes in news (an inbox of notes, or rows a scan found), and
applies what the database made of a tick. The notes are also what replicas tell each other
over pub/sub.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from gamekeeper.core.matchmaking.engine import Engine
from gamekeeper.core.matchmaking.engine_types import QueuedRequest, ServerSlot
from gamekeeper.core.matchmaking.sessions import TickRecord
from gamekeeper.core.matchmaking.types import GameServer, MatchRequest, MatchSession
from gamekeeper.infra.matchboard import Board

# Notes between replicas. The tags are the wire names older replicas send and expect.


class Placed(msgspec.Struct, tag="_Placed"):
    request: MatchRequest


class Cancelled(msgspec.Struct, tag="_Cancelled"):
    game_id: str
    request_id: str


class ServerChanged(msgspec.Struct, tag="_Server"):
    server: GameServer


class Settled(msgspec.Struct, tag="_Settled"):
    origin: str
    sessions: list[MatchSession]
    failed: list[tuple[str, str, str, str]]  # request id, game id, player id, reason


News = Placed | Cancelled | ServerChanged
Note = News | Settled
_encoder = msgspec.msgpack.Encoder()
_decoder: msgspec.msgpack.Decoder[Note] = msgspec.msgpack.Decoder(Note)


def encode(note: Note) -> bytes:
    return _encoder.encode(note)


def decode(message: bytes) -> Note:
    return _decoder.decode(message)


def ts(moment: datetime) -> float:
    return moment.timestamp()


def _queued(request: MatchRequest) -> QueuedRequest:
    return QueuedRequest(
        id=request.id,
        project_id=request.game_id,
        team_sizes=request.team_sizes,
        match_tag=request.match_tag,
        server_tag=request.server_tag,
        rating=request.rating,
        enqueued_at=ts(request.created_at),
        deadline=ts(request.deadline_at),
    )


@dataclass(slots=True)
class Shard:
    engine: Engine
    board: Board  # the process's board: a request it already settled is not taken again
    requests: dict[str, MatchRequest] = field(default_factory=dict)
    servers: dict[tuple[str, str], GameServer] = field(default_factory=dict)
    inbox: list[News] = field(default_factory=list)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Held from a tick's decision until its record is applied, and by scans: a scan that read
    # rows before a tick's record committed must not put the tick's requests back.
    busy: asyncio.Lock = field(default_factory=asyncio.Lock)

    def drain(self, now: datetime) -> None:
        """Take in the notes that arrived since the last tick."""
        notes, self.inbox = self.inbox, []
        for note in notes:
            match note:
                case Placed(request=request):
                    self.take_request(request)
                case Cancelled(request_id=request_id):
                    self.drop_request(request_id)
                case ServerChanged(server=server):
                    self.take_server(server, now)

    def take_request(self, request: MatchRequest) -> None:
        if request.id in self.engine or self.board.settled(request.id):
            return
        self.requests[request.id] = request
        self.engine.add(_queued(request))

    def drop_request(self, request_id: str) -> None:
        self.engine.cancel(request_id)
        self.requests.pop(request_id, None)

    def take_server(self, server: GameServer, now: datetime) -> None:
        key = (server.game_id, server.name)
        known = self.servers.get(key)
        if known is not None and known.updated_at > server.updated_at:
            return
        self.servers[key] = server
        if server.expires_at <= now:
            self.engine.remove_server(*key)
            return
        self.engine.register_server(
            ServerSlot(server.game_id, server.name, server.server_tag, ts(server.expires_at))
        )
        if server.session_id is None:
            self.engine.release_server(*key)
        else:
            self.engine.occupy_server(*key)

    def take_scan(
        self, requests: Sequence[MatchRequest], servers: Sequence[GameServer], now: datetime
    ) -> None:
        """Rows of this shard read from the database: the waiting join, the others leave."""
        for server in servers:
            self.take_server(server, now)
        for request in requests:
            if request.status == "waiting":
                self.take_request(request)
            elif request.id in self.engine:
                self.drop_request(request.id)

    def apply(self, record: TickRecord) -> list[tuple[str, str, str, str]]:
        """Apply what the database made of a tick; returns the failures as ``Settled`` has them."""
        for queued in record.returned:
            self.engine.add(queued)
        for key in record.lost_servers:
            self.engine.remove_server(*key)
        for session in record.sessions:
            for member in session.members:
                self.requests.pop(member.request_id, None)
        failed: list[tuple[str, str, str, str]] = []
        for request, reason in record.failed:
            self.requests.pop(request.id, None)
            failed.append((request.id, request.game_id, request.player_id, reason))
        return failed
