"""Account events sent to games: links confirmed and removed."""

from __future__ import annotations

from gamekeeper.core.events.registry import EventType, Payload, register


class AccountLinked(Payload):
    game_user_id: str
    ogs_user_id: str


class AccountUnlinked(Payload):
    game_user_id: str
    ogs_user_id: str


register(
    EventType(
        "account.linked", AccountLinked, "A player confirmed the link to one of the game's users."
    ),
    EventType("account.unlinked", AccountUnlinked, "A player removed the link to the game's user."),
)
