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
