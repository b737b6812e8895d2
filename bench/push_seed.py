"""What ``bench/push.py`` sets up: keys and certificates, and the database it sends from.

- ``Keys``: a throwaway CA and loopback certificate (``trustme``), an APNs team key, an FCM
  service account, the one key pair every bench browser subscription shares, and the
  deployment's credentials file the worker reads (``push_credentials_file``).
- ``Store``: migrates the throwaway database, creates the game, seeds players, account links and
  devices straight into the tables (a player may register only 20 devices, a fan-out needs
  thousands: tokens are sealed as registration seals them, under the worker's secret key), and
  sends through the core's ``send_notification``, as the send route does.

Device tokens follow ``device_token``: each provider's token shape, and the key its stand-in
files arrivals under (the token itself, or the Web Push subscription's id).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PROVIDERS = ("apns", "webpush", "fcm", "expo")
PLATFORM = {"apns": "ios", "webpush": "web", "fcm": "android", "expo": "ios"}
TEAM_ID, KEY_ID, TOPIC = "TEAMBENCH1", "KEYBENCH01", "com.example.bench"
INSERT_CHUNK = 5_000
NOTE = {"type": "match_ready", "title": "Your match is ready", "body": "Tap to join, Ana waits"}


def _pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip


def _public_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class Keys:
    directory: Path
    secret_key: str
    apns_key: ec.EllipticCurvePrivateKey
    fcm_key: rsa.RSAPrivateKey
    browser_key: ec.EllipticCurvePrivateKey
    browser_auth: bytes

    @classmethod
    def make(cls, directory: Path) -> Keys:
        ca = trustme.CA()
        ca.cert_pem.write_to_path(str(directory / "ca.pem"))
        cert = ca.issue_cert("127.0.0.1")
        cert.private_key_pem.write_to_path(str(directory / "standin.key"))
        cert.cert_chain_pems[0].write_to_path(str(directory / "standin.pem"))
        return cls(
            directory=directory,
            secret_key=secrets.token_urlsafe(32),
            apns_key=ec.generate_private_key(ec.SECP256R1()),
            fcm_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
            browser_key=ec.generate_private_key(ec.SECP256R1()),
            browser_auth=secrets.token_bytes(16),
        )

    @property
    def ca_file(self) -> str:
        return str(self.directory / "ca.pem")

    def fcm_account(self, token_url: str) -> dict[str, str]:
        return {
            "type": "service_account", "project_id": "gk-bench", "private_key_id": "bench" * 8,
            "private_key": _pem(self.fcm_key), "client_id": "1",
            "client_email": "bench@gk-bench.iam.gserviceaccount.com", "token_uri": token_url,
        }  # fmt: skip

    def standin_config(self, provider: str, port: int, control_port: int) -> dict[str, Any]:
        """What the stand-in process for ``provider`` needs to check requests."""
        config: dict[str, Any] = {
            "provider": provider, "port": port, "control_port": control_port,
            "certfile": str(self.directory / "standin.pem"),
            "keyfile": str(self.directory / "standin.key"),
        }  # fmt: skip
        if provider == "apns":
            config |= {"team_id": TEAM_ID, "key_id": KEY_ID, "topic": TOPIC}
            config["public_key"] = _public_pem(self.apns_key)
        elif provider == "webpush":
            config["origin"] = f"https://127.0.0.1:{port}"
            config["browser_key"] = _pem(self.browser_key)
            config["browser_auth"] = _b64url(self.browser_auth)
        elif provider == "fcm":
            account = self.fcm_account(f"http://127.0.0.1:{port}/token")
            config |= {k: account[k] for k in ("project_id", "client_email", "private_key_id")}
            config |= {"public_key": _public_pem(self.fcm_key), "token_url": account["token_uri"]}
        return config

    def credentials_file(self, fcm_token_url: str) -> str:
        """The deployment's default credentials (APNs, FCM, Expo) as the worker reads them."""
        path = self.directory / "push-credentials.json"
        apns = {"keyP8": _pem(self.apns_key), "keyId": KEY_ID, "teamId": TEAM_ID, "topic": TOPIC}
        credentials = {
            "apns": apns,
            "fcm": {"serviceAccount": self.fcm_account(fcm_token_url)},
            "expo": {},
        }
        path.write_text(json.dumps(credentials))
        return str(path)

    def device_token(self, provider: str, name: str, webpush_url: str) -> tuple[object, str]:
        """A device token of ``provider`` (as an app registers it) and its stand-in key."""
        if provider == "apns":
            token = hashlib.sha256(name.encode()).hexdigest()
            return token, token
        if provider == "fcm":
            token = f"bench-fcm:{name}-{hashlib.sha256(name.encode()).hexdigest()[:40]}"
            return token, token
        if provider == "expo":
            token = f"ExponentPushToken[{name}]"
            return token, token
        point = self.browser_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        keys = {"p256dh": _b64url(point), "auth": _b64url(self.browser_auth)}
        return {"endpoint": f"{webpush_url}/push/{name}", "keys": keys}, name


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass(frozen=True)
class Group:
    """Seeded recipients: game user ids and players; their devices' ids, stand-in keys and
    stored tokens (one list entry per device, in the users' order)."""

    provider: str
    users: list[str] = field(default_factory=list)
    players: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)


class Store:
    """The benchmark's side of the database: seeding and sending through the core."""

    def __init__(self, url: str, keys: Keys, redis_url: str | None, *, pool: int = 20) -> None:
        from gamekeeper.core.secrets import SecretBox
        from gamekeeper.db.database import Database
        from gamekeeper.infra.pubsub import PubSub, RedisPubSub
        from gamekeeper.settings import normalize_database_url

        self.pubsub: PubSub | None = RedisPubSub(redis_url) if redis_url else None
        self.pool = pool
        self.db = Database(normalize_database_url(url), pool_size=pool, on_commit=self._wake)
        self.box = SecretBox(keys.secret_key)
        self.keys = keys
        self.url = url
        self.game_id = ""
        self.lean: Any = None  # an asyncpg pool, for ``send_rows``

    async def _wake(self, events: Sequence[Any]) -> None:
        """What ``serve`` does after a send commits in a cluster: wake the workers."""
        from gamekeeper.core.notify.events import PushQueued
        from gamekeeper.runtime.push import WAKE_TOPIC

        if self.pubsub is not None and any(isinstance(e, PushQueued) for e in events):
            await self.pubsub.publish(WAKE_TOPIC, b"")

    async def setup(self) -> None:
        import asyncpg

        from gamekeeper.core.audit import Actor
        from gamekeeper.core.identity import games
        from gamekeeper.db.migrate import upgrade

        await upgrade(self.db.engine)
        if self.pubsub is not None:
            await self.pubsub.start()
        async with self.db.transaction() as uow:
            game = await games.create_game(uow, name="Bench", box=self.box, actor=Actor("admin"))
        self.game_id = game.id
        self.lean = await asyncpg.create_pool(self.url, min_size=self.pool, max_size=self.pool)

    async def seed(
        self, provider: str, group: str, *, users: int, devices_each: int, webpush_url: str
    ) -> Group:
        """``users`` linked players with ``devices_each`` devices of ``provider`` each."""
        from sqlalchemy import insert

        from gamekeeper.core.notify import tokens
        from gamekeeper.core.notify.devices import token_context
        from gamekeeper.core.notify.types import Platform
        from gamekeeper.core.secrets import hash_secret
        from gamekeeper.db.tables.accounts import account_link
        from gamekeeper.db.tables.identity import player
        from gamekeeper.db.tables.notify import push_device

        platform = Platform(PLATFORM[provider])
        seeded = Group(provider)
        players, links, devices = [], [], []
        async with self.db.transaction() as uow:
            now = uow.now()
            for u in range(users):
                player_id, user = str(uuid.uuid4()), f"{group}-{provider}-{u}"
                players.append({"id": player_id, "verified": False, "created_at": now})
                links.append({
                    "id": str(uuid.uuid4()), "game_id": self.game_id, "game_user_id": user,
                    "player_id": player_id, "linked_at": now,
                })  # fmt: skip
                seeded.users.append(user)
                seeded.players.append(player_id)
                for d in range(devices_each):
                    raw, key = self.keys.device_token(provider, f"{group}{u}x{d}", webpush_url)
                    _, stored = tokens.device_token(platform, raw)  # as registration checks it
                    token_hash = hash_secret(stored)
                    device_id = str(uuid.uuid4())
                    devices.append({
                        "id": device_id, "player_id": player_id, "game_id": None,
                        "platform": platform.value, "provider": provider,
                        "token_hash": token_hash, "topics": None, "active": True,
                        "token_sealed": self.box.seal(stored, context=token_context(token_hash)),
                        "created_at": now, "updated_at": now,
                    })  # fmt: skip
                    seeded.devices.append(device_id)
                    seeded.keys.append(key)
                    seeded.tokens.append(stored)
            for table, rows in ((player, players), (account_link, links), (push_device, devices)):
                for start in range(0, len(rows), INSERT_CHUNK):
                    await uow.conn.execute(insert(table), rows[start : start + INSERT_CHUNK])
        return seeded

    async def send(self, users: Sequence[str]) -> list[str]:
        """One notification to each of ``users``, all in one transaction; their ids."""
        from gamekeeper.core.notify import sends

        made = sends.content(**NOTE)
        async with self.db.transaction() as uow:
            return [
                (
                    await sends.send_notification(
                        uow, game_id=self.game_id, game_user_id=user, made=made
                    )
                ).id
                for user in users
            ]

    async def send_rows(self, group: Group, users: range) -> None:
        """The rows a send to each of ``group``'s ``users`` (one device each) writes: the
        notification and its pending delivery; one transaction, through asyncpg directly."""
        assert self.lean is not None
        now = datetime.now(UTC)
        ids = [str(uuid.uuid4()) for _ in users]
        notes = [
            (i, self.game_id, group.players[n], group.users[n], NOTE["type"], NOTE["title"],
             NOTE["body"], now)
            for i, n in zip(ids, users, strict=True)
        ]  # fmt: skip
        deliveries = [
            (str(uuid.uuid4()), i, group.devices[n], PLATFORM[group.provider], group.provider, now)
            for i, n in zip(ids, users, strict=True)
        ]
        async with self.lean.acquire() as conn, conn.transaction():
            await conn.executemany(
                "INSERT INTO notification (id, game_id, player_id, game_user_id, type, title,"
                " body, priority, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7,"
                " 'high', 'queued', $8)",
                notes,
            )
            await conn.executemany(
                "INSERT INTO push_delivery (id, notification_id, device_id, platform, provider,"
                " status, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5,"
                " 'pending', 0, $6, $6)",
                deliveries,
            )
        if self.pubsub is not None:
            from gamekeeper.runtime.push import WAKE_TOPIC

            await self.pubsub.publish(WAKE_TOPIC, b"")

    async def unsettled(self) -> int:
        """Deliveries not yet recorded as delivered (or failed)."""
        from sqlalchemy import func, select

        from gamekeeper.db.tables.notify import push_delivery

        async with self.db.transaction(write=False) as uow:
            statement = select(func.count()).where(push_delivery.c.status.in_(["pending", "sent"]))
            return int((await uow.conn.execute(statement)).scalar_one())

    async def failed(self) -> int:
        from sqlalchemy import func, select

        from gamekeeper.db.tables.notify import push_delivery

        async with self.db.transaction(write=False) as uow:
            statement = select(func.count()).where(push_delivery.c.status == "failed")
            return int((await uow.conn.execute(statement)).scalar_one())

    async def close(self) -> None:
        if self.lean is not None:
            await self.lean.close()
        if self.pubsub is not None:
            await self.pubsub.close()
        await self.db.close()
