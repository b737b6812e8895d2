"""Cast sessions: a game creates one, its TV page attaches as the receiver, players join with
the code the TV shows and send inputs, which reach the receiver in order.

The receiver's capability is in ``receiverUrl`` (a 256-bit key, stored as its SHA-256); the
join code is short for humans, sealed (the TV page shows it), bound to its session and tried
under a rate limit. Inputs are numbered per session and the last ``BACKLOG`` are kept, so a
receiver that reconnects resumes from the last one it acknowledged.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from gamekeeper.core import validate
from gamekeeper.core.cast.errors import (
    CastSessionEnded,
    CastSessionNotFound,
    GameUrlNotAllowed,
    InvalidReceiverKey,
    NotAController,
    SessionFull,
    WrongJoinCode,
)
from gamekeeper.core.cast.events import (
    CastControllerJoined,
    CastControllerSeated,
    CastInputRecorded,
    CastSessionFinished,
    CastSessionStarted,
)
from gamekeeper.core.cast.events import CastSessionEnded as SessionEndedEvent
from gamekeeper.core.cast.store import CastUow
from gamekeeper.core.cast.types import (
    CastInput,
    CastSession,
    CastStatus,
    Controller,
    Created,
    NewCastSession,
    Sent,
)
from gamekeeper.core.errors import Forbidden, InvalidInput, NotFound
from gamekeeper.core.events.outbox import record_event
from gamekeeper.core.owners.types import Owner
from gamekeeper.core.secrets import SecretBox, constant_time_equal, hash_secret, new_token

MAX_SEATS = 8
BACKLOG = 1000  # inputs kept per session for a receiver to resume
MAX_SESSION_DATA = 16 * 1024  # bytes of JSON
MAX_INPUT_DATA = 4 * 1024
MAX_DEPTH = 16
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read off a TV
CODE_LENGTH = 6
INPUT_TYPE = re.compile(r"[A-Za-z0-9_.:\-]{1,32}")


def _code_context(session_id: str) -> str:
    return f"cast-join:{session_id}"


def _json_object(value: object, field: str, most: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidInput(f"{field} must be a JSON object", code=f"invalid_{field.lower()}")
    _check_json(value, field, 0)
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    if size > most:
        raise InvalidInput(
            f"{field} is {size} bytes as JSON; at most {most}", code="payload_too_large"
        )
    return value


def _check_json(value: object, field: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{field} nests deeper than {MAX_DEPTH} levels", code="invalid_data")
    if isinstance(value, str) and "\x00" in value:
        raise InvalidInput(f"{field} may not hold NUL characters", code="invalid_data")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_json(key, field, depth + 1)
            _check_json(item, field, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_json(item, field, depth + 1)


async def _session(uow: CastUow, session_id: str) -> CastSession:
    found = await uow.cast.get_session(session_id) if validate.is_uuid(session_id) else None
    if found is None:
        raise CastSessionNotFound()
    return found


async def _live(uow: CastUow, session_id: str) -> CastSession:
    found = await _session(uow, session_id)
    if found.ended:
        raise CastSessionEnded()
    return found


async def create_session(
    uow: CastUow,
    *,
    game_id: str,
    body_game_id: str,
    game_url: str,
    session_data: object,
    box: SecretBox,
) -> Created:
    """A session for the game's TV page; the receiver key and join code come back once."""
    if body_game_id != game_id:
        raise Forbidden("gameId is not the game of this key", code="wrong_game")
    game = await uow.identity.get_game(game_id)
    if game is None:
        raise NotFound("no game with that id", code="game_not_found")
    validate.http_url(game_url, field="gameUrl")
    parts = urlsplit(game_url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    if origin not in game.allowed_origins:
        raise GameUrlNotAllowed()
    data = _json_object(session_data, "sessionData", MAX_SESSION_DATA)
    now = uow.now()
    session = CastSession(
        id=str(uuid.uuid4()),
        game_id=game_id,
        game_url=game_url,
        session_data=data,
        status=CastStatus.CREATED,
        created_at=now,
        last_activity_at=now,
    )
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    key = new_token()
    await uow.cast.add_session(
        NewCastSession(
            session=session,
            join_code_sealed=box.seal(code, context=_code_context(session.id)),
            receiver_key_hash=hash_secret(key),
        )
    )
    return Created(session=session, receiver_key=key, join_code=code)


async def get_session(
    uow: CastUow, *, session_id: str, game_id: str | None = None, player_id: str | None = None
) -> CastSession:
    """The session, for its game or one of its controllers; anyone else: not found."""
    found = await _session(uow, session_id)
    if game_id is not None and found.game_id == game_id:
        return found
    if player_id is not None and await uow.cast.controller(session_id, player_id) is not None:
        return found
    raise CastSessionNotFound()


async def end_session(uow: CastUow, *, session_id: str, game_id: str) -> CastSession:
    """End it (idempotent); the game hears ``cast.session.ended``."""
    found = await get_session(uow, session_id=session_id, game_id=game_id)
    if await uow.cast.end(session_id, uow.now(), "ended"):
        await _ended(uow, found, "ended")
    return await _session(uow, session_id)


async def _ended(uow: CastUow, session: CastSession, reason: str) -> None:
    uow.emit(SessionEndedEvent(session.id))
    await record_event(
        uow, "cast.session.ended", CastSessionFinished(session_id=session.id, reason=reason),
        owner=Owner.game(session.game_id), aggregate_id=session.id,
    )  # fmt: skip


async def _activity(uow: CastUow, session: CastSession) -> None:
    """Activity: the last activity moves; a created or idle session becomes active."""
    await uow.cast.touch(session.id, uow.now(), activate=True)
    if session.status is CastStatus.CREATED:
        await record_event(
            uow, "cast.session.started", CastSessionStarted(session_id=session.id),
            owner=Owner.game(session.game_id), aggregate_id=session.id,
        )  # fmt: skip


async def join(
    uow: CastUow, *, session_id: str, player_id: str, code: str, box: SecretBox
) -> Controller:
    """The player joins with the code the TV shows; a seat, kept if the player joins again."""
    session = await _live(uow, session_id)
    known = await uow.cast.controller(session_id, player_id)
    if known is not None:
        return known
    sealed = await uow.cast.join_code_sealed(session_id)
    expected = box.open(sealed, context=_code_context(session_id)) if sealed else ""
    if not expected or not constant_time_equal(code.strip().upper(), expected):
        raise WrongJoinCode()
    taken = {c.seat for c in await uow.cast.controllers(session_id)}
    free = [seat for seat in range(1, MAX_SEATS + 1) if seat not in taken]
    if not free:
        raise SessionFull()
    controller = Controller(session_id, player_id, free[0], uow.now())
    if not await uow.cast.add_controller(controller):  # a concurrent join took the seat
        raise SessionFull("That seat was just taken; join again")
    await _activity(uow, session)
    uow.emit(CastControllerSeated(session_id, controller.seat))
    await record_event(
        uow, "cast.controller.joined",
        CastControllerJoined(session_id=session_id, seat=controller.seat, ogs_user_id=player_id),
        owner=Owner.game(session.game_id), aggregate_id=session_id,
    )  # fmt: skip
    return controller


async def controller(uow: CastUow, *, session_id: str, player_id: str) -> Controller:
    """The player's seat in a live session; NotAController unless the player joined."""
    await _live(uow, session_id)
    found = await uow.cast.controller(session_id, player_id)
    if found is None:
        raise NotAController()
    return found


async def seats(uow: CastUow, *, session_id: str) -> list[int]:
    """The seats taken in the session, in order (what its receiver shows)."""
    return [c.seat for c in await uow.cast.controllers(session_id)]


async def send_input(
    uow: CastUow, *, session_id: str, player_id: str, input_type: str, input_data: object
) -> Sent:
    """A controller's input, numbered in the session's order; handed to the receiver after
    the commit."""
    session = await _live(uow, session_id)
    controller = await uow.cast.controller(session_id, player_id)
    if controller is None:
        raise NotAController()
    if not INPUT_TYPE.fullmatch(input_type):
        raise InvalidInput(
            "inputType must be 1 to 32 letters, digits or _.:-", code="invalid_input_type"
        )
    data = _json_object(input_data, "inputData", MAX_INPUT_DATA)
    stored = await uow.cast.add_input(
        CastInput(session_id, 0, controller.seat, input_type, data, uow.now()), keep=BACKLOG
    )
    await _activity(uow, session)
    uow.emit(CastInputRecorded(session_id, stored.seq))
    return Sent(stored, delivered=session.receiver_attached)


async def record_input(
    uow: CastUow, *, session_id: str, player_id: str, input_type: str, input_data: object
) -> Sent | None:
    """``send_input`` in one statement where the store can (a ``Database.autocommit`` unit):
    an active or idle session's input from one of its controllers. None for anything else
    (a session still created, whose start is an event to record; an unknown or ended one; a
    player not seated; an invalid input; a store without it): ``send_input`` then does it or
    says why, in a transaction."""
    if not validate.is_uuid(session_id) or not INPUT_TYPE.fullmatch(input_type):
        return None
    try:
        data = _json_object(input_data, "inputData", MAX_INPUT_DATA)
    except InvalidInput:
        return None
    draft = CastInput(session_id, 0, 0, input_type, data, uow.now())
    recorded = await uow.cast.record_input(draft, player_id=player_id, keep=BACKLOG)
    if recorded is None:
        return None
    stored, attached = recorded
    uow.emit(CastInputRecorded(session_id, stored.seq))
    return Sent(stored, delivered=attached)


async def attach_receiver(uow: CastUow, *, session_id: str, key: str) -> CastSession:
    """The TV page attaches with the key from its ``receiverUrl``."""
    session = await _live(uow, session_id)
    expected = await uow.cast.receiver_key_hash(session_id)
    if expected is None or not constant_time_equal(hash_secret(key), expected):
        raise InvalidReceiverKey()
    await uow.cast.set_receiver(session_id, True)
    await _activity(uow, session)
    return await _session(uow, session_id)


async def detach_receiver(uow: CastUow, *, session_id: str) -> None:
    await uow.cast.set_receiver(session_id, False)


async def acknowledge(uow: CastUow, *, session_id: str, seq: int) -> None:
    await uow.cast.ack(session_id, seq)


async def backlog(
    uow: CastUow, *, session_id: str, after: int, limit: int = BACKLOG
) -> list[CastInput]:
    """The inputs after ``after`` still kept, in order (a reconnecting receiver's catch-up)."""
    return await uow.cast.inputs_after(session_id, after, limit=limit)


async def join_code(uow: CastUow, *, session_id: str, key: str, box: SecretBox) -> str:
    """The join code, for the TV page that holds the receiver key."""
    await _live(uow, session_id)
    expected = await uow.cast.receiver_key_hash(session_id)
    if expected is None or not constant_time_equal(hash_secret(key), expected):
        raise InvalidReceiverKey()
    sealed = await uow.cast.join_code_sealed(session_id)
    assert sealed is not None
    return box.open(sealed, context=_code_context(session_id))


async def expire(uow: CastUow, *, idle_after: int, end_after: int) -> int:
    """Idle sessions without activity for ``idle_after`` s; end those idle ``end_after`` more."""
    now = uow.now()
    _, ended = await uow.cast.expire(
        idle_before=now - timedelta(seconds=idle_after),
        end_before=now - timedelta(seconds=idle_after + end_after),
        at=now,
    )
    for session in ended:
        await _ended(uow, session, "idle")
    return len(ended)
