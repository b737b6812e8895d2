"""The domains this server runs: importing their events modules registers the events they send.

The composition root imports this module, so every event type is known before the first
request. A new domain adds its events module here (one line).

``python -m gamekeeper.domains > docs/events.md`` regenerates the event reference.
"""

from __future__ import annotations

from gamekeeper.core.accounts import events as accounts_events
from gamekeeper.core.cast import events as cast_events
from gamekeeper.core.catalog import events as catalog_events
from gamekeeper.core.events import events as outbox_events
from gamekeeper.core.events.registry import describe
from gamekeeper.core.identity import events as identity_events
from gamekeeper.core.matchmaking import events as matchmaking_events
from gamekeeper.core.notify import events as notify_events

EVENT_MODULES = (
    identity_events,
    outbox_events,
    catalog_events,
    accounts_events,
    matchmaking_events,
    notify_events,
    cast_events,
)

if __name__ == "__main__":
    print(describe())
