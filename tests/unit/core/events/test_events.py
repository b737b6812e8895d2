"""Event declarations, the retry schedule and the shape of webhook requests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

import gamekeeper.domains  # noqa: F401  (registers every domain's events)
from gamekeeper.core.errors import InvalidInput
from gamekeeper.core.events import policy
from gamekeeper.core.events.registry import check_types, describe, payload_of
from gamekeeper.core.events.store import WebhookFormat
from gamekeeper.core.events.types import Event
from gamekeeper.core.identity.events import GameUpdated
from gamekeeper.core.owners.types import Owner
from gamekeeper.infra.webhook_request import build

ROOT = Path(__file__).resolve().parents[4]
NOW = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
EVENT = Event(
    id="0b8c2a56-8a43-4b33-9b1e-3f7d2a1c9e10",
    type="game.updated",
    owner=Owner.game("g1"),
    aggregate_id="g1",
    payload={"gameId": "g1", "fields": ["name"], "live": True, "note": None},
    occurred_at=NOW,
)


def test_docs_list_every_declared_event():
    assert (ROOT / "docs" / "events.md").read_text().strip() == describe().strip()


def test_payloads_are_checked_against_their_declaration():
    assert payload_of("game.updated", GameUpdated(game_id="g", fields=["a"])) == {
        "gameId": "g",
        "fields": ["a"],
    }
    with pytest.raises(ValueError):
        payload_of("key.revoked", GameUpdated(game_id="g", fields=[]))
    with pytest.raises(InvalidInput):
        check_types(["game.updated", "no.such.event"])


def test_retry_schedule_then_dead():
    expected = [5, 300, 1800, 7200, 18000, 36000, 36000]
    assert [(policy.next_attempt(n, NOW) - NOW).total_seconds() for n in range(1, 8)] == expected
    assert policy.next_attempt(8, NOW) is None
    assert not policy.should_disable(NOW - timedelta(days=4, hours=23), NOW)
    assert policy.should_disable(NOW - timedelta(days=5), NOW)


def test_standard_request_verifies_with_the_reference_library():
    secret = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body, headers = build(EVENT, WebhookFormat.STANDARD, secret, datetime.now(UTC))
    payload = StandardWebhook(secret).verify(body, headers)
    assert payload["id"] == EVENT.id and payload["data"]["fields"] == ["name"]
    assert headers["webhook-id"] == EVENT.id


def test_form_request_as_the_kongregate_callback_documents_it():
    body, headers = build(EVENT, WebhookFormat.FORM, "the-api-key", NOW)
    assert headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert form["event"] == "game.updated" and form["api_key"] == "the-api-key"
    assert form["time"] == "2026-03-04 05:06:07 +0000"
    assert json.loads(form["fields"]) == ["name"]
    assert form["live"] == "true" and form["note"] == "" and form["gameId"] == "g1"
