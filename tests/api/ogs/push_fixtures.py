"""The app with all four push providers stood in on loopback, and short ways through its API.

``serving_stand_ins`` starts APNs (HTTP/2 over TLS), FCM (OAuth2 token endpoint and HTTP v1),
Expo and a Web Push service; ``push_settings`` points the app at them through the deployment's
default credentials (``push_credentials_file``) and the providers' base URLs. The push relay
does not run by itself (``push_enabled`` off): a test runs its rounds by hand with
``Scene.relay()`` and moves the app's clock in between, so nothing races it. ``Phone`` is a
device of one provider and what its stand-in saw for it.

``Gate`` is a TCP forwarder in front of a stand-in that a test shuts (connections refused: the
provider is down) and opens again on the same port.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from conftest import FakeClock
from support.loopback import free_port
from support.provision import audit_actions, in_app, new_game, new_key
from support.push import apns, expo, fcm, webpush

NOTIFY = "/api/v1/notifications"
LOOPBACK = ["127.0.0.0/8"]
TEAM_ID = "TEAM123456"
KEY_ID = "KEY7654321"
TOPIC = "com.example.trivia"
EXPO_ACCESS_TOKEN = "expo-access-" + "0123456789abcdef"
RECEIPT_DELAY = 15  # seconds, push_receipt_delay

NOTE = {
    "type": "game_invitation",
    "title": "New Invitation",
    "body": "PlayerOne invited you — ünïcode",
    "data": {"gameId": "trivia-456"},
    "deepLink": "opengame://trivia-jam/join/trivia-456",
}


def apns_token() -> str:
    return secrets.token_hex(32)


def fcm_token() -> str:
    return "fcm:" + secrets.token_urlsafe(40)


def expo_token() -> str:
    return f"ExponentPushToken[{secrets.token_urlsafe(16)}]"


@dataclass
class StandIns:
    apns: apns.ApnsStandIn
    fcm: fcm.FcmService
    expo: expo.ExpoService
    webpush: webpush.WebPushService
    ca_file: str
    credentials_file: str


@contextmanager
def serving_stand_ins(tmp_path: Path) -> Iterator[StandIns]:
    """The four stand-ins, and the deployment's credentials for them in a file in ``tmp_path``."""
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    account = fcm.service_account()
    apple_key = {"keyP8": pem, "keyId": KEY_ID, "teamId": TEAM_ID, "topic": TOPIC}
    credentials = tmp_path / "push-credentials.json"
    credentials.write_text(
        json.dumps(
            {
                "apns": {**apple_key, "environment": "sandbox"},
                "fcm": {"serviceAccount": account},
                "expo": {"accessToken": EXPO_ACCESS_TOKEN},
            }
        )
    )
    apple = apns.ApnsStandIn(
        team_id=TEAM_ID, key_id=KEY_ID, public_key=key.public_key(), topic=TOPIC, _ca=ca
    )
    with (
        apns.serving(apple),
        fcm.serving(account) as google,
        expo.serving(access_token=EXPO_ACCESS_TOKEN) as exponent,
        webpush.serving(ca) as browsers,
    ):
        yield StandIns(apple, google, exponent, browsers, str(ca_file), str(credentials))


def push_settings(stand_ins: StandIns) -> dict[str, Any]:
    """The app's settings for the stand-ins; sends answer at once, the relay runs by hand."""
    return {
        "push_credentials_file": stand_ins.credentials_file,
        "push_apns_base_url": stand_ins.apns.url,
        "push_fcm_base_url": stand_ins.fcm.url,
        "push_fcm_token_url": stand_ins.fcm.token_url,
        "push_expo_base_url": stand_ins.expo.url,
        "push_ca_file": stand_ins.ca_file,
        "push_receipt_delay": RECEIPT_DELAY,
        "outbound_allowed_networks": LOOPBACK,
        "push_send_wait": 0,
        "push_enabled": False,
        "access_token_ttl": 30 * 24 * 3600,  # players stay signed in while the clock moves on
    }


class Scene:
    """One game with a server key, its linked players, and the push API as a game and a player
    use it; the relay's rounds and the app's clock in the test's hands."""

    def __init__(
        self, client, stand_ins: StandIns, clock: FakeClock, game_id: str, key: dict
    ) -> None:
        self.client = client
        self.providers = stand_ins
        self.clock = clock
        self.game_id = game_id
        self.key = key

    @classmethod
    async def start(cls, client, stand_ins: StandIns, clock: FakeClock) -> Scene:
        game_id = await new_game(
            client, name="Trivia Jam", allowedOrigins=["https://play.example.com"]
        )
        key = await new_key(client, game_id)
        return cls(client, stand_ins, clock, game_id, {"Authorization": f"Bearer {key['key']}"})

    async def player(self, game_user_id: str = "user-123") -> dict[str, str]:
        """A signed-up player linked to ``game_user_id``; the player's headers."""
        from gamekeeper.core import accounts
        from gamekeeper.core.audit import Actor

        signed = await self.client.post(
            "/api/v1/auth/signup",
            json={"email": f"{game_user_id}@example.com", "password": "correct horse battery"},
        )
        assert signed.status_code == 201, signed.text
        player_id = signed.json()["user"]["id"]
        issued = await self.client.post(
            "/api/v1/auth/account-link-token",
            json={"gameUserId": game_user_id, "redirectUrl": "https://play.example.com/cb"},
            headers=self.key,
        )
        assert issued.status_code == 200, issued.text

        async def confirm(runtime):
            async with runtime.db.transaction() as uow:
                await accounts.confirm_link(
                    uow, token=issued.json()["linkToken"], player_id=player_id,
                    actor=Actor("player", player_id),
                )  # fmt: skip

        in_app(self.client, confirm)
        return {"Authorization": f"Bearer {signed.json()['sessionToken']}"}

    async def register(self, player: dict[str, str], platform: str, token: Any) -> str:
        """Register a device (``ios``/``android`` token, or a web subscription); its id."""
        answer = await self.client.post(
            f"{NOTIFY}/register", json={"deviceToken": token, "platform": platform},
            headers=player,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        return str(answer.json()["deviceId"])

    async def send(self, game_user_id: str = "user-123", **note: Any) -> dict[str, Any]:
        body = {"recipient": {"gameUserId": game_user_id}, "notification": {**NOTE, **note}}
        answer = await self.client.post(f"{NOTIFY}/send", json=body, headers=self.key)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def status(self, notification_id: str) -> dict[str, Any]:
        answer = await self.client.get(f"{NOTIFY}/status/{notification_id}", headers=self.key)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def devices(self, player: dict[str, str]) -> dict[str, dict[str, Any]]:
        """The player's devices by id."""
        answer = await self.client.get(f"{NOTIFY}/devices", headers=player)
        assert answer.status_code == 200, answer.text
        return {d["deviceId"]: d for d in answer.json()["devices"]}

    def relay(self) -> int:
        """One push relay round; how many deliveries it claimed."""

        async def once(runtime) -> int:
            return int(await runtime.push.relay.run_once())

        return int(in_app(self.client, once))

    def later(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def events(self, event_type: str) -> list[dict[str, Any]]:
        """The payloads of the game's outbox events of ``event_type``, oldest first."""
        from gamekeeper.db.tables.events import event

        async def read(runtime) -> list[dict[str, Any]]:
            async with runtime.db.read() as uow:
                rows = await uow.conn.execute(
                    select(event.c.payload)
                    .where(event.c.game_id == self.game_id, event.c.type == event_type)
                    .order_by(event.c.seq)
                )
                return [dict(payload) for (payload,) in rows]

        found: list[dict[str, Any]] = in_app(self.client, read)
        return found

    async def audit(self, action: str) -> list[dict[str, Any]]:
        return [e for e in await audit_actions(self.client) if e["action"] == action]


@dataclass
class Phone:
    """A device of one provider: what it registers with, and what its stand-in saw for it."""

    provider: str  # apns | fcm | expo | webpush
    platform: str
    token: Any  # the deviceToken it registers with
    browser: webpush.Browser | None = None  # a web device's subscription at the stand-in
    id: str = ""  # the deviceId, once registered

    @classmethod
    def of(cls, provider: str, stand_ins: StandIns) -> Phone:
        if provider == "apns":
            return cls(provider, "ios", apns_token())
        if provider == "fcm":
            return cls(provider, "android", fcm_token())
        if provider == "expo":
            return cls(provider, "ios", expo_token())
        browser = stand_ins.webpush.browser()
        return cls(provider, "web", browser.subscription(), browser)

    @property
    def secret(self) -> str:
        """What must never be shown or logged: the token (a subscription's endpoint id)."""
        return self.browser.id if self.browser is not None else str(self.token)

    def requests(self, stand_ins: StandIns) -> int:
        """How many pushes for this device reached its stand-in, whatever they were answered
        (Expo's records only requests past the failures scripted with ``fail``)."""
        return len(self._seen(stand_ins, accepted=False))

    def received(self, stand_ins: StandIns) -> list[dict[str, Any]]:
        """The notifications its stand-in accepted for it, in the shape the game sent them."""
        return [_notification(self.provider, raw) for raw in self._seen(stand_ins, accepted=True)]

    def _seen(self, s: StandIns, *, accepted: bool) -> list[Any]:
        if self.provider == "apns":
            found = [r for r in s.apns.requests if r.token == self.token]
            return [r.payload for r in found if r.status == 200 or not accepted]
        if self.provider == "fcm":
            sends = [x for x in s.fcm.sends if x.message.get("token") == self.token]
            return [x.message for x in sends if x.status == 200 or not accepted]
        if self.provider == "expo":
            sent = [m for batch in s.expo.sends for m in batch if m.get("to") == self.token]
            if not accepted:
                return sent
            ok = list(s.expo.tickets.values()).count(self.token)  # tickets come in order
            return sent[len(sent) - ok :]
        assert self.browser is not None
        pushes = [p for p in s.webpush.pushes if p.path == f"/push/{self.browser.id}"]
        return [p.payload for p in pushes if p.status == 201 or not accepted]


def _notification(provider: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A provider's payload back in the shape of the notification the game sent."""
    if provider == "webpush":
        return raw
    if provider == "apns":
        alert = raw["aps"]["alert"]
        title, body, data = alert["title"], alert["body"], dict(raw)
        del data["aps"]
        return {"title": title, "body": body, **data}
    shown = raw["notification"] if provider == "fcm" else raw
    data = dict(raw["data"])
    ours = {name: data.pop(name) for name in ("id", "type", "deepLink") if name in data}
    return {"title": shown["title"], "body": shown["body"], "data": data, **ours}


class Gate:
    """A TCP forwarder on a fixed loopback port to ``target``: shut, it refuses connections."""

    def __init__(self, target_url: str) -> None:
        host, _, port = target_url.rpartition("//")[2].partition(":")
        self._target = (host, int(port))
        self.port = free_port()
        self.url = target_url.replace(f":{port}", f":{self.port}")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def open(self) -> None:
        self._run(self._open())

    def shut(self) -> None:
        self._run(self._shut())

    def close(self) -> None:
        self.shut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    async def _open(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._forward, "127.0.0.1", self.port, reuse_address=True
            )

    async def _shut(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        if server is not None:
            await server.wait_closed()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)
