"""Issue 12 (latency): a controller's input over the cast WebSocket is one statement committed
alone on PostgreSQL (the seat checked, the number taken, the session touched and activated,
the input stored, the backlog trimmed), and behaves as the transaction it replaces: same
numbers, same order, an idle session active again, the backlog bounded, the same errors.
A receiver's acknowledgements are stored every 10 s and when it goes, not once a second."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from api.ogs.test_cast_ws import CAST, Served, Table, client, seqs, serving  # noqa: F401
from conftest import ADMIN_TOKEN, SECRET_KEY
from gamekeeper.api.app import create_app
from gamekeeper.api.dialects.ogs import cast_ws
from gamekeeper.core.cast import sessions
from gamekeeper.settings import load_settings
from support.waiting import until

pytestmark = pytest.mark.anyio


class Statements:
    """The SQL statements the app runs on the cast tables."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, _conn, _cursor, statement: str, *_args) -> None:
        if "cast_" in statement:
            self.seen.append(statement)


@pytest.fixture
def statements() -> Statements:
    return Statements()


@pytest.fixture
def served(tmp_path, database_url, clock, statements) -> Iterator[Served]:
    """As test_cast_ws serves the app, with its cast statements counted."""
    settings = load_settings(
        env={}, data_dir=str(tmp_path / "data"), database_url=database_url,
        secret_key=SECRET_KEY, admin_token=ADMIN_TOKEN, log_level="WARNING",
        cast_expire_every=0.1,
    )  # fmt: skip
    app = create_app(settings, clock=clock)
    engine = app.state.runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", statements)
    with serving(app) as served:
        yield served
    event.remove(engine, "before_cursor_execute", statements)


@pytest.fixture
async def table(ogs, client, served) -> Table:  # noqa: F811
    return await Table(ogs, client, served).create()


async def _status(table: Table) -> str:
    found = await table.client.get(f"{CAST}/session/{table.sid}", headers=table.game_key)
    status: str = found.json()["status"]
    return status


@pytest.mark.databases("postgres")
async def test_a_socket_input_to_an_active_session_is_one_statement(table, statements):
    token = await table.player("ada")
    async with table.receiver() as tv, table.controller(token) as phone:
        assert (await tv.recv())["type"] == "attached"
        assert (await phone.recv())["type"] == "attached"
        statements.seen.clear()
        for n in range(5):
            await phone.send(type="input", id=n, inputType="tap", inputData={"n": n})
        acks = [await phone.recv() for _ in range(5)]
        got = await tv.inputs(5)
        ran = list(statements.seen)
    assert [(a["type"], a["seq"], a["status"]) for a in acks] == [
        ("ack", n, "delivered") for n in range(1, 6)
    ]
    assert [(f["seq"], f["seat"], f["inputData"]) for f in got] == [
        (n + 1, 1, {"n": n}) for n in range(5)
    ]
    # One statement per input (it was 5 in a transaction: session, seat, number, input, touch).
    # The receiver's ack store and the expiry loop run on their own schedule, not per input.
    # Other statements (acks, expiry, the receiver's reads) run on their own schedule; none of
    # the old path's (a seat read, a number taken) may run beside the five.
    inputs = [s for s in ran if "INSERT INTO cast_input" in s]
    old_path = [s for s in ran if s not in inputs and ("cast_controller" in s or "next_seq" in s)]
    assert len(inputs) == 5 and old_path == [], ran


async def test_an_idle_session_takes_a_socket_input_and_is_active_again(table, clock):
    token = await table.player("ada")
    async with table.controller(token) as phone:
        assert (await phone.recv())["type"] == "attached"
        clock.advance(1801)  # idle after 30 minutes without activity (the expiry loop sees it)

        async def idle() -> bool:
            return await _status(table) == "idle"

        await until(idle, what="the session idle", within=10)
        await phone.send(type="input", id=1, inputType="tap", inputData={"n": 1})
        ack = await phone.recv()
    assert (ack["type"], ack["seq"], ack["status"]) == ("ack", 1, "queued")
    found = (await table.client.get(f"{CAST}/session/{table.sid}", headers=table.game_key)).json()
    assert found["status"] == "active"
    assert found["lastActivityAt"] > found["createdAt"]  # the input counted as activity


async def test_socket_inputs_keep_only_the_backlog_and_a_receiver_resumes_in_it(table, monkeypatch):
    monkeypatch.setattr(sessions, "BACKLOG", 3)
    token = await table.player("ada")
    async with table.controller(token) as phone:
        assert (await phone.recv())["type"] == "attached"
        for n in range(7):
            await phone.send(type="input", id=n, inputType="tap", inputData={"n": n})
            assert (await phone.recv())["seq"] == n + 1
    async with table.receiver() as tv:
        assert (await tv.recv())["type"] == "attached"
        got = await tv.inputs(3)  # the last three of seven: 1 to 4 were trimmed
        await tv.send(type="ping")
        assert await tv.recv() == {"type": "pong"}
    assert seqs(got) == [5, 6, 7]
    assert [f["inputData"]["n"] for f in got] == [4, 5, 6]


async def test_a_bad_socket_input_and_an_ended_session_still_say_why(table):
    token = await table.player("ada")
    async with table.controller(token) as phone:
        assert (await phone.recv())["type"] == "attached"
        await phone.send(type="input", id=1, inputType="bad type!", inputData={})
        error = await phone.recv()
        assert (error["type"], error["id"], error["code"]) == ("error", 1, "invalid_input_type")
        await phone.send(type="input", id=2, inputType="tap", inputData={"n": 2})
        assert (await phone.recv())["seq"] == 1  # the refused one took no number
        ended = await table.client.delete(f"{CAST}/session/{table.sid}", headers=table.game_key)
        assert ended.json()["status"] == "terminated"
        assert await phone.recv() == {"type": "ended", "reason": "ended"}
    sent = await table.client.post(
        f"{CAST}/input", json={"sessionId": table.sid, "inputType": "tap", "inputData": {}},
        headers=table.ogs.bearer(token),
    )  # fmt: skip
    assert sent.json()["error"]["code"] == "cast_session_terminated"


class _Monotonic:
    """The gateway's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


async def test_acks_are_stored_every_ten_seconds_and_when_the_receiver_goes(
    table, statements, monkeypatch
):
    fake = _Monotonic()
    monkeypatch.setattr(cast_ws, "time", fake)
    token = await table.player("ada")

    def ack_writes() -> list[str]:
        return [s for s in statements.seen if s.startswith("UPDATE cast_session SET acked_seq")]

    async with table.receiver() as tv, table.controller(token) as phone:
        assert (await tv.recv())["type"] == (await phone.recv())["type"] == "attached"
        for n in range(1, 4):
            await phone.send(type="input", id=n, inputType="tap", inputData={"n": n})
            assert (await phone.recv())["seq"] == n
            assert (await tv.recv())["seq"] == n
            await tv.send(type="ack", seq=n)
            await tv.send(type="ping")
            assert await tv.recv() == {"type": "pong"}  # the ack was taken
            fake.now += 4  # an input every 4 s: the first ack is stored, the others wait
        assert len(ack_writes()) == 1  # was one per input (every ack more than 1 s apart)
    await until(lambda: len(ack_writes()) == 2, what="the last ack stored when the TV went")
