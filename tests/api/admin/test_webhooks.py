"""Webhooks end to end: admin API → outbox → in-process relay → a real receiver on loopback."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook

from gamekeeper.core.events.policy import RETRY_DELAYS
from support.provision import ADMIN, audit_actions, new_game
from support.receiver import receiver
from support.waiting import until

pytestmark = pytest.mark.anyio
LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture
async def client(make_client):
    async with make_client(outbound_allowed_networks=LOOPBACK) as client:
        yield client


async def _webhook(client, game, url, **fields):
    response = await client.post(
        f"/admin/v1/games/{game}/webhooks", json={"url": url, **fields}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _deliveries(client, game, hook):
    path = f"/admin/v1/games/{game}/webhooks/{hook}/deliveries"
    return (await client.get(path, headers=ADMIN)).json()["items"]


async def test_standard_webhook_signature_verifies_independently(client, clock):
    clock.now = datetime.now(UTC)  # verifiers refuse timestamps far from their own time
    with receiver() as hook_server:
        game = await new_game(client)
        hook = await _webhook(client, game, hook_server.url)
        assert hook["secret"].startswith("whsec_") and hook["format"] == "standard"
        listed = (await client.get(f"/admin/v1/games/{game}/webhooks", headers=ADMIN)).json()
        assert hook["secret"] not in str(listed)
        sent = await client.post(
            f"/admin/v1/games/{game}/webhooks/{hook['id']}/test", headers=ADMIN
        )
        assert sent.status_code == 202
        [request] = hook_server.wait_for(1)
    verified = StandardWebhook(hook["secret"]).verify(request.body, request.headers)
    assert verified["type"] == "webhook.test" and verified["id"] == sent.json()["eventId"]
    assert verified["data"] == {"webhookId": hook["id"], "message": "Test event from Gamekeeper"}
    assert request.headers["webhook-id"] == sent.json()["eventId"]
    tampered = request.body.replace(b"Test", b"Fake")
    with pytest.raises(Exception, match="signature"):
        StandardWebhook(hook["secret"]).verify(tampered, request.headers)


async def test_game_callback_url_is_a_form_webhook_to_every_event(client, clock):
    with receiver() as callback:
        game = await new_game(client, callbackUrl=callback.url)
        [managed] = (await client.get(f"/admin/v1/games/{game}/webhooks", headers=ADMIN)).json()[
            "items"
        ]
        assert managed["managed"] and managed["format"] == "form" and managed["eventTypes"] == []
        chosen = "my-kongregate-style-api-key-123"
        rotated = await client.post(
            f"/admin/v1/games/{game}/webhooks/{managed['id']}/secret",
            json={"secret": chosen},
            headers=ADMIN,
        )
        assert rotated.json() == {"secret": chosen}
        await client.patch(f"/admin/v1/games/{game}", json={"name": "Renamed"}, headers=ADMIN)
        [request] = callback.wait_for(1)
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {k: v[0] for k, v in parse_qs(request.body.decode(), strict_parsing=True).items()}
    assert form["event"] == "game.updated" and form["api_key"] == chosen
    assert form["time"] == clock.now.strftime("%Y-%m-%d %H:%M:%S +0000")
    assert form["gameId"] == game and json.loads(form["fields"]) == ["name"]
    refused = await client.delete(f"/admin/v1/games/{game}/webhooks/{managed['id']}", headers=ADMIN)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "managed_webhook"
    await client.patch(f"/admin/v1/games/{game}", json={"callbackUrl": None}, headers=ADMIN)
    assert (await client.get(f"/admin/v1/games/{game}/webhooks", headers=ADMIN)).json()[
        "items"
    ] == []


async def test_filters_replay_and_delivery_listing(client):
    with receiver() as hook_server:
        game = await new_game(client)
        hook = await _webhook(client, game, hook_server.url, eventTypes=["key.revoked"])
        await client.patch(f"/admin/v1/games/{game}", json={"name": "Filtered out"}, headers=ADMIN)
        key = (
            await client.post(
                f"/admin/v1/games/{game}/keys", json={"kind": "server"}, headers=ADMIN
            )
        ).json()
        await client.delete(f"/admin/v1/keys/{key['id']}", headers=ADMIN)
        [first] = hook_server.wait_for(1)
        assert json.loads(first.body)["type"] == "key.revoked"
        [delivery] = await until(
            lambda: _delivered(client, game, hook["id"]), what="the delivery is recorded"
        )
        assert delivery["lastStatus"] == 200 and delivery["attempts"] == 1
        replay = await client.post(
            f"/admin/v1/games/{game}/webhooks/{hook['id']}/deliveries/{delivery['id']}/replay",
            headers=ADMIN,
        )
        assert replay.status_code == 202
        _, second = hook_server.wait_for(2)
    assert second.headers["webhook-id"] == first.headers["webhook-id"]  # same message, again
    assert "delivery.replayed" in [e["action"] for e in await audit_actions(client)]
    delivered_twice = 'gamekeeper_deliveries_total{outcome="delivered",sink="webhook"} 2.0'

    async def metrics() -> str | None:  # counted once the relay has the receiver's answer
        text = (await client.get("/metrics")).text
        return text if delivered_twice in text else None

    metrics = await until(metrics, what="both deliveries are counted")
    assert "gamekeeper_outbox_lag_seconds" in metrics
    other_game = await new_game(client, "Other")
    foreign = await client.get(
        f"/admin/v1/games/{other_game}/webhooks/{hook['id']}/deliveries", headers=ADMIN
    )
    assert foreign.status_code == 404


async def _delivered(client, game, hook):
    items = await _deliveries(client, game, hook)
    return items if items and all(d["status"] == "delivered" for d in items) else None


async def test_retries_follow_the_schedule_then_the_delivery_is_dead(client, clock):
    with receiver(lambda r: setattr(r, "status", 503)) as failing:
        game = await new_game(client)
        hook = await _webhook(client, game, failing.url)
        await client.post(f"/admin/v1/games/{game}/webhooks/{hook['id']}/test", headers=ADMIN)
        for attempt, delay in enumerate(RETRY_DELAYS, start=1):
            failing.wait_for(attempt)
            expected = (clock.now + delay).isoformat().replace("+00:00", "Z")
            # The outcome of attempt n is recorded with the next time on the schedule.
            await until(
                lambda n=attempt, at=expected: _scheduled(client, game, hook["id"], n, at),
                what=f"attempt {attempt} is recorded with its retry time",
            )
            assert len(failing.requests) == attempt  # nothing before its time
            clock.advance(delay.total_seconds())  # the relay's next poll finds it due
        failing.wait_for(len(RETRY_DELAYS) + 1)
        [dead] = [
            d
            for d in await until(
                lambda: _has_dead(client, game, hook["id"]), what="the delivery is dead"
            )
            if d["status"] == "dead"
        ]
    assert dead["attempts"] == len(RETRY_DELAYS) + 1 and dead["lastStatus"] == 503


async def _scheduled(client, game, hook, attempts, at):
    items = [d for d in await _deliveries(client, game, hook) if d["eventType"] == "webhook.test"]
    return bool(items) and items[-1]["attempts"] == attempts and items[-1]["nextAttemptAt"] == at


async def _has_dead(client, game, hook):
    items = await _deliveries(client, game, hook)
    return items if any(d["status"] == "dead" for d in items) else None


async def test_an_endpoint_failing_for_five_days_is_disabled_and_audited(client, clock):
    with receiver(lambda r: setattr(r, "status", 500)) as failing:
        game = await new_game(client)
        hook = await _webhook(client, game, failing.url)
        path = f"/admin/v1/games/{game}/webhooks/{hook['id']}"
        await client.post(path + "/test", headers=ADMIN)
        failing.wait_for(1)
        await until(lambda: _field(client, path, "failingSince"), what="the webhook is failing")
        clock.advance(timedelta(days=5).total_seconds())
        await client.post(path + "/test", headers=ADMIN)
        failing.wait_for(2)
        disabled = await until(lambda: _disabled(client, path), what="the webhook is disabled")
    assert disabled["disabledReason"] == "failing"
    entry = next(e for e in await audit_actions(client) if e["action"] == "webhook.disabled")
    assert entry["targetId"] == hook["id"] and entry["gameId"] == game
    enabled = (await client.patch(path, json={"enabled": True}, headers=ADMIN)).json()
    assert enabled["enabled"] and enabled["failingSince"] is None


async def _field(client, path, name):
    return (await client.get(path, headers=ADMIN)).json()[name]


async def _disabled(client, path):
    body = (await client.get(path, headers=ADMIN)).json()
    return body if not body["enabled"] else None


async def test_a_dead_endpoint_does_not_delay_a_healthy_one(make_client):
    async with make_client(outbound_allowed_networks=LOOPBACK, outbound_timeout=5) as client:
        with (
            receiver(lambda r: setattr(r, "delay", 4.0)) as stuck,
            receiver() as healthy,
        ):
            game = await new_game(client)
            await _webhook(client, game, stuck.url)
            await _webhook(client, game, healthy.url)
            started = time.monotonic()
            for n in range(30):
                await client.patch(f"/admin/v1/games/{game}", json={"name": f"n{n}"}, headers=ADMIN)
            healthy.wait_for(30, timeout=3.5)
            elapsed = time.monotonic() - started
    assert elapsed < 3.5  # all 30 arrived while the stuck endpoint still held its first answers


async def test_bad_webhook_input(client):
    game = await new_game(client)
    base = f"/admin/v1/games/{game}/webhooks"
    bad_url = await client.post(base, json={"url": "ftp://x.example"}, headers=ADMIN)
    assert bad_url.json()["error"]["code"] == "invalid_url"
    bad_type = await client.post(
        base, json={"url": "https://x.example", "eventTypes": ["nope"]}, headers=ADMIN
    )
    assert bad_type.json()["error"]["code"] == "invalid_event_types"
    bad_format = await client.post(
        base, json={"url": "https://x.example", "format": "xml"}, headers=ADMIN
    )
    assert bad_format.status_code == 400
    chosen_standard = await client.post(
        base, json={"url": "https://x.example", "secret": "x" * 20}, headers=ADMIN
    )
    assert chosen_standard.json()["error"]["code"] == "invalid_secret"
    assert (await client.get(base + "/nope", headers=ADMIN)).status_code == 404
    assert (await client.get("/admin/v1/games/nope/webhooks", headers=ADMIN)).status_code == 404
