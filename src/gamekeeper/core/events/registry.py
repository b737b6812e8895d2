"""Every event Gamekeeper sends, declared once with the shape of its payload.

``docs/events.md`` is generated from this registry (see ``describe``), and a test keeps the two
in step. Dialects add their events here as they land.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from gamekeeper.core.errors import InvalidInput


class Payload(msgspec.Struct, rename="camel", forbid_unknown_fields=True, kw_only=True):
    """Base of event payloads: camelCase on the wire."""


class GameUpdated(Payload):
    game_id: str
    fields: list[str]


class KeyRevoked(Payload):
    key_id: str
    prefix: str
    kind: str


class WebhookTest(Payload):
    webhook_id: str
    message: str


class RatedPlayer(msgspec.Struct, rename="camel", kw_only=True):
    player_id: str
    team_index: int
    rating: float | None  # conservative rating after this session; None when unrated


class SessionResult(Payload):
    session_id: str
    status: str  # finished | cancelled
    ranks: list[int] | None  # per team, 0 first; None when cancelled or unrated
    rated: bool
    decided_by: str  # server | clients | timeout (nobody reported in time)
    players: list[RatedPlayer]


class AccountLinked(Payload):
    game_user_id: str
    ogs_user_id: str


class AccountUnlinked(Payload):
    game_user_id: str
    ogs_user_id: str


class MatchFound(Payload):
    session_id: str
    teams: list[list[str]]  # player ids, team by team
    match_tag: str | None
    server_tag: str | None
    server: str | None  # the dedicated server's name; None peer to peer


class MatchFailed(Payload):
    request_id: str
    player_id: str
    reason: str  # noServer | timedOut


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    payload: type[Payload]
    description: str


EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType("game.updated", GameUpdated, "A game's settings changed."),
        EventType("key.revoked", KeyRevoked, "One of the game's API keys was revoked."),
        EventType("webhook.test", WebhookTest, "Sent on request, to check an endpoint."),
        EventType(
            "session.result",
            SessionResult,
            "A BattlePlace session ended: its result, and the ratings it gave.",
        ),
        EventType(
            "account.linked",
            AccountLinked,
            "A player confirmed the link to one of the game's users.",
        ),
        EventType(
            "account.unlinked", AccountUnlinked, "A player removed the link to the game's user."
        ),
        EventType("match.found", MatchFound, "The matchmaker formed a session."),
        EventType("match.failed", MatchFailed, "A match request failed: no server, or timed out."),
    )
}


def payload_of(event_type: str, payload: Payload) -> dict[str, Any]:
    """The payload as JSON-ready values, checked against the declared type."""
    declared = EVENT_TYPES.get(event_type)
    if declared is None or not isinstance(payload, declared.payload):
        raise ValueError(f"{event_type!r} is not declared with payload {type(payload).__name__}")
    result: dict[str, Any] = msgspec.to_builtins(payload)
    return result


def check_types(names: list[str]) -> list[str]:
    """Event-type filters must name declared types."""
    unknown = sorted(set(names) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(
            f"unknown event types {unknown}; known: {sorted(EVENT_TYPES)}",
            code="invalid_event_types",
        )
    return sorted(set(names))


def describe() -> str:
    """The event list as Markdown, with each payload's JSON schema."""
    lines = ["# Events", "", "Generated from `gamekeeper.core.events.registry`.", ""]
    for event_type in EVENT_TYPES.values():
        schema = msgspec.json.schema(event_type.payload)
        fields = schema["$defs"][event_type.payload.__name__]["properties"]
        lines += [
            f"## `{event_type.name}`",
            "",
            event_type.description,
            "",
            "| field | type |",
            "|---|---|",
        ]
        lines += [f"| `{name}` | {spec.get('type', 'object')} |" for name, spec in fields.items()]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m gamekeeper.core.events.registry > docs/events.md
    print(describe())
