"""The Expo push provider against a loopback stand-in of Expo's push service: tickets, receipts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gamekeeper.infra.push.base import Outcome, PushMessage, Verdict
from gamekeeper.infra.push.expo import ExpoProvider, is_expo_token
from support.loopback import free_port
from support.push.expo import ExpoService, serving

pytestmark = pytest.mark.anyio

ACCESS_TOKEN = "expo-access-token-0123456789abcdef"
TIMEOUT = 2.0


def device(n: int) -> str:
    return f"ExponentPushToken[device-{n:04d}]"


def push(token: str = "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]", **fields: object) -> PushMessage:
    values: dict[str, object] = {
        "delivery_id": "delivery-1",
        "token": token,
        "title": "New Invitation",
        "body": "PlayerOne invited you",
        "type": "game_invitation",
        "notification_id": "notification-123",
    }
    return PushMessage(**{**values, **fields})  # type: ignore[arg-type]


@pytest.fixture
def expo() -> Iterator[ExpoService]:
    with serving(access_token=ACCESS_TOKEN) as service:
        yield service


@pytest.fixture
async def provider(expo: ExpoService) -> AsyncIterator[ExpoProvider]:
    client = ExpoProvider(access_token=ACCESS_TOKEN, base_url=expo.url, timeout=TIMEOUT)
    yield client
    await client.aclose()


async def test_a_send_arrives_with_the_exact_body_and_answers_a_ticket(
    expo: ExpoService, provider: ExpoProvider
):
    rich = push(
        device(1),
        data={"gameId": "trivia-456", "round": 3},
        deep_link="opengame://trivia-jam/join/trivia-456",
        ttl=3600,
    )
    verdicts = await provider.send([rich, push(device(2), priority="normal")])

    assert [v.outcome for v in verdicts] == [Outcome.SENT, Outcome.SENT]
    assert [expo.tickets[v.receipt or ""] for v in verdicts] == [device(1), device(2)]
    common = {"title": "New Invitation", "body": "PlayerOne invited you", "sound": "default"}
    assert expo.sends == [
        [
            {
                "to": device(1),
                **common,
                "data": {
                    "gameId": "trivia-456",
                    "round": 3,
                    "id": "notification-123",
                    "type": "game_invitation",
                    "deepLink": "opengame://trivia-jam/join/trivia-456",
                },
                "priority": "high",
                "ttl": 3600,
            },
            {
                "to": device(2),
                **common,
                "data": {"id": "notification-123", "type": "game_invitation"},
                "priority": "normal",
            },
        ]
    ]


async def test_a_wrong_access_token_is_a_credential_error_for_every_message(expo: ExpoService):
    client = ExpoProvider(access_token="not-the-token", base_url=expo.url)
    try:
        verdicts = await client.send([push(device(1)), push(device(2))])
    finally:
        await client.aclose()
    assert verdicts == [Verdict(Outcome.CREDENTIAL_ERROR, "UNAUTHORIZED", status=401)] * 2
    assert expo.tickets == {}


async def test_250_messages_go_in_3_requests_and_answer_in_order(
    expo: ExpoService, provider: ExpoProvider
):
    tokens = [device(n) for n in range(250)]
    expo.ticket_errors[tokens[150]] = "DeviceNotRegistered"

    verdicts = await provider.send([push(token) for token in tokens])

    assert sorted(len(batch) for batch in expo.sends) == [50, 100, 100]
    assert len(verdicts) == 250
    assert verdicts[150] == Verdict(Outcome.DEVICE_GONE, "DeviceNotRegistered", status=200)
    sent = [(i, v) for i, v in enumerate(verdicts) if i != 150]
    assert all(
        v.outcome is Outcome.SENT and expo.tickets[v.receipt or ""] == tokens[i] for i, v in sent
    )


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        ("DeviceNotRegistered", Outcome.DEVICE_GONE),
        ("InvalidCredentials", Outcome.CREDENTIAL_ERROR),
        ("MessageTooBig", Outcome.FAILED),
        ("MessageRateExceeded", Outcome.RETRY),
        ("MismatchSenderId", Outcome.FAILED),
    ],
)
async def test_each_ticket_error_maps_to_its_outcome(
    expo: ExpoService, provider: ExpoProvider, error: str, outcome: Outcome
):
    expo.ticket_errors[device(2)] = error

    first, second, third = await provider.send([push(device(n)) for n in (1, 2, 3)])

    assert second == Verdict(outcome, error, status=200)
    assert device(2) not in second.reason  # Expo's message quotes the token; the reason does not
    assert first.outcome is third.outcome is Outcome.SENT


async def test_a_message_over_expos_limit_is_too_big_and_the_others_go(
    expo: ExpoService, provider: ExpoProvider
):
    verdicts = await provider.send([push(device(1), data={"blob": "x" * 5000}), push(device(2))])
    assert [v.outcome for v in verdicts] == [Outcome.FAILED, Outcome.SENT]
    assert verdicts[0].reason == "MessageTooBig"


@pytest.mark.parametrize(
    ("status", "retry_after", "outcome"),
    [(429, "30", Outcome.RETRY), (500, None, Outcome.RETRY), (503, "5", Outcome.RETRY)],
)
async def test_a_request_refused_as_a_whole_answers_every_message_alike(
    expo: ExpoService,
    provider: ExpoProvider,
    status: int,
    retry_after: str | None,
    outcome: Outcome,
):
    expo.fail(status, retry_after=retry_after)

    verdicts = await provider.send([push(device(1)), push(device(2))])

    wait = float(retry_after) if retry_after else None
    assert [(v.outcome, v.status, v.retry_after) for v in verdicts] == [(outcome, status, wait)] * 2
    assert [v.outcome for v in await provider.send([push(device(1))])] == [Outcome.SENT]


async def test_tokens_of_two_expo_projects_in_one_request_fail_as_expo_says(
    expo: ExpoService, provider: ExpoProvider
):
    expo.projects[device(2)] = "@someone/else"
    verdicts = await provider.send([push(device(1)), push(device(2))])
    assert verdicts == [Verdict(Outcome.FAILED, "PUSH_TOO_MANY_EXPERIENCE_IDS", status=400)] * 2


async def test_a_token_that_is_not_expos_fails_without_being_sent(
    expo: ExpoService, provider: ExpoProvider
):
    verdicts = await provider.send([push("fcm-registration-token"), push(device(1))])
    assert [v.outcome for v in verdicts] == [Outcome.FAILED, Outcome.SENT]
    assert [[m["to"] for m in batch] for batch in expo.sends] == [[device(1)]]


async def test_expo_down_means_retry_for_every_message_and_no_receipts():
    client = ExpoProvider(base_url=f"http://127.0.0.1:{free_port()}", timeout=TIMEOUT)
    try:
        verdicts = await client.send([push(device(1)), push(device(2))])
        assert [v.outcome for v in verdicts] == [Outcome.RETRY, Outcome.RETRY]
        assert await client.check_receipts(["some-receipt"]) == {}
    finally:
        await client.aclose()


async def test_receipts_turn_sent_into_delivered_or_device_gone(
    expo: ExpoService, provider: ExpoProvider
):
    delivered, gone, pending = await provider.send([push(device(n)) for n in (1, 2, 3)])
    receipts = [v.receipt or "" for v in (delivered, gone, pending)]
    expo.settle(receipts[0])
    expo.settle(receipts[1], "DeviceNotRegistered")

    settled = await provider.check_receipts(receipts)

    assert settled == {
        receipts[0]: Verdict(Outcome.DELIVERED, status=200),
        receipts[1]: Verdict(Outcome.DEVICE_GONE, "DeviceNotRegistered", status=200),
    }  # the third is not settled yet: asked again later
    expo.settle(receipts[2])
    assert await provider.check_receipts([receipts[2]]) == {
        receipts[2]: Verdict(Outcome.DELIVERED, status=200)
    }


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        ("InvalidCredentials", Outcome.CREDENTIAL_ERROR),
        ("MessageTooBig", Outcome.FAILED),
        ("MessageRateExceeded", Outcome.RETRY),
        ("MismatchSenderId", Outcome.FAILED),
    ],
)
async def test_each_receipt_error_maps_to_its_outcome(
    expo: ExpoService, provider: ExpoProvider, error: str, outcome: Outcome
):
    (ticket,) = await provider.send([push(device(1))])
    expo.settle(ticket.receipt or "", error)

    settled = await provider.check_receipts([ticket.receipt or ""])

    assert settled == {ticket.receipt: Verdict(outcome, error, status=200)}


async def test_more_than_300_receipts_are_asked_in_several_calls(
    expo: ExpoService, provider: ExpoProvider
):
    tickets = await provider.send([push(device(n)) for n in range(650)])
    expo.settle_all()

    settled = await provider.check_receipts([t.receipt or "" for t in tickets])

    assert sorted(len(ids) for ids in expo.receipt_requests) == [50, 300, 300]
    assert len(settled) == 650
    assert {v.outcome for v in settled.values()} == {Outcome.DELIVERED}


async def test_receipts_asked_while_expo_fails_are_not_settled_yet(
    expo: ExpoService, provider: ExpoProvider
):
    (ticket,) = await provider.send([push(device(1))])
    receipt = ticket.receipt or ""
    expo.settle(receipt, "DeviceNotRegistered")
    expo.fail(503)

    assert await provider.check_receipts([receipt]) == {}
    settled = await provider.check_receipts([receipt])  # Expo is back
    assert settled[receipt].outcome is Outcome.DEVICE_GONE


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]", True),
        ("ExpoPushToken[xxxxxxxxxxxxxxxxxxxxxx]", True),
        ("ExponentPushToken[]", False),
        ("ExponentPushToken[a b]", False),
        ("fcm-registration-token", False),
        ("ExponentPushToken[x]trailing", False),
    ],
)
def test_expo_tokens_are_told_from_others(token: str, expected: bool):
    assert is_expo_token(token) is expected
