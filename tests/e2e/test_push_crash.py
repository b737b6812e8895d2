"""At-least-once push: ``gamekeeper worker`` killed with SIGKILL three times during a fan-out.

One notification goes to 10,000 iOS devices of one linked player. ``gamekeeper serve`` takes the
send (its own relay off, so only workers deliver); a worker carries it to an APNs stand-in in this
process (a real HTTP/2 server checking the provider token and Apple's headers) and is killed
each time the stand-in has seen a few thousand more requests (a mark chosen at random near 1,500,
4,500 and 7,500), then started again. A killed worker's claims come back when their lease ends:
the workers run with the shortest lease allowed (``push_lease_seconds`` = 10).

A player may register at most 20 devices, so the 10,000 are written straight into the test
database, sealed as registration seals them, under the secret key the processes share.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import insert, select

from gamekeeper.core import accounts
from gamekeeper.core.audit import Actor
from gamekeeper.core.notify.devices import token_context
from gamekeeper.core.secrets import SecretBox, hash_secret
from gamekeeper.db.database import Database
from gamekeeper.db.tables.notify import push_delivery, push_device
from gamekeeper.settings import normalize_database_url
from support.processes import clean_env, gamekeeper
from support.push.apns import ApnsStandIn, serving
from support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

DEVICES = 10_000
KILL_MARKS = (1_500, 4_500, 7_500)  # stand-in requests; a kill happens somewhat after each
LEASE = 10  # seconds a worker owns its claims: the least push_lease_seconds allows
DEADLINE = 110.0  # the whole run, kills and lease expiries included
SECRET_KEY = secrets.token_urlsafe(32)  # seals the device tokens; serve and workers share it
ADMIN_TOKEN = "gk_admin_" + secrets.token_urlsafe(24)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
TEAM_ID, KEY_ID, TOPIC = "TEAM123456", "KEY7654321", "com.example.crash"
ORIGIN = "https://play.example.com"
GAME_USER = "crash-user-1"


@dataclass
class Workers:
    """``gamekeeper worker`` processes, one at a time; every one is killed at teardown."""

    env: dict[str, str]
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self) -> None:
        number = len(self.started)
        with (
            (self.logs / f"worker-{number}.out").open("wb") as out,
            (self.logs / f"worker-{number}.err").open("wb") as err,
        ):
            self.started.append(
                subprocess.Popen(
                    [*gamekeeper(), "worker"], env=self.env, stdout=out, stderr=err,
                    start_new_session=True,
                )
            )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL: in-flight requests and unwritten outcomes are lost."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.started[-1].pid, signal.SIGKILL)
        self.started[-1].wait(10)

    def stop(self) -> int:
        self.started[-1].terminate()
        return self.started[-1].wait(30)

    def alive(self) -> None:
        process = self.started[-1]
        if process.poll() is not None:
            err = (self.logs / f"worker-{len(self.started) - 1}.err").read_text()
            pytest.fail(f"the worker exited with {process.returncode}:\n{err[-3000:]}")

    def cleanup(self) -> None:
        for process in self.started:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


@pytest.fixture
def apns(tmp_path: Path) -> Iterator[tuple[ApnsStandIn, dict[str, str]]]:
    """The stand-in, and the worker settings that send to it with the deployment's credentials."""
    key = ec.generate_private_key(ec.SECP256R1())
    authority = trustme.CA()
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    credentials = {"apns": {"keyP8": pem, "keyId": KEY_ID, "teamId": TEAM_ID, "topic": TOPIC}}
    (tmp_path / "push.json").write_text(json.dumps(credentials))
    stand_in = ApnsStandIn(
        team_id=TEAM_ID, key_id=KEY_ID, public_key=key.public_key(), topic=TOPIC, _ca=authority
    )
    with serving(stand_in):
        yield (
            stand_in,
            {
                "GAMEKEEPER_PUSH_CREDENTIALS_FILE": str(tmp_path / "push.json"),
                "GAMEKEEPER_PUSH_APNS_BASE_URL": stand_in.url,
                "GAMEKEEPER_PUSH_CA_FILE": str(tmp_path / "ca.pem"),
            },
        )


@pytest.fixture
def workers(
    fresh_database: str, apns: tuple[ApnsStandIn, dict[str, str]], tmp_path: Path
) -> Iterator[Workers]:
    env = clean_env(
        GAMEKEEPER_DATABASE_URL=fresh_database,
        GAMEKEEPER_SECRET_KEY=SECRET_KEY,
        GAMEKEEPER_ADMIN_TOKEN=ADMIN_TOKEN,
        GAMEKEEPER_DATA_DIR=str(tmp_path / "worker-data"),
        GAMEKEEPER_LOG_LEVEL="WARNING",
        GAMEKEEPER_PUSH_LEASE_SECONDS=str(LEASE),
        **apns[1],
    )
    pool = Workers(env, tmp_path)
    try:
        yield pool
    finally:
        pool.cleanup()


# --- setting up: a game, its key, a linked player with 10,000 devices -------------------------


def _game_and_player(url: str) -> tuple[dict[str, str], str, str]:
    """A game's key headers, and a device-signed-in player's id and the game's link token."""
    game = httpx.post(
        f"{url}/admin/v1/games", json={"name": "Crash", "allowedOrigins": [ORIGIN]}, headers=ADMIN
    ).json()
    issued = httpx.post(
        f"{url}/admin/v1/games/{game['id']}/keys", json={"kind": "server"}, headers=ADMIN
    ).json()
    key = {"Authorization": f"Bearer {issued['key']}"}
    player = httpx.post(f"{url}/api/v1/auth/device", json={"deviceId": "crash-device-0001"})
    assert player.status_code in (200, 201), player.text
    link = httpx.post(
        f"{url}/api/v1/auth/account-link-token",
        json={"gameUserId": GAME_USER, "redirectUrl": f"{ORIGIN}/callback"},
        headers=key,
    )
    assert link.status_code == 200, link.text
    return key, player.json()["user"]["id"], link.json()["linkToken"]


async def _link_and_seed(database_url: str, player_id: str, link_token: str) -> list[str]:
    """Confirm the link as the player would, and give the player ``DEVICES`` iOS devices."""
    db = Database(normalize_database_url(database_url))
    box, tokens = SecretBox(SECRET_KEY), [secrets.token_hex(32) for _ in range(DEVICES)]
    try:
        async with db.transaction() as uow:
            await accounts.confirm_link(
                uow, token=link_token, player_id=player_id, actor=Actor("player", player_id)
            )
            now = uow.now()
            rows = []
            for number, token in enumerate(tokens):
                token_hash = hash_secret(token)
                rows.append({
                    "id": f"crash-device-{number:05d}", "player_id": player_id, "game_id": None,
                    "platform": "ios", "provider": "apns", "token_hash": token_hash,
                    "token_sealed": box.seal(token, context=token_context(token_hash)),
                    "topics": None, "active": True, "created_at": now, "updated_at": now,
                })  # fmt: skip
            await uow.conn.execute(insert(push_device), rows)
    finally:
        await db.close()
    return tokens


async def _delivery_ids(database_url: str) -> dict[str, tuple[str, int]]:
    """Each device's delivery: (delivery id, attempts)."""
    db = Database(normalize_database_url(database_url))
    try:
        async with db.transaction(write=False) as uow:
            rows = await uow.conn.execute(
                select(push_device.c.token_sealed, push_device.c.token_hash)
                .add_columns(push_delivery.c.id, push_delivery.c.attempts)
                .join(push_delivery, push_delivery.c.device_id == push_device.c.id)
            )
            box = SecretBox(SECRET_KEY)
            return {
                box.open(sealed, context=token_context(token_hash)): (delivery_id, attempts)
                for sealed, token_hash, delivery_id, attempts in rows
            }
    finally:
        await db.close()


# --- the run ---------------------------------------------------------------------------------


def _until(condition: Callable[[], object], deadline: float, workers: Workers, what: str) -> None:
    left = deadline - time.monotonic()
    wait_until(condition, what=what, within=left, every=0.05, check=workers.alive)


def test_every_device_gets_the_fan_out_though_the_worker_is_killed_three_times(
    start_server: Callable[..., Any],
    fresh_database: str,
    apns: tuple[ApnsStandIn, dict[str, str]],
    workers: Workers,
    tmp_path: Path,
) -> None:
    stand_in, _ = apns
    server = start_server(
        tmp_path / "serve-data",
        GAMEKEEPER_DATABASE_URL=fresh_database,
        GAMEKEEPER_SECRET_KEY=SECRET_KEY,
        GAMEKEEPER_ADMIN_TOKEN=ADMIN_TOKEN,
        GAMEKEEPER_PUSH_ENABLED="false",  # only the workers deliver
        GAMEKEEPER_PUSH_SEND_WAIT="0",
    )
    key, player_id, link_token = _game_and_player(server.url)
    tokens = asyncio.run(_link_and_seed(fresh_database, player_id, link_token))
    note = {"type": "match_ready", "title": "Your match is ready", "body": "Tap to join"}
    sent = httpx.post(
        f"{server.url}/api/v1/notifications/send",
        json={"recipient": {"gameUserId": GAME_USER}, "notification": note},
        headers=key,
        timeout=60,
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "queued"
    notification_id = sent.json()["id"]

    deadline = time.monotonic() + DEADLINE
    at_kill = []
    workers.start()
    for mark in KILL_MARKS:
        at = mark + random.randrange(1_000)

        def seen(at: int = at) -> bool:
            return len(stand_in.requests) >= at

        _until(seen, deadline, workers, f"the stand-in saw {at} requests")
        workers.kill()
        at_kill.append(len(stand_in.requests))
        workers.start()

    def everyone_has_it() -> bool:
        return len({r.token for r in stand_in.accepted}) >= DEVICES

    _until(everyone_has_it, deadline, workers, "every device received the notification")

    def settled() -> dict[str, Any] | None:
        status = httpx.get(
            f"{server.url}/api/v1/notifications/status/{notification_id}", headers=key
        ).json()
        return status if status["counts"] == {"delivered": DEVICES} else None

    _until(settled, deadline, workers, "every delivery is recorded as delivered")
    assert workers.stop() == 0
    status = settled()
    requests = list(stand_in.requests)
    deliveries = asyncio.run(_delivery_ids(fresh_database))

    assert status is not None and status["status"] == "delivered"
    assert status["deliveredAt"] is not None
    apns_ids: dict[str, set[str]] = defaultdict(set)
    for request in requests:
        apns_ids[request.token].add(request.headers["apns-id"])
    assert {r.token for r in requests if r.status == 200} == set(tokens)
    # A duplicate is the same message to Apple: one apns-id per device, its delivery's id.
    assert {token: ids for token, ids in apns_ids.items() if len(ids) != 1} == {}
    assert {token: ids.pop() for token, ids in apns_ids.items()} == {
        token: delivery_id for token, (delivery_id, _) in deliveries.items()
    }
    copies = Counter(r.token for r in requests)
    retried = sum(1 for _, attempts in deliveries.values() if attempts > 1)
    print(
        f"\nstand-in requests at each kill: {at_kill}; {len(requests)} requests for {DEVICES} "
        f"devices: {len(requests) - len(copies)} duplicates ({max(copies.values())} copies at "
        f"most); {retried} deliveries sent again after a lease ended; "
        f"{len(workers.started)} workers"
    )
    assert retried > 0  # the kills did interrupt deliveries
